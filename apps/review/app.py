"""ClinFusion review app: login gate and page navigation. Run with `clinfusion app --workspace WS`.

Every page is reachable only through the navigation built here after a valid login; the pages
also check their permission. Logic lives in ``clinfusion.review``; this folder only lays it out.
"""

from __future__ import annotations

import streamlit as st
import ui

st.set_page_config(page_title="ClinFusion review", layout="wide")
session = ui.current_session()
if session is None:
    ui.login_form()
    st.stop()
ui.sidebar(session)
pages = [st.Page("views/cohort.py", title="Cohort", url_path="cohort", default=True),
         st.Page("views/patient.py", title="Patient", url_path="patient"),
         st.Page("views/experiments.py", title="Experiments", url_path="experiments")]
if session.can("audit"):
    pages.append(st.Page("views/audit.py", title="Audit log and reviews", url_path="audit"))
st.navigation(pages).run()
