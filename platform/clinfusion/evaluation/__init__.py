"""Metrics (survival, diagnosis), bootstrap CIs and plots; pure functions on arrays."""

from __future__ import annotations

from clinfusion.evaluation.bootstrap import bootstrap_ci, harrell_c_ci
from clinfusion.evaluation.diagnosis import diagnosis_metrics
from clinfusion.evaluation.summary import fold_metrics, pooled_risk, summarize
from clinfusion.evaluation.survival import (
    RiskGroups,
    eval_times,
    harrell_c,
    ibs,
    risk_groups,
    risk_to_survival,
    td_auc,
    uno_c,
)

__all__ = [
    "RiskGroups",
    "bootstrap_ci",
    "diagnosis_metrics",
    "eval_times",
    "fold_metrics",
    "harrell_c",
    "harrell_c_ci",
    "ibs",
    "risk_groups",
    "pooled_risk",
    "risk_to_survival",
    "summarize",
    "td_auc",
    "uno_c",
]
