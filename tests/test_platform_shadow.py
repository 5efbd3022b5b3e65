"""The repository's platform/ folder must never shadow the standard library module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_platform_package_init() -> None:
    assert not (REPO / "platform" / "__init__.py").exists()


def test_import_platform_from_repo_root_is_stdlib() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import platform, sysconfig; print(platform.__file__); print(platform.python_version())"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert Path(out[0]).parent == Path(__import__("sysconfig").get_paths()["stdlib"])
    assert out[1].startswith("3.")


def test_import_clinfusion_is_light() -> None:
    code = "import sys, clinfusion, clinfusion.cohort, clinfusion.workspace; print(sorted(m for m in ('torch','mlflow','pydicom','openslide','torch_geometric') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
