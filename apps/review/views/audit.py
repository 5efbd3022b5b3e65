"""Audit page (admin): the audit log and the review store, with the export for retraining.

Opening this page is itself audited (``view_audit``), as is the export.
"""

from __future__ import annotations

import images
import streamlit as st
import ui
from clinfusion.review import audit, reviews
from clinfusion.workspace.csvsafe import csv_safe

session = ui.require("audit")
root = ui.workspace().root
audit.record(root, session.username, session.role, "view_audit")
st.title("Audit log and reviews")
st.subheader("reviews")
table = reviews.for_role(reviews.list_reviews(root), session.role)
st.dataframe(table, hide_index=True, width="stretch")
# The export is prepared on a click (audited), then offered as an inline link: no /media URL.
if st.button("Export reviews (CSV)"):
    audit.record(root, session.username, session.role, "export_reviews", rows=len(table))
    images.download_link(csv_safe(table).to_csv(index=False), "reviews.csv", "text/csv",
                         f"download reviews.csv ({len(table)} rows)")
st.subheader("audit log (newest first)")
st.caption("failed logins keep only a keyed hash of the typed user name (name_hash), never the text itself")
st.dataframe(audit.read_log(root, limit=500), hide_index=True, width="stretch")
