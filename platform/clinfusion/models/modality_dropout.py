"""Modality dropout: hide present modalities during training (random and informative patterns)."""

from __future__ import annotations

import torch


def modality_dropout(present: torch.Tensor, p: float, pattern: str, generator: torch.Generator | None = None,
                     score: torch.Tensor | None = None) -> torch.Tensor:
    """A new presence mask with some present modalities hidden; every patient keeps at least one.

    Patterns:
        ``random``: each present modality is hidden with probability ``p`` (MCAR).
        ``single``: with probability ``p`` a patient keeps only one random present modality.
        ``informative``: hidden with probability ``min(1, 2 p s)`` where ``s`` in [0, 1] is the
            patient's ``score`` (e.g. the hazard rank): missing-not-at-random, sicker patients
            lose data more often, as in real cohorts.
        ``none``: unchanged.

    Shapes:
        present: ``[B, M]`` bool; score: ``[B]``; output: ``[B, M]`` bool.
    """
    if p <= 0 or pattern == "none":
        return present
    b, m = present.shape
    u = torch.rand(b, m, generator=generator)
    if pattern == "random":
        drop = u < p
    elif pattern == "informative":
        if score is None:
            raise ValueError("informative modality dropout needs a per-patient score in [0, 1]")
        drop = u < (2 * p * score.reshape(-1, 1)).clamp(max=1.0)
    elif pattern == "single":
        keep_one = torch.argmax(torch.where(present, torch.rand(b, m, generator=generator), -1.0), dim=1)
        only = torch.zeros_like(present).scatter_(1, keep_one.unsqueeze(1), True)
        apply = torch.rand(b, generator=generator) < p
        return torch.where(apply.unsqueeze(1), present & only, present)
    else:
        raise ValueError(f"dropout_pattern must be one of ['none', 'random', 'single', 'informative'], got {pattern!r}")
    out = present & ~drop
    lost_all = ~out.any(dim=1) & present.any(dim=1)
    return torch.where(lost_all.unsqueeze(1), present, out)  # never hide everything a patient has
