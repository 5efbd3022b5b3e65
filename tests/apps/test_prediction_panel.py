"""The prediction panel and the MLflow listing on the tiny trained workspace of conftest."""

from __future__ import annotations

import numpy as np
from clinfusion.review.predictions import load_predictions
from clinfusion.review.views import cohort_frame
from clinfusion.tracking.listing import list_runs, list_versions
from clinfusion.workspace import Workspace

from .conftest import N_PATIENTS
from .test_review_app import login


def test_listing_reads_the_real_training_run(review_ws, tmp_path):
    runs, versions = list_runs(review_ws), list_versions(review_ws)
    assert len(runs) == 1 and runs.loc[0, "status"] == "FINISHED"
    assert "metric:fusion.cindex_mean" in runs.columns and runs.loc[0, "param:bootstrap"] == "0"
    assert versions[["name", "version", "run_id"]].values.tolist() == [["clinfusion-fusion-synthetic", 1, runs.loc[0, "run_id"]]]
    assert list_runs(tmp_path).empty and list_versions(tmp_path).empty  # no store: nothing, and none created
    assert not (tmp_path / "mlflow.db").exists()


def test_predictions_cover_every_patient_with_band_contributions_and_neighbours(review_ws):
    preds, why = load_predictions(review_ws)
    assert why == "" and preds.model_version == "clinfusion-fusion-synthetic v1 (no registry alias)"
    ids = cohort_frame(Workspace.open(review_ws))["patient_id"].tolist()
    assert sorted(preds.table.index) == sorted(ids)
    pid = ids[0]
    band = preds.survival_band(pid)
    assert len(band) == 3 and (band["lower"] <= band["survival"] + 1e-6).all() and (band["survival"] <= band["upper"] + 1e-6).all()
    assert np.isclose(preds.diagnosis(pid).sum(), 1.0, atol=1e-4)
    assert 0 < preds.percentile(pid) <= 100
    contrib = preds.contributions(pid)
    assert {"genomics", "ecg"} <= set(contrib.index) and contrib["attention"].dropna().between(0, 1).all()
    similar = preds.similar(pid, k=3)
    assert len(similar) == 3 and pid not in set(similar["patient_id"]) and similar["similarity"].is_monotonic_decreasing


def test_patient_page_shows_the_prediction_panel(review_ws, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from .conftest import APP

    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    app = login(AppTest.from_file(str(APP), default_timeout=120), "clin")
    app.button(key="open_patient").click().run()
    assert not app.exception
    assert [m.label for m in app.metric if m.label.startswith("risk")] == ["risk percentile in the cohort", "risk group"]
    frames = [d.value for d in app.dataframe]
    assert any("probability" in f.columns for f in frames)  # diagnosis head
    assert any({"delta_risk", "attention"} <= set(f.columns) for f in frames)
    assert any("similarity" in f.columns and len(f) == min(5, N_PATIENTS - 1) for f in frames)
    assert len(app.image) >= 5  # CT, slide thumbnail + overlay, ECG, survival curve with band
