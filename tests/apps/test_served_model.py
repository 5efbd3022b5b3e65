"""The app serves the registry alias's version, never the newest run: promotion, rollback, --alias,
no champion, and patients ingested after training (final model) vs training patients (out-of-fold)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from clinfusion.cli.app import main
from clinfusion.testing.growing import GrowingCohort
from streamlit.testing.v1 import AppTest

from .conftest import APP, PASSWORD

TRAIN = {"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 2, "patience": 1}, "loss": {"diagnosis": 0.3},
         "bootstrap": 20, "baselines": []}


def _cli(*args: str) -> None:
    rc = main(list(args))
    assert rc in (0, 2), f"clinfusion {' '.join(args)} exited {rc}"


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """v1 trained on 10 ECG patients, then 3 more ingested and featurized (the model never saw them)."""
    from clinfusion.ingest import ingest
    from clinfusion.review.users import add_user

    root = tmp_path_factory.mktemp("served")
    cohort, ws, cfg = GrowingCohort.generate(root, 13, seed=4), root / "ws", root / "train.yaml"
    cfg.write_text(yaml.safe_dump(TRAIN))
    cohort.release(10)
    ingest(cohort.live, ws, demo=True)
    _cli("featurize", "--workspace", str(ws))
    _cli("train", "--workspace", str(ws), "--config", str(cfg), "--folds", "2")
    cohort.release(13)
    ingest(cohort.live, ws, demo=True)
    _cli("featurize", "--workspace", str(ws))
    add_user(ws, "clin", PASSWORD, "clinician", rounds=4)
    return ws, cfg


def _patient_app(ws: Path, pid: str, monkeypatch, alias: str | None = None) -> AppTest:
    import streamlit as st

    from .test_review_app import login

    st.cache_data.clear()
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(ws))
    if alias:
        monkeypatch.setenv("CLINFUSION_MODEL_ALIAS", alias)
    app = login(AppTest.from_file(str(APP), default_timeout=120), "clin")
    app.session_state["patient"] = pid
    app.switch_page("views/patient.py").run()
    assert not app.exception
    return app


def _model_caption(app: AppTest) -> str:
    return next(c.value for c in app.caption if c.value.startswith("model: "))


def _source(app: AppTest) -> str:
    return next(m.value for m in app.markdown if m.value.startswith("**prediction source:"))


def _new_and_old(ws: Path) -> tuple[str, str]:
    from clinfusion.review.predictions import load_predictions

    preds, _ = load_predictions(ws)
    table = preds.table
    return table.index[table["source"] == "final model"][0], table.index[table["source"] == "out-of-fold"][0]


def test_new_patients_get_the_final_model_and_training_patients_out_of_fold(grown, monkeypatch):
    ws, _ = grown
    from clinfusion.review.predictions import load_predictions

    preds, why = load_predictions(ws)
    assert why == "" and preds.model.version == "1"
    assert preds.table["source"].value_counts().to_dict() == {"out-of-fold": 10, "final model": 3}
    new, old = _new_and_old(ws)
    app = _patient_app(ws, new, monkeypatch)
    caption = _model_caption(app)
    assert caption.startswith("model: clinfusion-fusion-synthetic v1 (alias: champion); trained 20")
    assert "cohort fingerprint " in caption and "cross-validated C-index 0." in caption and "95% CI" in caption
    assert "final model (patient not in its training set: ingested after training)" in _source(app)
    assert [m.label for m in app.metric if m.label.startswith("risk")] == ["risk percentile in the cohort", "risk group"]
    assert "out-of-fold (fold " in _source(_patient_app(ws, old, monkeypatch))


def test_promotion_and_rollback_change_what_the_app_shows(grown, monkeypatch):
    ws, cfg = grown
    _cli("train", "--workspace", str(ws), "--config", str(cfg), "--folds", "2")  # v2: challenger, not shown
    new, _ = _new_and_old(ws)
    app = _patient_app(ws, new, monkeypatch)
    assert _model_caption(app).startswith("model: clinfusion-fusion-synthetic v1 (alias: champion)")
    shadow = _patient_app(ws, new, monkeypatch, alias="challenger")  # clinfusion app --alias challenger
    assert _model_caption(shadow).startswith("model: clinfusion-fusion-synthetic v2 (alias: challenger)")
    assert "out-of-fold" in _source(shadow)  # v2 was trained on this patient

    _cli("registry", "promote", "--workspace", str(ws), "--version", "2", "--reason", "test")
    app.run()  # the next rerun of the same session, no cache cleared
    assert _model_caption(app).startswith("model: clinfusion-fusion-synthetic v2 (alias: champion)")
    assert "out-of-fold" in _source(app)
    _cli("registry", "rollback", "--workspace", str(ws), "--reason", "test")
    app.run()
    assert _model_caption(app).startswith("model: clinfusion-fusion-synthetic v1 (alias: champion)")
    assert "final model" in _source(app)


def test_no_version_holding_the_alias_shows_no_predictions(grown, monkeypatch):
    ws, _ = grown
    new, _ = _new_and_old(ws)
    app = _patient_app(ws, new, monkeypatch, alias="shadow")
    warning = next(w.value for w in app.warning if w.value.startswith("no predictions shown"))
    assert "holds the alias 'shadow'" in warning and "clinfusion registry promote" in warning
    assert not [m for m in app.metric if m.label.startswith("risk")]  # no silent fallback to another version
    app.switch_page("views/experiments.py").run()
    assert any(c.value.startswith("no predictions served: no version") for c in app.caption)
    app.text_input(key="model_alias").input("champion").run()  # the sidebar setting
    assert any(c.value.startswith("the app serves clinfusion-fusion-synthetic v1 (alias `champion`") for c in app.caption)
    app.switch_page("views/patient.py").run()
    assert _model_caption(app).startswith("model: clinfusion-fusion-synthetic v1 (alias: champion)")


def test_app_command_passes_the_alias_to_the_app(grown, monkeypatch):
    from clinfusion.review import server

    seen = {}
    monkeypatch.setattr(server, "serve_foreground", lambda cmd, env: seen.update(env) or 0)
    assert main(["app", "--workspace", str(grown[0]), "--alias", "challenger"]) == 0
    assert seen["CLINFUSION_MODEL_ALIAS"] == "challenger"
    assert main(["app", "--workspace", str(grown[0])]) == 0
    assert seen["CLINFUSION_MODEL_ALIAS"] == "champion"
