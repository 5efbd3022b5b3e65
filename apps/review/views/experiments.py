"""Experiments page: registered versions, the served version's model comparison, runs named by kind
and the champion's metric over time (read-only; logic in clinfusion.review.experiments)."""

from __future__ import annotations

import json

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
served = None
if versions.empty:
    st.caption("no registered model versions")
else:
    from clinfusion.review.predictions import resolve

    alias = ui.model_alias()
    served, why = resolve(root, alias)
    st.caption(f"the app serves {served['name']} v{served['version']} (alias `{alias}`, MLflow run {served['run_id'][:8]})"
               if served else f"no predictions served: {why}")
    st.dataframe(versions, hide_index=True, width="stretch")

if served is not None:
    from clinfusion.evaluation.summary import TABLE_LEGEND, paired_sentences

    path = experiments.artifact_file(served["artifact_uri"], "metrics.json")
    metrics = json.loads(path.read_text()) if path.exists() else {}
    st.subheader(f"served model vs baselines (out-of-fold, run {served['run_id'][:8]})")
    table = experiments.comparison_table(metrics)
    if table.empty:
        st.caption("this run logged no metrics.json with per-model results")
    else:
        st.dataframe(table, hide_index=True, width="stretch", key="exp_comparison")
        st.caption(TABLE_LEGEND)
        for line in paired_sentences(metrics):
            st.markdown(f"- {line}")
    default = metrics.get("default_model", "fusion")
    over_time = experiments.metric_over_time(runs, default)
    st.subheader(f"{default} model: pooled out-of-fold C-index over time (train and retrain runs)")
    if len(over_time) > 1:
        st.line_chart(over_time.set_index("started"), height=240)
    st.dataframe(over_time, hide_index=True, width="stretch", key="exp_over_time")

st.subheader("runs")
overview = experiments.runs_overview(runs)
kinds = st.multiselect("kinds", experiments.RUN_KINDS, default=[k for k in experiments.RUN_KINDS if k in set(overview["kind"])],
                       key="exp_kinds")
st.dataframe(overview[overview["kind"].isin(kinds)], hide_index=True, width="stretch", key="exp_runs")
with st.expander("all metrics and params"):
    st.dataframe(runs, hide_index=True, width="stretch")
