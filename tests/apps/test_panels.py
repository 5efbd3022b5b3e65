"""Issue #21 panels through AppTest on the tiny trained workspace of conftest: cohort risk/review
columns and cached KM, survival in days, genomics mutations, report negation, review-form
retraining notes, sessions that survive a reload, and the experiments page."""

from __future__ import annotations

import glob
import pickle

import numpy as np
import pandas as pd
import pytest
from clinfusion.review import cohort, reviews, session_tokens
from clinfusion.review.predictions import load_predictions
from clinfusion.review.workspace_data import cohort_frame
from clinfusion.workspace import Workspace
from streamlit.testing.v1 import AppTest

from .conftest import APP, N_PATIENTS, PASSWORD
from .test_review_app import login


@pytest.fixture
def app(review_ws, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    st.cache_data.clear()
    yield AppTest.from_file(str(APP), default_timeout=120)
    st.cache_data.clear()


def _frames(at: AppTest, *columns: str) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]


def _open(at: AppTest, pid: str | None = None) -> AppTest:
    if pid is not None:
        at.selectbox(key="cohort_pick").set_value(pid)
    return at.button(key="open_patient").click().run()


# --- cohort page -------------------------------------------------------------------------------

def test_cohort_table_has_out_of_fold_risk_group_and_review_status(app, review_ws):
    login(app, "clin")
    assert not app.exception
    table = _frames(app, "risk (out-of-fold)", "review status")[0]
    assert table.columns[:6].tolist() == ["patient_id", *cohort.RISK_COLUMNS, "review status"]
    preds, _ = load_predictions(review_ws)
    shown = table.set_index("patient_id")
    assert np.allclose(shown["risk (out-of-fold)"], preds.table.loc[shown.index, "risk"].round(3))
    assert shown["risk group"].to_dict() == preds.risk_group().to_dict()
    assert (shown["prediction source"] == "out-of-fold").all() and len(shown) == N_PATIENTS
    logged = reviews.list_reviews(review_ws)
    status = cohort.review_status(logged)
    assert shown["review status"].to_dict() == {p: status.get(p, cohort.NOT_REVIEWED) for p in shown.index}


def test_review_status_is_the_latest_review():
    rows = pd.DataFrame([
        {"id": 1, "patient_id": "A", "decision": "accept", "target": "risk_group", "corrected": ""},
        {"id": 2, "patient_id": "A", "decision": "override", "target": "diagnosis", "corrected": "squamous_cell"},
        {"id": 3, "patient_id": "B", "decision": "comment", "target": "", "corrected": ""}])
    assert cohort.review_status(rows).to_dict() == {"A": "override diagnosis -> squamous_cell (2 reviews)", "B": "comment"}
    frame = pd.DataFrame({"patient_id": ["A", "B", "C"], "age": [1, 2, 3]})
    out = cohort.cohort_table(frame, None, rows)
    assert out["review status"].tolist() == ["override diagnosis -> squamous_cell (2 reviews)", "comment", "not reviewed"]


def test_km_figure_is_cached_across_reruns_and_refit_on_a_filter(app, monkeypatch):
    from clinfusion.review import plots

    calls = []
    real = plots.km_figure

    def counting(*args, **kw):
        calls.append(len(args[0]))
        return real(*args, **kw)

    monkeypatch.setattr(plots, "km_figure", counting)
    login(app, "clin")
    assert len(calls) == 1 and calls[0] == N_PATIENTS
    app.run()  # a rerun (e.g. a click elsewhere) with the same run and filters
    assert len(calls) == 1
    sex = app.multiselect(key="f_sex")
    sex.set_value([sex.options[0]]).run()
    assert len(calls) == 2 and calls[1] < N_PATIENTS
    assert any("out-of-fold" in c.value and "risk groups from" in c.value for c in app.caption)


def test_km_groups_use_the_served_out_of_fold_groups(review_ws):
    preds, _ = load_predictions(review_ws)
    frame = cohort_frame(Workspace.open(review_ws))
    km = cohort.km_groups(frame, preds)
    pids = frame.dropna(subset=["survival_time", "event"])["patient_id"]
    assert km["groups"].tolist() == preds.risk_group().reindex(pids).tolist()
    assert "out-of-fold" in km["title"] and km["caption"].endswith(f"{N_PATIENTS} out-of-fold predictions")


# --- prediction panel --------------------------------------------------------------------------

def _model_pkl(ws) -> object:
    path = glob.glob(str(ws / "mlartifacts" / "models" / "*" / "artifacts" / "artifacts" / "model.pkl"))[0]
    with open(path, "rb") as fh:
        return pickle.load(fh)  # written by clinfusion train in this test session


def test_bin_days_are_the_models_own_and_horizons_follow_its_survival_function(review_ws):
    from clinfusion.review.survival import DAYS_PER_YEAR, patient_survival

    preds, _ = load_predictions(review_ws)
    model = _model_pkl(review_ws)  # the registered stack: S(t|x) = exp(-H0(t) exp(risk)) at model.times
    assert np.allclose(preds.bin_days, model.times)
    final = pd.read_csv(preds.artifact_dir / "predictions.csv").set_index("patient_id")
    for _, row in final.iterrows():
        surv = row[[c for c in final.columns if c.startswith("surv_")]].to_numpy(float)
        ps = patient_survival(preds.bin_days, surv)
        assert np.allclose([ps.at(t)[0] for t in model.times], np.exp(-model.baseline * np.exp(row["risk"])))
        for y, got in zip((1, 3, 5), ps.horizons()["survival"], strict=True):
            t = y * DAYS_PER_YEAR
            h0 = np.interp(t, np.r_[0.0, model.times], np.r_[0.0, model.baseline])  # H0 linear between bin ends
            want = np.exp(-h0 * np.exp(row["risk"])) if t <= model.times[-1] else np.nan
            assert np.isclose(got, want, equal_nan=True)


def test_patient_panel_shows_survival_in_days_with_interval_and_thresholds(app, review_ws):
    login(app, "clin")
    pid = app.selectbox(key="cohort_pick").value
    _open(app)
    assert not app.exception
    preds, _ = load_predictions(review_ws)
    ps = preds.patient_survival(pid)
    assert app.radio(key="surv_unit").options == ["days", "months", "years"] and app.radio(key="surv_unit").value == "days"
    shown = _frames(app, "horizon", "survival", "lower", "upper")[0]
    want = ps.horizons()
    assert shown["horizon"].tolist() == ["1-year", "3-year", "5-year"]
    assert np.allclose(shown["survival"], want["survival"].round(3), equal_nan=True)
    assert (shown["lower"] <= shown["survival"] + 1e-9).all() and (shown["upper"] >= shown["survival"] - 1e-9).all()
    med = ps.median_days()
    assert next(m.value for m in app.metric if m.label == "median survival (days)") == (
        f"{med:.0f}" if np.isfinite(med) else "not reached")
    assert any(c.value.startswith("risk groups: tertiles") and "low <= 33.3" in c.value for c in app.caption)
    assert any(c.value.startswith("out-of-fold quality of the stack model: C-index") for c in app.caption)
    assert _frames(app, "probability")  # the diagnosis head
    app.radio(key="surv_unit").set_value("years").run()
    assert not app.exception


def test_survival_figure_axis_is_in_days_months_or_years(review_ws):
    from clinfusion.review.prediction_plots import risk_distribution_figure, survival_figure
    from clinfusion.review.survival import risk_thresholds

    preds, _ = load_predictions(review_ws)
    pid = preds.table.index[0]
    ps = preds.patient_survival(pid)
    for unit, per in (("days", 1.0), ("months", 365.25 / 12), ("years", 365.25)):
        ax = survival_figure(ps, unit).axes[0]
        assert ax.get_xlabel() == unit and np.isclose(ax.get_xlim()[1], ps.days[-1] / per)
    with pytest.raises(ValueError, match="time unit"):
        survival_figure(ps, "weeks")
    ref = preds.reference_risks(pid)
    lo, hi = risk_thresholds(ref)
    assert lo <= hi and len(ref) == N_PATIENTS
    ax = risk_distribution_figure(ref, preds.risk(pid), (lo, hi)).axes[0]
    assert preds.risk(pid) in [line.get_xdata()[0] for line in ax.get_lines()]


def test_risk_thresholds_match_the_tertile_rule():
    from clinfusion.review.serving import _pct, risk_group
    from clinfusion.review.survival import risk_thresholds

    ref = np.array([0.1, 0.5, 0.2, 0.9, 0.4, 0.3, 0.7, 0.8, 0.6])
    lo, hi = risk_thresholds(ref)
    for r in ref:
        g = risk_group(_pct(ref, r))
        assert g == ("low" if r <= lo else "intermediate" if r <= hi else "high")


def test_survival_interpolation_is_log_linear_and_stops_at_follow_up():
    from clinfusion.review.survival import interpolate, patient_survival

    days, surv = np.array([100.0, 300.0]), np.array([0.8, 0.4])
    assert np.allclose(interpolate(days, surv, [0, 100, 300]), [1.0, 0.8, 0.4])
    assert np.isclose(interpolate(days, surv, [200])[0], np.sqrt(0.8 * 0.4))
    assert np.isnan(interpolate(days, surv, [301])[0])
    ps = patient_survival(days, surv, {0: (np.array([150.0, 300.0]), np.array([0.9, 0.5]))})
    assert np.isclose(ps.median_days(), 100 + (np.log(0.5) - np.log(0.8)) / (np.log(0.4) - np.log(0.8)) * 200)
    s, lo, hi = ps.at(150)
    assert lo <= s <= hi and np.isclose(hi, 0.9) and ps.n_models == 2


# --- genomics -----------------------------------------------------------------------------------

def test_genomics_tab_lists_exactly_the_workspace_mutations(app, review_ws):
    from clinfusion.modalities.genomics.artifacts import load_genomics
    from clinfusion.review.workspace_data import ingested

    ws = Workspace.open(review_ws)
    mut = load_genomics(ws, ingested(ws, "genomics")).matrices["mutation"]
    pid = next(p for p in mut.index if (mut.loc[p] != 0).any())
    login(app, "clin")
    _open(app, pid)
    shown = _frames(app, "gene", "value", "driver role")[0]
    assert set(shown["gene"]) == set(mut.columns[mut.loc[pid] != 0])
    from clinfusion.review.genomics_view import driver_genes

    listed = set(driver_genes()["gene"])
    assert all((r != "not in the driver list") == (g in listed) for g, r in zip(shown["gene"], shown["driver role"], strict=True))
    scores = _frames(app, "score", "cohort z", "percentile")[0]
    assert np.isclose(scores["cohort z"].dropna().abs().max(), scores["cohort z"].abs().max()) and len(scores)
    assert ((scores["percentile"] >= 0) & (scores["percentile"] <= 100)).all()


def test_driver_list_ships_as_package_data_with_its_source():
    from importlib import resources

    from clinfusion.review.genomics_view import driver_genes, key_gene_cnv, mutated_genes

    text = (resources.files("clinfusion.review") / "data" / "driver_genes.tsv").read_text()
    assert "COSMIC Cancer Gene Census" in text and "OncoKB" in text
    d = driver_genes()
    assert {"EGFR", "KRAS", "TP53", "STK11"} <= set(d["gene"]) and d["gene"].is_unique
    m = pd.DataFrame({"EGFR": [1.0, 0.0], "FOO1": [1.0, 0.0]}, index=["P1", "P2"])
    assert mutated_genes(m, "P1")["gene"].tolist() == ["EGFR", "FOO1"] and mutated_genes(m, "P2").empty
    cnv = pd.DataFrame({"MYC": [2.0, 0.0, -0.5], "FOO1": [5.0, 0.0, 0.0]}, index=["P1", "P2", "P3"])
    assert key_gene_cnv(cnv, "P1")["gene"].tolist() == ["MYC"]


# --- reports ------------------------------------------------------------------------------------

def test_reports_tab_legend_and_negated_findings(app, review_ws):
    from clinfusion.review import plots
    from clinfusion.review.workspace_data import report_records

    ws = Workspace.open(review_ws)
    login(app, "clin")
    pid = app.selectbox(key="cohort_pick").value
    _open(app)
    legend = next(m.value for m in app.markdown if m.value.startswith("legend:"))
    assert all(w in legend for w in ("affirmed", "negated", "uncertain"))
    tables = _frames(app, "section", "finding", "assertion", "sentence")
    want = [plots.report_html(r)[1] for r in report_records(ws, pid)]
    assert [t.to_dict("records") for t in tables] == [w.to_dict("records") for w in want]
    rows = pd.concat([plots.report_html(r)[1] for p in cohort_frame(ws)["patient_id"] for r in report_records(ws, p)])
    til = rows[rows["sentence"].str.startswith("Tumour-infiltrating lymphocytes:")]
    assert len(til) and "mass" not in set(til["finding"])
    assert (til.loc[til["sentence"].str.contains("absent"), "assertion"] == "absent").all()
    nodal = rows[rows["sentence"].str.contains("No evidence of nodal metastasis")]
    assert nodal.empty or set(zip(nodal["finding"], nodal["assertion"], strict=True)) == {("metastasis", "absent")}


# --- review form --------------------------------------------------------------------------------

def test_review_form_says_which_overrides_are_used_for_retraining(app):
    login(app, "clin")
    pid = app.selectbox(key="cohort_pick").value
    _open(app)
    k = f"rv_{pid}_"
    app.selectbox(key=k + "decision").set_value("override").run()
    app.selectbox(key=k + "target").set_value("risk_group").run()
    assert any(w.value.startswith("not used for retraining: a risk-group override") for w in app.warning)
    app.selectbox(key=k + "target").set_value("diagnosis").run()
    assert any(c.value.startswith("used for retraining: the latest diagnosis override") for c in app.caption)
    assert not any("not used for retraining" in w.value for w in app.warning)
    app.selectbox(key=k + "corrected").set_value(app.selectbox(key=k + "corrected").options[0])
    next(b for b in app.button if b.label == "Submit review").click().run()  # no reason: refused, kept
    assert any("needs: reason" in e.value for e in app.error)
    assert app.selectbox(key=k + "corrected").value == app.selectbox(key=k + "corrected").options[0]
    assert app.selectbox(key=k + "decision").value == "override"


# --- sessions -----------------------------------------------------------------------------------

def test_a_reload_keeps_the_session_and_logout_revokes_it(review_ws, monkeypatch):
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    first = login(AppTest.from_file(str(APP), default_timeout=120), "clin", PASSWORD)
    token = first.query_params.get(session_tokens.QUERY_PARAM)
    token = token[0] if isinstance(token, list) else token
    assert token and session_tokens.session_from_token(review_ws, token).username == "clin"
    reload = AppTest.from_file(str(APP), default_timeout=120)  # a new browser session, same URL
    reload.query_params[session_tokens.QUERY_PARAM] = token
    reload.run()
    assert [t.value for t in reload.title] == ["Cohort"] and not reload.exception
    tampered = AppTest.from_file(str(APP), default_timeout=120)
    tampered.query_params[session_tokens.QUERY_PARAM] = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    tampered.run()
    assert [t.value for t in tampered.title] == ["ClinFusion review"]
    assert any("bad signature" in w.value for w in tampered.warning)
    next(b for b in reload.button if b.label == "Log out").click().run()
    assert [t.value for t in reload.title] == ["ClinFusion review"]
    again = AppTest.from_file(str(APP), default_timeout=120)
    again.query_params[session_tokens.QUERY_PARAM] = token
    again.run()
    assert [t.value for t in again.title] == ["ClinFusion review"] and any("revoked" in w.value for w in again.warning)
    first.run()  # the first tab holds the same (now revoked) login
    assert [t.value for t in first.title] == ["ClinFusion review"]


# --- experiments --------------------------------------------------------------------------------

def test_experiments_page_names_runs_and_compares_models(app, review_ws):
    import json

    login(app, "res")
    app.switch_page("views/experiments.py").run()
    assert not app.exception
    runs = _frames(app, "run", "kind", "outcome")[0]
    assert runs["run"].str.startswith("train ").all() and runs["kind"].tolist() == ["train"]
    assert not runs["run"].isna().any()
    preds, _ = load_predictions(review_ws)
    metrics = json.loads((preds.artifact_dir / "metrics.json").read_text())
    table = _frames(app, "model", "role", "C pooled")[0]
    assert table["model"].iloc[0] == metrics["default_model"] and table["role"].iloc[0] == "default"
    assert np.isclose(float(table["C pooled"].iloc[0]), metrics["models"][metrics["default_model"]]["cindex_pooled"])
    assert any(c.startswith("ΔC vs") for c in table.columns)  # paired differences side by side
    over_time = _frames(app, "started")[0]
    assert len(over_time) == 1
