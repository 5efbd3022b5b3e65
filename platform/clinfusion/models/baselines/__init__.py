"""Baselines run side by side with the fusion model: ``fit(x, time, event, ...)`` and ``risk(x)``."""

from __future__ import annotations

from clinfusion.models.baselines.cox_linear import PenalizedCox
from clinfusion.models.baselines.coxnet import CoxNet
from clinfusion.models.baselines.gb_survival import BoostedSurvival
from clinfusion.models.baselines.mlp import CoxMLP
from clinfusion.models.baselines.rsf import SurvivalForest

__all__ = ["BoostedSurvival", "CoxMLP", "CoxNet", "PenalizedCox", "SurvivalForest"]
