"""Cohort page: patients, modality coverage, outcome summary, Kaplan-Meier curves, filters.

The patient table carries the served model's out-of-fold risk, risk group and each patient's
review status (``clinfusion.review.cohort``); clicking a row opens that patient. The Kaplan-Meier
figure is cached per served run and filter set (``ui.km_png``).
"""

from __future__ import annotations

import images
import streamlit as st
import ui
from clinfusion.review import audit, reviews
from clinfusion.review.cohort import cohort_table

session = ui.require("view")
root = str(ui.workspace().root)
frame = ui.cohort_frame(root)
st.title("Cohort")
if frame.empty:
    st.info("nothing has been ingested into this workspace yet: run `clinfusion ingest COHORT --workspace WS`")
    st.stop()
if not st.session_state.get("cohort_audited"):
    audit.record(root, session.username, session.role, "view_cohort")
    st.session_state["cohort_audited"] = True

has = [c for c in frame.columns if c.startswith("has_")]
with st.sidebar:
    st.subheader("filters")
    for col in ("diagnosis", "stage", "sex"):
        if col in frame.columns:
            levels = sorted(frame[col].dropna().astype(str).unique())
            chosen = st.multiselect(col, levels, default=[], key=f"f_{col}")
            if chosen:
                frame = frame[frame[col].astype(str).isin(chosen)]
    needed = st.multiselect("must have modality", [c[4:] for c in has], default=[], key="f_mods")
    for m in needed:
        frame = frame[frame[f"has_{m}"]]

c1, c2, c3, c4 = st.columns(4)
c1.metric("patients", len(frame))
if {"survival_time", "event"} <= set(frame.columns):
    c2.metric("events", int(frame["event"].fillna(0).sum()))
    c3.metric("median follow-up (days)", f"{frame['survival_time'].median():.0f}" if len(frame) else "-")
if "diagnosis" in frame.columns:
    c4.metric("diagnoses", frame["diagnosis"].nunique())

st.subheader("modality coverage")
st.bar_chart(frame[has].sum().rename(lambda c: c[4:]))

st.subheader("Kaplan-Meier")
preds, why = ui.predictions(root)
if not {"survival_time", "event"} <= set(frame.columns) or frame[["survival_time", "event"]].dropna().empty:
    st.info("no survival outcomes in the clinical table")
else:
    by = ""
    if preds is None:
        st.warning(f"no predicted risk groups: {why}")
        options = [c for c in ("stage", "diagnosis", "sex") if c in frame.columns]
        by = st.selectbox("group by", options, key="km_by") if options else ""
    fig, title, caption, _ = ui.km_png(root, preds.run_id if preds is not None else "", tuple(frame["patient_id"]),
                                       by or "", ui.catalog_stamp(root))
    if preds is not None:
        st.caption(f"{preds.model.describe()}; {caption}")
    images.show(fig, caption=title)

st.subheader("patients")
table = cohort_table(frame, preds, reviews.list_reviews(root) if session.can("view") else None)
st.caption("click a row to open the patient" + ("; risk: the served model's out-of-fold prediction for its training "
           "patients (the fold model that did not see them), the final model's for patients ingested later"
           if preds is not None else ""))
st.session_state["cohort_rows"] = table["patient_id"].tolist()


def _row_clicked() -> None:
    rows = st.session_state["cohort_table"].selection.rows
    if rows:
        st.session_state["patient"] = st.session_state["cohort_rows"][rows[0]]
        st.session_state["open_from_cohort"] = True


st.dataframe(table, hide_index=True, width="stretch", key="cohort_table", on_select=_row_clicked,
             selection_mode="single-row")
if st.session_state.pop("open_from_cohort", False):
    st.switch_page("views/patient.py")
pid = st.selectbox("open patient", table["patient_id"].tolist(), key="cohort_pick")
if st.button("Open patient", key="open_patient"):
    st.session_state["patient"] = pid
    st.switch_page("views/patient.py")
