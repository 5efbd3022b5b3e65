"""clinical.csv size and header width are checked before parsing (a million-column bomb)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from clinfusion.cohort import load_cohort_spec, read_clinical_table
from clinfusion.errors import CohortSpecError
from clinfusion.testing import write_tiny_cohort


def _wide(root: Path, n_cols: int) -> None:
    write_tiny_cohort(root, 2)
    header = "patient_id,survival_time,event," + ",".join(f"c{i}" for i in range(n_cols))
    row = ",".join(["PT0000", "10", "1", *["1"] * n_cols])
    (root / "clinical.csv").write_text(header + "\n" + row + "\n")


def test_million_columns_refused_under_a_memory_cap(tmp_path: Path) -> None:
    _wide(tmp_path / "c", 1_000_000)
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        from clinfusion.cohort import load_cohort_spec, read_clinical_table
        from clinfusion.errors import CohortSpecError
        try:
            read_clinical_table(load_cohort_spec({str(tmp_path / "c")!r}))
        except CohortSpecError as err:
            print(err)
            sys.exit(3)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 3, out.stderr[-2000:]
    assert "more than 10000 columns (limits.clinical_max_columns)" in out.stdout
    assert "clinical.csv" in out.stdout


def test_limits_are_configurable(tmp_path: Path) -> None:
    root = tmp_path / "c"
    _wide(root, 20)
    spec = yaml.safe_load((root / "cohort.yaml").read_text())
    spec["limits"] = {"clinical_max_columns": 10}
    (root / "cohort.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(CohortSpecError, match="more than 10 columns"):
        read_clinical_table(load_cohort_spec(root))
    spec["limits"] = {"clinical_max_bytes": 50}
    (root / "cohort.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(CohortSpecError, match="limits.clinical_max_bytes = 50"):
        read_clinical_table(load_cohort_spec(root))
    spec["limits"] = {"clinical_max_columns": 100}
    (root / "cohort.yaml").write_text(yaml.safe_dump(spec))
    assert len(read_clinical_table(load_cohort_spec(root)).frame.columns) == 23
