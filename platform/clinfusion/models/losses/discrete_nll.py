"""Discrete-time survival: time bins from training event times, and the NLL of MCAT/PORPOISE."""

from __future__ import annotations

from typing import Any

import numpy as np


def survival_bin_edges(time: np.ndarray, event: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin edges at quantiles of the *event* times (as MCAT/PORPOISE), first 0, last +inf.

    Args:
        time: follow-up times of the training fold (days).
        event: 1 event, 0 censored.
        n_bins: K.

    Returns:
        ``[K + 1]`` increasing edges (duplicated quantiles are merged, so K may shrink).
    """
    t = np.asarray(time, dtype=float)
    ev = t[np.asarray(event) == 1]
    ref = ev if ev.size >= n_bins else t
    inner = np.quantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1]) if n_bins > 1 else np.array([])
    return np.unique(np.concatenate([[0.0], inner, [np.inf]]))


def bin_index(time: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The bin of each time: ``edges[k] <= t < edges[k + 1]`` gives ``k`` (0-based)."""
    k = np.searchsorted(edges, np.asarray(time, dtype=float), side="right") - 1
    return np.clip(k, 0, len(edges) - 2).astype(np.int64)


def discrete_survival_nll(logits: Any, bins: Any, event: Any, *, alpha: float = 0.0, eps: float = 1e-7) -> Any:
    """Negative log-likelihood of discrete-time survival (Zadeh & Schmid; MCAT's NLLSurvLoss).

    With hazards ``h_k = sigmoid(logit_k)`` and ``S_k = prod_{j<=k} (1 - h_j)`` (``S_{-1} = 1``):
    an event in bin ``y`` contributes ``-log S_{y-1} - log h_y``; a patient censored in bin ``y``
    contributes ``-log S_y``. ``alpha`` up-weights the uncensored term as in MCAT:
    ``(1 - alpha) * (uncensored + censored) + alpha * uncensored``.

    Shapes:
        logits: ``[B, K]``; bins, event: ``[B]``; output: scalar (mean over patients).
    """
    import torch

    bins = bins.reshape(-1, 1).long()
    event = event.reshape(-1, 1).to(logits.dtype)
    hazards = torch.sigmoid(logits)
    surv = torch.cumprod(1 - hazards, dim=1)
    surv_pad = torch.cat([torch.ones_like(surv[:, :1]), surv], dim=1)
    s_prev = torch.gather(surv_pad, 1, bins).clamp_min(eps)
    h_this = torch.gather(hazards, 1, bins).clamp_min(eps)
    s_this = torch.gather(surv_pad, 1, bins + 1).clamp_min(eps)
    uncensored = -event * (torch.log(s_prev) + torch.log(h_this))
    censored = -(1 - event) * torch.log(s_this)
    loss = (1 - alpha) * (uncensored + censored) + alpha * uncensored
    return loss.mean()


def discrete_risk(logits: Any) -> Any:
    """Risk score from hazard logits: minus the sum of survival over bins (MCAT).

    Shapes:
        logits: ``[B, K]``; output: ``[B]``.
    """
    import torch

    return -torch.cumprod(1 - torch.sigmoid(logits), dim=1).sum(dim=1)
