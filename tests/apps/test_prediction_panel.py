"""The prediction panel and the MLflow listing on the tiny trained workspace of conftest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.review.predictions import load_predictions
from clinfusion.review.workspace_data import cohort_frame, ingested
from clinfusion.testing.app_images import inline_images
from clinfusion.tracking.listing import list_runs, list_versions
from clinfusion.workspace import Workspace

from .conftest import N_PATIENTS
from .test_review_app import login


def test_listing_reads_the_real_training_run(review_ws, tmp_path):
    runs, versions = list_runs(review_ws), list_versions(review_ws)
    assert len(runs) == 1 and runs.loc[0, "status"] == "FINISHED"
    assert "metric:fusion.cindex_mean" in runs.columns and runs.loc[0, "param:bootstrap"] == "0"
    assert versions[["name", "version", "run_id"]].values.tolist() == [["clinfusion-fusion-synthetic", 1, runs.loc[0, "run_id"]]]
    assert versions.loc[0, "aliases"] == "champion"  # first registration
    assert list_runs(tmp_path).empty and list_versions(tmp_path).empty  # no store: nothing, and none created
    assert not (tmp_path / "mlflow.db").exists()


def test_predictions_cover_every_patient_with_band_contributions_and_neighbours(review_ws):
    preds, why = load_predictions(review_ws)
    assert why == "" and preds.model_version == "clinfusion-fusion-synthetic v1 (alias: champion)"
    ids = cohort_frame(Workspace.open(review_ws))["patient_id"].tolist()
    assert sorted(preds.table.index) == sorted(ids)
    # every training patient is shown its out-of-fold prediction: the row of the fold model that held it out
    assert preds.table["source"].eq("out-of-fold").all()
    folds = preds.fold_table
    held = folds[folds["held_out"]].set_index("patient_id")
    assert sorted(held.index) == sorted(ids) and (held["fold"] == preds.table.loc[held.index, "fold"]).all()
    assert np.allclose(preds.table.loc[held.index, "risk"], held["risk"])
    assert preds.source(ids[0]).startswith("out-of-fold (fold ")
    assert set(preds.risk_group()) <= {"low", "intermediate", "high"}
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
    assert len(inline_images(app)) >= 5  # CT, slide thumbnail + overlay, ECG, survival curve with band
    assert any(c.value.startswith("model: clinfusion-fusion-synthetic v1 (alias: champion)") for c in app.caption)


def test_training_logs_token_attention_with_slide_tiles(review_ws):
    preds, _ = load_predictions(review_ws)
    att = pd.read_parquet(preds.artifact_dir / "token_attention.parquet")
    assert set(att["patient_id"]) <= set(preds.table.index) and "pathology" in set(att["modality"])
    assert np.allclose(att.groupby(["patient_id", "modality"])["weight"].sum(), 1.0, atol=1e-5)
    path = att[att["modality"] == "pathology"]
    items = set(ingested(Workspace.open(review_ws), "pathology")["item_id"])
    assert set(path["source"]) <= items and path["pos_0"].notna().all()


def _patient_with_pathology(review_ws) -> str:
    frame = cohort_frame(Workspace.open(review_ws))
    return frame.loc[frame["has_pathology"], "patient_id"].iloc[0]


def _open_patient(review_ws, monkeypatch, pid):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from .conftest import APP

    st.cache_data.clear()  # the app's cached loaders live in this process
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    app = login(AppTest.from_file(str(APP), default_timeout=120), "clin")
    app.session_state["patient"] = pid
    app.switch_page("views/patient.py").run()
    assert not app.exception
    return app


@pytest.fixture
def fresh_cache():
    import streamlit as st

    yield
    st.cache_data.clear()


def test_pathology_tab_overlays_tile_attention(review_ws, monkeypatch, fresh_cache):
    app = _open_patient(review_ws, monkeypatch, _patient_with_pathology(review_ws))
    captions = [c.value for c in app.caption]
    assert any("heatmap: the final model's attention-pooling weight per tile" in c for c in captions)
    assert any("switches to the attribution: integrated gradients" in c for c in captions)  # second layer
    assert any("fused embeddings" in m.value for m in app.markdown)


def test_older_runs_show_captions_and_pooled_token_neighbours(review_ws, monkeypatch, fresh_cache):
    """A run without embeddings.csv and token_attention.parquet (trained before they were logged)."""
    from clinfusion.review import attention, predictions

    real = predictions._optional
    monkeypatch.setattr(predictions, "_optional", lambda run, name: None if name == "embeddings.csv" else real(run, name))
    monkeypatch.setattr(attention, "ATTENTION_FILE", "no_such_file.parquet")
    app = _open_patient(review_ws, monkeypatch, _patient_with_pathology(review_ws))
    assert not [c for c in app.caption if "attention-pooling weight per tile" in c.value]
    assert any("logged no token_attention.parquet" in c.value for c in app.caption)
    assert any("mean-pooled tokens" in m.value for m in app.markdown)
    frames = [d.value for d in app.dataframe]
    assert any("similarity" in f.columns and len(f) == min(5, N_PATIENTS - 1) for f in frames)


def test_cohort_page_groups_by_out_of_fold_risk_and_lists_the_served_risks(review_ws, monkeypatch, fresh_cache):
    from streamlit.testing.v1 import AppTest

    from .conftest import APP

    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    app = login(AppTest.from_file(str(APP), default_timeout=120), "clin")
    assert not app.exception
    assert any(c.value.endswith(f"risk groups from {N_PATIENTS} out-of-fold predictions") for c in app.caption)
    patients = app.dataframe[-1].value
    assert patients["prediction source"].eq("out-of-fold").all()
    preds, _ = load_predictions(review_ws)
    served = patients.set_index("patient_id")["risk group"]
    assert served.to_dict() == preds.risk_group().to_dict()
