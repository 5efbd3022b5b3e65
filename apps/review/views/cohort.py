"""Cohort page: patients, modality coverage, outcome summary, Kaplan-Meier curves, filters."""

from __future__ import annotations

import images
import pandas as pd
import streamlit as st
import ui
from clinfusion.review import audit
from clinfusion.review.plots import km_figure

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
surv = frame.dropna(subset=["survival_time", "event"]) if {"survival_time", "event"} <= set(frame.columns) else pd.DataFrame()
if surv.empty:
    st.info("no survival outcomes in the clinical table")
else:
    if preds is not None:
        # out-of-fold risk groups for training patients: in-sample risks would separate the curves too well
        groups = preds.risk_group().reindex(surv["patient_id"]).fillna("not predicted").to_numpy()
        sources = preds.table["source"].reindex(surv["patient_id"]).value_counts()
        st.caption(f"{preds.model.describe()}; risk groups from " + ", ".join(f"{n} {s}" for s, n in sources.items())
                   + " predictions")
        title = f"by predicted risk group (out-of-fold, {preds.model_version})"
    else:
        st.warning(f"no predicted risk groups: {why}")
        options = [c for c in ("stage", "diagnosis", "sex") if c in surv.columns]
        by = st.selectbox("group by", options, key="km_by") if options else None
        groups = surv[by].fillna("missing").to_numpy() if by else ["all"] * len(surv)
        title = f"by {by}" if by else "all patients"
    fig, _ = km_figure(surv["survival_time"].to_numpy(), surv["event"].to_numpy(), groups, title)
    images.show(ui.png(fig))

st.subheader("patients")
if preds is not None:  # the served version's risk column (out-of-fold for its training patients)
    served = preds.table[["percentile", "risk_group", "source"]].rename(columns={
        "percentile": "risk percentile", "risk_group": "risk group", "source": "prediction source"})
    frame = frame.merge(served.round(1), left_on="patient_id", right_index=True, how="left")
st.dataframe(frame, hide_index=True, width="stretch")
pid = st.selectbox("open patient", frame["patient_id"].tolist(), key="cohort_pick")
if st.button("Open patient", key="open_patient"):
    st.session_state["patient"] = pid
    st.switch_page("views/patient.py")
