"""Per-modality viewers of the patient page (layout only; data from clinfusion.review)."""

from __future__ import annotations

import streamlit as st
import ui
from clinfusion.review import plots, views
from clinfusion.review.reviews import Review, submit
from clinfusion.workspace import Workspace

PRESETS = ("lung", "mediastinum", "bone", "auto")


def radiology(ws: Workspace, pid: str) -> None:
    series = views.radiology_series(ws, pid)
    if not series:
        st.info("no radiology for this patient")
        return
    choice = st.selectbox("series", range(len(series)), format_func=lambda i: series[i].label, key="rad_series")
    vol = ui.axial(str(series[choice].path))
    is_ct = series[choice].record.get("modality") == "CT"
    preset = st.radio("window", PRESETS if is_ct else ("auto",), horizontal=True, key="rad_preset")
    k = st.slider("slice", 0, vol.shape[0] - 1, vol.shape[0] // 2, key="rad_slice") if vol.shape[0] > 1 else 0
    sp = series[choice].record.get("spacing_mm", [])
    st.image(plots.ct_slice(vol, k, preset), caption=f"axial slice {k + 1}/{vol.shape[0]}, {preset} window; "
             f"spacing {sp} mm (radiological view: patient right on the left)", width=420)


def pathology(ws: Workspace, pid: str) -> None:
    slides = views.pathology_slides(ws, pid)
    if not slides:
        st.info("no pathology slide for this patient")
        return
    preds, _ = ui.predictions(str(ws.root))
    run_id = preds.run_id if preds is not None else ""
    for s in slides:
        m = s["meta"]
        st.caption(f"slide {s['item']}: {m.get('vendor', '')} {m.get('width')}x{m.get('height')} px at "
                   f"{m.get('mpp_x')} um/px; {len(s['tiles'])} tissue tiles kept; tissue {m.get('tissue_fraction')}")
        a, b, c = st.columns(3)
        a.image(str(s["thumbnail"]), caption="thumbnail")
        b.image(str(s["overlay"]), caption="tissue overlay")
        heatmap, caption = ui.slide_heatmap(str(ws.root), run_id, pid, s["item"], str(s["dir"]))
        if heatmap is None:
            c.caption(caption)
        else:
            c.image(heatmap, caption=caption)


def ecg(ws: Workspace, pid: str) -> None:
    recs = views.ecg_records(ws, pid)
    if not recs:
        st.info("no ECG for this patient")
        return
    for r in recs:
        n = int(r["meta"].get("n_windows", 1))
        w = st.number_input("10 s window", 1, max(n, 1), 1, key=f"ecg_w_{r['item']}") - 1 if n > 1 else 0
        left, right = st.columns([4, 1])
        left.image(ui.ecg_png(str(r["dir"]), int(w)))
        right.dataframe(plots.ecg_intervals(r["meta"]))
        flags = {lead: f for lead, f in r["meta"].get("quality", {}).items() if f}
        if flags:
            right.warning(f"quality flags: {flags}")


def genomics(ws: Workspace, pid: str) -> None:
    table, kind = ui.genomics(str(ws.root))
    if table.empty or pid not in table.index:
        st.info("no genomic data for this patient")
        return
    st.caption(kind)
    row = table.loc[pid].dropna()
    st.dataframe(row.rename("value").to_frame(), width="stretch", height=300)


def reports(ws: Workspace, pid: str) -> None:
    recs = views.report_records(ws, pid)
    if not recs:
        st.info("no reports for this patient")
        return
    st.markdown(" ".join(f'<mark style="background:{c}">{a}</mark>' for a, c in plots.ASSERTION_COLOURS.items()),
                unsafe_allow_html=True)
    for rec in recs:
        body, findings = plots.report_html(rec)
        with st.expander(f"{rec.get('kind', 'report')} report, {rec.get('date', '')}", expanded=True):
            st.markdown(body, unsafe_allow_html=True)
            st.dataframe(findings, hide_index=True, width="stretch")


def prediction(ws: Workspace, pid: str):
    """The prediction panel; returns the Predictions (or None) for the review form."""
    preds, why = ui.predictions(str(ws.root))
    if preds is None or pid not in preds.table.index:
        st.info(why or "the model produced no prediction for this patient")
        return None
    st.caption(f"model: {preds.model_version}; MLflow run {preds.run_id[:8]}")
    a, b = st.columns(2)
    a.metric("risk percentile in the cohort", f"{preds.percentile(pid):.0f}")
    a.metric("risk group", preds.risk_group().loc[pid])
    diagnosis = preds.diagnosis(pid)
    if diagnosis.empty:
        a.caption("diagnosis probabilities: this model has no diagnosis head")
    else:
        a.dataframe(diagnosis.rename("probability").to_frame())
    b.image(ui.survival_png(str(ws.root), pid, preds.run_id), caption="survival curve; band: lowest to highest curve of the "
            "cross-validation fold models (model uncertainty from the training data)")
    c, d = st.columns(2)
    c.markdown("**per-modality contributions** (out-of-fold)")
    c.dataframe(preds.contributions(pid), width="stretch")
    c.caption("delta_risk: risk with all modalities minus risk with that modality removed; attention: [CLS] attention share")
    if preds.embeddings is not None:
        d.markdown("**similar patients** (cosine k-NN of the final model's fused embeddings, embeddings.csv)")
        d.dataframe(preds.similar(pid), hide_index=True, width="stretch")
    else:
        d.markdown("**similar patients** (cosine k-NN of mean-pooled tokens: this run logged no embeddings.csv)")
        d.dataframe(preds.similar(pid, features=ui.token_features(str(ws.root))), hide_index=True, width="stretch")
    return preds


def review_form(ws: Workspace, pid: str, preds) -> None:
    session = ui.require("view")
    if not session.can("review"):
        st.info(f"your role ({session.role}) can view but not submit reviews")
        return
    decisions = ("accept", "override", "comment") if preds is not None else ("comment",)
    predicted = preds.risk_group().loc[pid] if preds is not None else ""
    with st.form(f"review_{pid}", clear_on_submit=True):
        decision = st.radio("decision", decisions, horizontal=True)
        corrected = st.text_input("corrected value (override)")
        reason = st.text_input("reason (override)")
        comment = st.text_area("comment")
        sent = st.form_submit_button("Submit review")
    if sent:
        from clinfusion.review import audit
        from clinfusion.review.store import ReviewError

        rv = Review(patient_id=pid, model_version=preds.model_version if preds else "", target="risk group" if preds else "",
                    predicted=predicted, decision=decision, corrected=corrected, reason=reason, comment=comment)
        try:
            rid = submit(ws.root, rv, session.username, session.role)
        except ReviewError as err:
            st.error(str(err))
            return
        audit.record(ws.root, session.username, session.role, "review", pid, review_id=rid, decision=decision)
        st.success(f"review #{rid} saved ({decision})")
