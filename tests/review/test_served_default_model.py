"""The app's cross-validated C-index is that of the run's registered (default) model."""

from __future__ import annotations

import json

from clinfusion.review.predictions import _cv_metrics, _read_json


def _write(tmp_path, summary):
    (tmp_path / "metrics.json").write_text(json.dumps(summary))
    return _cv_metrics(_read_json(tmp_path / "metrics.json"))


def test_cindex_shown_is_the_default_models(tmp_path):
    models = {"stack": {"cindex_pooled": 0.74, "cindex_pooled_ci95": [0.7, 0.8], "cindex_sd": 0.02},
              "fusion": {"cindex_pooled": 0.70, "cindex_pooled_ci95": [0.6, 0.75], "cindex_sd": 0.03}}
    got = _write(tmp_path, {"default_model": "stack", "folds": 5, "models": models})
    assert got["cindex"] == 0.74 and got["cindex_ci95"] == (0.7, 0.8) and got["folds"] == 5
    assert _write(tmp_path, {"default_model": "fusion", "folds": 5, "models": models})["cindex"] == 0.70


def test_runs_before_the_stack_report_fusion(tmp_path):
    got = _write(tmp_path, {"folds": 3, "models": {"fusion": {"cindex_pooled": 0.66, "cindex_sd": 0.1}}})
    assert got["cindex"] == 0.66 and got["cindex_ci95"] is None
