"""Experiments page: MLflow runs and registry versions of this workspace (read-only)."""

from __future__ import annotations

import streamlit as st
import ui
from clinfusion.review import experiments

ui.require("view")
root = ui.workspace().root
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
    champion = versions[versions["aliases"].str.contains("champion")]
    st.caption(f"champion: {champion.iloc[0]['name']} v{champion.iloc[0]['version']}" if len(champion)
               else "no version carries the `champion` alias yet")
    st.dataframe(versions, hide_index=True, width="stretch")
st.subheader("runs")
metric_cols = [c for c in runs.columns if c.startswith("metric:") and c.endswith(("cindex_mean", "auroc_mean", "ibs_mean"))]
st.dataframe(runs[["experiment", "run_id", "start_time", "status", *metric_cols]], hide_index=True, width="stretch")
with st.expander("all metrics and params"):
    st.dataframe(runs, hide_index=True, width="stretch")
