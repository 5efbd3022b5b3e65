"""Weighted multi-task loss over the fusion model's heads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinfusion.models.losses.cox import cox_ph_loss
from clinfusion.models.losses.discrete_nll import discrete_survival_nll


def multitask_loss(out: Mapping[str, Any], target: Mapping[str, Any], weights: Mapping[str, float], *,
                   nll_alpha: float = 0.0) -> tuple[Any, dict[str, float]]:
    """``sum_task w_task * loss_task`` over the tasks with a positive weight and a target.

    Args:
        out: model outputs: ``risk`` ``[B]``, ``hazard_logits`` ``[B, K]``, ``diagnosis_logits`` ``[B, C]``.
        target: ``time`` ``[B]``, ``event`` ``[B]``, ``bin`` ``[B]``, ``diagnosis`` ``[B]``
            (class index, ``-1`` = unknown and ignored).
        weights: ``{"cox": w, "discrete": w, "diagnosis": w}``.

    Returns:
        The total loss (scalar tensor) and each term as a float.
    """
    import torch.nn.functional as F

    terms: dict[str, Any] = {}
    if weights.get("cox", 0) > 0:
        terms["cox"] = cox_ph_loss(out["risk"], target["time"], target["event"], on_no_events="zero")
    if weights.get("discrete", 0) > 0:
        terms["discrete"] = discrete_survival_nll(out["hazard_logits"], target["bin"], target["event"], alpha=nll_alpha)
    diag = target.get("diagnosis")
    if weights.get("diagnosis", 0) > 0 and diag is not None and "diagnosis_logits" in out and (diag >= 0).any():
        terms["diagnosis"] = F.cross_entropy(out["diagnosis_logits"], diag, ignore_index=-1)
    total = sum(weights[k] * v for k, v in terms.items())
    return total, {k: float(v.detach()) for k, v in terms.items()}
