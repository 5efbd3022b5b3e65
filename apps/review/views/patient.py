"""Patient page: timeline, a viewer per modality, prediction panel and review form."""

from __future__ import annotations

import panels
import streamlit as st
import ui
from clinfusion.review import audit, reviews

session = ui.require("view")
ws = ui.workspace()
root = str(ws.root)
patients = ui.cohort_frame(root)["patient_id"].tolist()
if not patients:
    st.info("nothing has been ingested into this workspace yet")
    st.stop()
requested = st.session_state.get("patient") or st.query_params.get("patient")  # set by the cohort page
if st.session_state.get("patient_pick") not in patients or (requested in patients and requested != st.session_state["patient_pick"]):
    st.session_state["patient_pick"] = requested if requested in patients else patients[0]


def _picked() -> None:
    st.session_state["patient"] = st.session_state["patient_pick"]


pid = st.selectbox("patient (pseudonym)", patients, key="patient_pick", on_change=_picked)
st.session_state["patient"] = pid
st.query_params["patient"] = pid
if st.session_state.get("audited_patient") != pid:
    audit.record(root, session.username, session.role, "view_patient", pid)
    st.session_state["audited_patient"] = pid

st.title(f"Patient {pid}")
clin = ui.cohort_frame(root).set_index("patient_id").loc[[pid]]
st.dataframe(clin, width="stretch")
st.subheader("timeline")
st.dataframe(ui.timeline(root, pid), hide_index=True, width="stretch")


# Each tab is a fragment: a widget inside one (ECG gain, CT series, review form) reruns that tab
# only, so the CT volume and slide pyramid are not sent to the browser again. The session is
# re-validated on every fragment run as on every page run.
@st.fragment
def _tab(panel, pid: str) -> None:
    ui.require("view")
    panel(ui.workspace(), pid)


@st.fragment
def _prediction_and_review(pid: str) -> None:
    me = ui.require("view")
    preds = panels.prediction(ui.workspace(), pid)
    panels.review_form(ui.workspace(), pid, preds)
    st.subheader("reviews of this patient")
    st.dataframe(reviews.for_role(reviews.list_reviews(ui.workspace().root, pid), me.role), hide_index=True,
                 width="stretch")


tabs = st.tabs(["Radiology", "Pathology", "ECG", "Genomics", "Reports", "Prediction and review"])
for tab, panel in zip(tabs[:5], (panels.radiology, panels.pathology, panels.ecg, panels.genomics, panels.reports), strict=True):
    with tab:
        _tab(panel, pid)
with tabs[5]:
    _prediction_and_review(pid)
