"""Experiments page: MLflow runs and registry versions of this workspace (read-only)."""

from __future__ import annotations

import streamlit as st
import ui
from clinfusion.review import audit, experiments

session = ui.require("view")
root = ui.workspace().root
audit.record(root, session.username, session.role, "view_experiments")
st.title("Experiments")
runs = experiments.list_runs(root)
if runs.empty:
    st.info("no MLflow runs in this workspace yet: run `clinfusion train --workspace WS`")
    st.stop()
versions = experiments.list_versions(root)
st.subheader("registered model versions")
if versions.empty:
    st.caption("no registered model versions")
else:
    from clinfusion.review.predictions import resolve

    alias = ui.model_alias()
    served, why = resolve(root, alias)
    st.caption(f"the app serves {served['name']} v{served['version']} (alias `{alias}`, MLflow run {served['run_id'][:8]})"
               if served else f"no predictions served: {why}")
    st.dataframe(versions, hide_index=True, width="stretch")
st.subheader("runs")
metric_cols = [c for c in runs.columns if c.startswith("metric:") and c.endswith(("cindex_mean", "auroc_mean", "ibs_mean"))]
st.dataframe(runs[["experiment", "run_id", "start_time", "status", *metric_cols]], hide_index=True, width="stretch")
with st.expander("all metrics and params"):
    st.dataframe(runs, hide_index=True, width="stretch")
