"""Audit page (admin): the audit log and the review store, with the export for retraining."""

from __future__ import annotations

import streamlit as st
import ui
from clinfusion.review import audit, reviews

session = ui.require("audit")
root = ui.workspace().root
st.title("Audit log and reviews")
st.subheader("reviews")
table = reviews.list_reviews(root)
st.dataframe(table, hide_index=True, width="stretch")
if st.download_button("Export reviews (CSV)", table.to_csv(index=False), "reviews.csv", "text/csv"):
    audit.record(root, session.username, session.role, "export_reviews", rows=len(table))
st.subheader("audit log (newest first)")
st.dataframe(audit.read_log(root, limit=500), hide_index=True, width="stretch")
