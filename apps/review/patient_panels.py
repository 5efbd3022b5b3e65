"""Genomics, reports, prediction and review panels of the patient page (layout only; the logic is in
``clinfusion.review``: survival, genomics_view, prediction_plots, reviews)."""

from __future__ import annotations

import images
import numpy as np
import pandas as pd
import streamlit as st
import ui
from clinfusion.review import plots, reviews, workspace_data
from clinfusion.workspace import Workspace

ASSERTION_LABELS = {"present": "affirmed (present)", "absent": "negated (absent)", "uncertain": "uncertain"}


def genomics(ws: Workspace, pid: str) -> None:
    """Mutated driver genes, CNV of key genes, gene-set scores against the cohort, genes behind the top
    attributed gene sets (``clinfusion.review.genomics_view``)."""
    from clinfusion.review import genomics_view as gv

    root = str(ws.root)
    data = ui.genomics_data(root)
    table, kind = ui.genomics(root)
    if not data.matrices and (table.empty or pid not in table.index):
        st.info("no genomic data for this patient")
        return
    left, right = st.columns(2)
    mut = gv.mutated_genes(data.matrices.get("mutation"), pid)
    left.markdown("**mutated genes** (workspace mutation table)")
    if "mutation" not in data.matrices:
        left.caption("no mutation table in this workspace")
    elif mut.empty:
        left.caption("no mutated gene in this patient's row" if pid in data.matrices["mutation"].index
                     else "this patient has no row in the mutation table")
    else:
        drivers = mut[mut["driver role"] != gv.NOT_LISTED]
        left.markdown("driver genes: " + (", ".join(f"**{g}**" for g in drivers["gene"]) or "none"))
        left.dataframe(mut, hide_index=True, width="stretch", key="gx_mutations")
        left.caption("driver role from the shipped list (data/driver_genes.tsv: curated subset of COSMIC Cancer "
                     "Gene Census Tier 1 / OncoKB cancer genes)")
    cnv = gv.key_gene_cnv(data.matrices.get("cnv"), pid)
    if "cnv" in data.matrices:
        left.markdown("**copy number of key genes** (driver-list genes in the CNV table)")
        left.dataframe(cnv, hide_index=True, width="stretch", key="gx_cnv") if len(cnv) else left.caption(
            "no driver-list gene in the CNV table")
    scores = gv.gene_set_cohort_scores(table, pid) if not table.empty else pd.DataFrame()
    right.markdown(f"**{kind}** against the cohort")
    if scores.empty:
        right.caption("no scores for this patient")
    else:
        top = scores.dropna(subset=["cohort z"]).head(12)
        right.bar_chart(top.set_index("score")["cohort z"], horizontal=True, height=320)
        right.dataframe(scores.round(3), hide_index=True, width="stretch", height=260, key="gx_scores")
        right.caption(f"cohort z: (value - cohort mean) / sd over the {int(scores['n'].max())} patients with the score; "
                      "percentile: percent of them at or below")
    preds, _ = ui.predictions(root)
    if preds is None or not data.gene_sets:
        return
    top_sets = gv.top_attributed_sets(gv.read_attributions(preds.artifact_dir, pid), pid)
    if top_sets.empty:
        return
    st.markdown("**genes driving the most attributed gene sets** (integrated gradients of the served run's final model)")
    lines = []
    for name, attr in top_sets.itertuples(index=False):
        genes = gv.driving_genes(data.matrices.get("expression"), list(data.gene_sets.get(name, [])), pid)
        listed = ", ".join(f"{g} (z {z:+.2f})" for g, z in genes.itertuples(index=False)) or "no member gene expressed"
        lines.append(f"- **{name}** (attribution {attr:+.2e}, {'raises' if attr > 0 else 'lowers'} the risk): {listed}")
    st.markdown("\n".join(lines))


def reports(ws: Workspace, pid: str) -> None:
    """De-identified reports with findings highlighted as affirmed / negated / uncertain."""
    recs = workspace_data.report_records(ws, pid)
    if not recs:
        st.info("no reports for this patient")
        return
    st.markdown("legend: " + " ".join(f'<mark style="background:{c}">{ASSERTION_LABELS.get(a, a)}</mark>'
                                      for a, c in plots.ASSERTION_COLOURS.items()), unsafe_allow_html=True)
    for rec in recs:
        body, findings = plots.report_html(rec)
        with st.expander(f"{rec.get('kind', 'report')} report, {rec.get('date', '')}", expanded=True):
            st.markdown(body, unsafe_allow_html=True)
            st.dataframe(findings, hide_index=True, width="stretch")


def _quality_line(preds) -> str:
    """Out-of-fold quality of the served model from the run's metrics.json."""
    m = (preds.metrics or {}).get("models", {}).get((preds.metrics or {}).get("default_model", "fusion"), {})
    parts = [f"C-index {preds.model.cindex_text()}"]
    for key, label in (("td_auc_mean", "time-dependent AUC"), ("ibs_mean", "integrated Brier score"),
                       ("calibration_error_1y", "1-y calibration error"), ("calibration_error_3y", "3-y calibration error"),
                       ("auroc_mean", "diagnosis AUROC")):
        v = m.get(key)
        if isinstance(v, int | float) and np.isfinite(v):
            parts.append(f"{label} {v:.3f}")
    name = (preds.metrics or {}).get("default_model", "")
    return f"out-of-fold quality of the {name or 'served'} model: " + "; ".join(parts)


def prediction(ws: Workspace, pid: str):
    """The prediction panel of the served registry version; returns the Predictions (or None) for the review form."""
    from clinfusion.review.survival import risk_thresholds

    root = str(ws.root)
    preds, why = ui.predictions(root)
    if preds is None:
        st.warning(f"no predictions shown: {why}")
        return None
    st.caption(preds.model.describe())
    st.caption(_quality_line(preds))
    if pid not in preds.table.index:
        st.info(f"{preds.model.label} has no prediction for this patient: it has no tokens yet "
                "(run `clinfusion featurize --workspace WS`)")
        return None
    st.markdown(f"**prediction source: {preds.source(pid)}**")
    a, b = st.columns([2, 3])
    a.metric("risk percentile in the cohort", f"{preds.percentile(pid):.0f}")
    a.metric("risk group", preds.risk_group().loc[pid])
    ref = preds.reference_risks(pid)
    lo, hi = risk_thresholds(ref)
    a.caption(f"risk groups: tertiles of the risk percentile among the {len(ref)} training patients' risks under the "
              f"same model: low <= 33.3 (risk <= {lo:.3f}) < intermediate <= 66.7 (risk <= {hi:.3f}) < high; "
              f"this patient's risk {preds.risk(pid):.3f}")
    ps = preds.patient_survival(pid)
    if ps is None:
        b.warning("survival in days is unavailable (the clinical table lacks the training patients' outcomes); "
                  "showing survival per time bin")
        images.show(ui.survival_png(root, pid, preds.run_id), container=b)
    else:
        unit = b.radio("time axis", ("days", "months", "years"), horizontal=True, key="surv_unit")
        images.show(ui.survival_days_png(root, pid, preds.run_id, unit), container=b,
                    caption=f"survival curve in {unit}; band: lowest to highest curve of the {ps.n_models - 1} "
                            "cross-validation fold models and the shown one (spread due to the training data, not a "
                            "calibrated confidence interval); dots: the model's bin ends")
        hz = ps.horizons()
        a.markdown("**survival at 1, 3 and 5 years**")
        a.dataframe(hz.assign(**{c: hz[c].round(3) for c in ("survival", "lower", "upper")}), hide_index=True,
                    width="stretch", key="surv_horizons")
        med = ps.median_days()
        a.metric("median survival (days)", f"{med:.0f}" if np.isfinite(med) else "not reached")
        a.caption(f"curve defined up to {ps.days[-1]:.0f} days (the longest training follow-up); NaN beyond")
    images.show(ui.risk_distribution_png(root, pid, preds.run_id), container=b,
                caption="the cohort's risks (the ones this patient is ranked among) with the patient (red) and the "
                        "risk-group thresholds (dashed)")
    diagnosis = preds.diagnosis(pid)
    if diagnosis.empty:
        a.caption("diagnosis probabilities: this model has no diagnosis head")
    else:
        a.markdown("**diagnosis probabilities**")
        a.dataframe(diagnosis.rename("probability").to_frame())
    c, d = st.columns(2)
    c.markdown("**per-modality contributions** (out-of-fold)")
    c.dataframe(preds.contributions(pid), width="stretch")
    c.caption("delta_risk: risk with all modalities minus risk with that modality removed; attention: [CLS] attention share")
    if preds.has_embedding(pid):
        d.markdown("**similar patients** (cosine k-NN of the final model's fused embeddings, embeddings.csv)")
        d.dataframe(preds.similar(pid), hide_index=True, width="stretch")
    else:
        d.markdown("**similar patients** (cosine k-NN of mean-pooled tokens: the run logged no fused embedding "
                   "of this patient)")
        d.dataframe(preds.similar(pid, features=ui.token_features(root)), hide_index=True, width="stretch")
    return preds


TARGET_LABELS = {"diagnosis": "diagnosis", "risk_group": "risk group"}


def retraining_note(decision: str, target: str, has_diagnosis_head: bool) -> tuple[str, str]:
    """``(level, message)`` saying whether this review will be used by ``clinfusion retrain``."""
    if decision == "override" and target == "diagnosis":
        return "info", ("used for retraining: the latest diagnosis override of this patient becomes its training label "
                        "at the next `clinfusion retrain`")
    if decision == "override":
        why = "" if has_diagnosis_head else " (this model has no diagnosis head, so no override is a training label)"
        return "warning", ("not used for retraining: a risk-group override is recorded as a disagreement with the "
                           f"model, never as a training label{why}")
    what = "an accept" if decision == "accept" else "a comment"
    return "info", f"not used for retraining: {what} is recorded for audit and review, not as a training label"


def review_form(ws: Workspace, pid: str, preds) -> None:
    """The review form. Decision, target and corrected value are offered only from the shared
    schema (``clinfusion.review.reviews``: the model's class names, the risk groups); what was typed
    survives a refused submit (widget keys in the session), and the refusal names what is missing."""
    session = ui.require("view")
    if not session.can("review"):
        st.info(f"your role ({session.role}) can view but not submit reviews")
        return
    choices = reviews.target_choices(preds.classes()) if preds is not None else {}
    k = f"rv_{pid}_"
    decision = st.selectbox("decision", reviews.DECISIONS if choices else ("comment",), key=k + "decision",
                            help="accept: the prediction stands; override: correct it (becomes a training label "
                                 "for diagnosis); comment: free text only")
    target = st.selectbox("target", list(choices), key=k + "target", format_func=TARGET_LABELS.get) if choices else ""
    if target:
        st.caption(f"predicted {TARGET_LABELS[target]}: {_predicted(preds, pid, target)}")
    level, note = retraining_note(decision, target, bool(preds is not None and preds.classes()))
    (st.warning if level == "warning" else st.caption)(note)
    with st.form(f"review_{pid}", clear_on_submit=False):
        if decision == "override":
            st.selectbox(f"corrected {TARGET_LABELS[target]}", choices[target], index=None, key=k + "corrected",
                         placeholder="choose the correct value")
            st.text_input("reason (required for an override)", key=k + "reason")
        st.text_area("comment", key=k + "comment")
        st.form_submit_button("Submit review", on_click=_submit, args=(ws.root, pid, preds, session, choices))
    kind, message = st.session_state.pop(k + "result", (None, ""))
    if kind == "error":
        st.error(message)
    elif kind == "success":
        st.success(message)


def _predicted(preds, pid: str, target: str) -> str:
    if target == "diagnosis":
        probs = preds.diagnosis(pid)
        return str(probs.index[0]) if len(probs) else ""
    return str(preds.risk_group().loc[pid])


def _submit(root, pid: str, preds, session, choices: dict) -> None:
    """Form callback (runs before the page reruns): re-check the session, store the review, audit it."""
    from clinfusion.review import audit
    from clinfusion.review.store import ReviewError
    from clinfusion.review.users import validate_session

    k = f"rv_{pid}_"
    state = st.session_state
    if validate_session(root, session):
        state[k + "result"] = ("error", "your session is no longer valid: log in again; nothing was saved")
        return
    target = state.get(k + "target") or ""
    decision = state.get(k + "decision") or "comment"
    rv = reviews.Review(
        patient_id=pid, model_name=preds.model.name if preds is not None else "",
        model_version=str(preds.model.version) if preds is not None else "", target=target,
        predicted=_predicted(preds, pid, target) if target else "", decision=decision,
        corrected=(state.get(k + "corrected") or "") if decision == "override" else "",
        reason=(state.get(k + "reason") or "") if decision == "override" else "", comment=state.get(k + "comment") or "")
    try:
        rid = reviews.submit(root, rv, session.username, session.role, choices=choices or None)
    except ReviewError as err:
        state[k + "result"] = ("error", f"not saved: {err.message} (what you entered is kept)")
        return
    audit.record(root, session.username, session.role, "review", pid, review_id=rid, decision=decision, target=target)
    for field in ("corrected", "reason", "comment"):
        if k + field in state:
            state[k + field] = None if field == "corrected" else ""
    state[k + "result"] = ("success", f"review #{rid} saved ({decision})" + (f" on {TARGET_LABELS[target]}" if target else ""))
