"""CSV exports neutralise spreadsheet formulas (issue 23, OWASP CSV injection)."""

from __future__ import annotations

import pandas as pd
import pytest
from clinfusion.cli.app import main as cli
from clinfusion.ingest.runner import ingest
from clinfusion.testing import write_tiny_cohort
from clinfusion.workspace.csvsafe import csv_safe, safe_cell

PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_cells_prefixed(payload):
    assert safe_cell(payload) == "'" + payload


def test_numbers_and_plain_text_untouched():
    df = pd.DataFrame({"n": [-1.5, 2.0], "i": [-3, 4], "s": ["-x", "ok"], "mixed": [-2, "=1"]})
    out = csv_safe(df)
    assert out["n"].tolist() == [-1.5, 2.0] and out["i"].tolist() == [-3, 4]
    assert out["s"].tolist() == ["'-x", "ok"] and out["mixed"].tolist() == [-2, "'=1"]
    assert df["s"].tolist() == ["-x", "ok"]  # a copy: the caller's frame is not changed


def test_clinfusion_export_csv_is_safe(tmp_path):
    tc = write_tiny_cohort(tmp_path / "cohort", n_patients=3)
    clinical = pd.read_csv(tc.root / "clinical.csv")
    clinical.loc[0, "diagnosis"] = "=HYPERLINK(\"http://evil\",\"x\")"
    clinical.to_csv(tc.root / "clinical.csv", index=False)
    ws = ingest(tc.root, tmp_path / "ws", demo=True).workspace
    out = tmp_path / "clinical.csv"
    code = cli(["export", str(ws.root), "--modality", "clinical", "--out", str(out)])
    assert code in (0, None)
    text = out.read_text()
    cells = [c for line in text.splitlines() for c in line.split(",")]
    assert not any(c.lstrip('"').startswith(("=", "+", "@")) for c in cells), text
    assert "'=HYPERLINK" in text
