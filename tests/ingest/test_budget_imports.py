"""Budgeted jobs hand the modules they imported to the parent, so later forks do not import them again."""

from __future__ import annotations

import sys
import types

import pytest
from clinfusion.ingest.budget import run_with_budget

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="budget workers fork on Linux")


def _import_and_report(name: str) -> tuple[str, bool]:
    """Imports ``name`` in the worker; says whether the worker had it before (inherited from the parent)."""
    had = name in sys.modules
    __import__(name)
    return name, had


def _register_fake(_: int) -> str:
    """Registers a module that exists only in this process (the parent cannot import it)."""
    sys.modules["clinfusion_scale_fake_module"] = types.ModuleType("clinfusion_scale_fake_module")
    return "done"


def test_second_job_inherits_the_first_jobs_imports() -> None:
    name = "tabnanny"  # stdlib, small, imported by nothing in the test suite
    sys.modules.pop(name, None)
    first = list(run_with_budget(_import_and_report, [name], seconds=60))
    assert first == [(name, ("ok", (name, False)))]
    assert name in sys.modules  # adopted by the parent after the job ended
    second = list(run_with_budget(_import_and_report, [name], seconds=60))
    assert second == [(name, ("ok", (name, True)))]  # the forked worker already had it


def test_a_module_the_parent_cannot_import_is_skipped() -> None:
    out = list(run_with_budget(_register_fake, [1, 2], seconds=60, workers=2))
    assert sorted(out) == [(1, ("ok", "done")), (2, ("ok", "done"))]
    assert "clinfusion_scale_fake_module" not in sys.modules
