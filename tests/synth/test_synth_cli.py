"""`clinfusion synth` end to end on the cheap modalities."""

from __future__ import annotations

import json

import pandas as pd
from clinfusion.cli import main


def test_synth_command_writes_a_valid_cohort(tmp_path, capsys):
    out = tmp_path / "c"
    argv = ["synth", "--out", str(out), "--patients", "30", "--seed", "2", "--missing-rate", "0.3",
            "--missing", "mnar", "--modalities", "genomics,reports"]
    assert main(argv) == 0
    assert "oracle C-index" in capsys.readouterr().out
    summary = json.loads((out / "truth" / "summary.json").read_text())
    assert summary["config"]["missing"] == "mnar" and summary["n_patients"] == 30
    assert set(summary["missingness"]) == {"genomics", "reports"}
    assert not (out / "radiology").exists()
    assert len(pd.read_csv(out / "clinical.csv")) == 30
    assert main(["validate", str(out)]) == 0
    # a second run refuses to overwrite unless asked
    assert main(argv) == 1
    assert main([*argv, "--overwrite"]) == 0


def test_synth_command_rejects_bad_options(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "x"), "--scale", "huge"]) == 1
    assert "scale" in capsys.readouterr().err
    not_ours = tmp_path / "mine"
    not_ours.mkdir()
    (not_ours / "notes.txt").write_text("keep me")
    assert main(["synth", "--out", str(not_ours), "--overwrite"]) == 1
    assert (not_ours / "notes.txt").read_text() == "keep me"
