"""Per-modality viewers of the patient page (layout only; data from clinfusion.review)."""

from __future__ import annotations

import images
import streamlit as st
import ui
from clinfusion.review import plots, reviews, workspace_data
from clinfusion.workspace import Workspace

PRESETS = ("lung", "mediastinum", "bone", "auto")


def radiology(ws: Workspace, pid: str) -> None:
    series = workspace_data.radiology_series(ws, pid)
    if not series:
        st.info("no radiology for this patient")
        return
    choice = st.selectbox("series", range(len(series)), format_func=lambda i: series[i].label, key="rad_series")
    vol = ui.axial(str(series[choice].path))
    is_ct = series[choice].record.get("modality") == "CT"
    preset = st.radio("window", PRESETS if is_ct else ("auto",), horizontal=True, key="rad_preset")
    k = st.slider("slice", 0, vol.shape[0] - 1, vol.shape[0] // 2, key="rad_slice") if vol.shape[0] > 1 else 0
    sp = series[choice].record.get("spacing_mm", [])
    images.show(plots.ct_slice(vol, k, preset), caption=f"axial slice {k + 1}/{vol.shape[0]}, {preset} window; "
                f"spacing {sp} mm (radiological view: patient right on the left)", width=420)


def pathology(ws: Workspace, pid: str) -> None:
    slides = workspace_data.pathology_slides(ws, pid)
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
        images.show(s["thumbnail"], caption="thumbnail", container=a)
        images.show(s["overlay"], caption="tissue overlay", container=b)
        heatmap, caption = ui.slide_heatmap(str(ws.root), run_id, pid, s["item"], str(s["dir"]))
        if heatmap is None:
            c.caption(caption)
        else:
            images.show(heatmap, caption=caption, container=c)


def ecg(ws: Workspace, pid: str) -> None:
    recs = workspace_data.ecg_records(ws, pid)
    if not recs:
        st.info("no ECG for this patient")
        return
    for r in recs:
        n = int(r["meta"].get("n_windows", 1))
        w = st.number_input("10 s window", 1, max(n, 1), 1, key=f"ecg_w_{r['item']}") - 1 if n > 1 else 0
        left, right = st.columns([4, 1])
        images.show(ui.ecg_png(str(r["dir"]), int(w)), container=left)
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
    recs = workspace_data.report_records(ws, pid)
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
    """The prediction panel of the served registry version; returns the Predictions (or None) for the review form."""
    preds, why = ui.predictions(str(ws.root))
    if preds is None:
        st.warning(f"no predictions shown: {why}")
        return None
    st.caption(preds.model.describe())
    if pid not in preds.table.index:
        st.info(f"{preds.model.label} has no prediction for this patient: it has no tokens yet "
                "(run `clinfusion featurize --workspace WS`)")
        return None
    st.markdown(f"**prediction source: {preds.source(pid)}**")
    a, b = st.columns(2)
    a.metric("risk percentile in the cohort", f"{preds.percentile(pid):.0f}")
    a.metric("risk group", preds.risk_group().loc[pid])
    diagnosis = preds.diagnosis(pid)
    if diagnosis.empty:
        a.caption("diagnosis probabilities: this model has no diagnosis head")
    else:
        a.dataframe(diagnosis.rename("probability").to_frame())
    images.show(ui.survival_png(str(ws.root), pid, preds.run_id), caption="survival curve; band: lowest to highest curve "
                "of the cross-validation fold models (model uncertainty from the training data)", container=b)
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
        d.dataframe(preds.similar(pid, features=ui.token_features(str(ws.root))), hide_index=True, width="stretch")
    return preds


TARGET_LABELS = {"diagnosis": "diagnosis", "risk_group": "risk group"}


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
