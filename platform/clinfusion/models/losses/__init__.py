"""Survival and multi-task losses (pure tensor functions)."""

from __future__ import annotations

from clinfusion.models.losses.cox import cox_ph_loss
from clinfusion.models.losses.discrete_nll import (
    bin_index,
    discrete_risk,
    discrete_survival_nll,
    survival_bin_edges,
)
from clinfusion.models.losses.multitask import multitask_loss

__all__ = ["bin_index", "cox_ph_loss", "discrete_risk", "discrete_survival_nll", "multitask_loss", "survival_bin_edges"]
