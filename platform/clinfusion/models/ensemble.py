"""An inner-fold ensemble of fusion models that behaves like one :class:`FusionModel`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

_MEAN_KEYS = ("risk", "hazard_logits", "diagnosis_logits", "modality_attention", "wide_risk")


class FusionEnsemble(nn.Module):
    """Average of ``k`` fusion models (each trained on a different part of the training fold).

    Small cohorts make one early-stopped network noisy; averaging the members of an inner k-fold
    (every training patient is used by ``k-1`` members) lowers that variance, as bagging does for a
    random survival forest.

    Args:
        members: fusion models with the same modalities, dims and heads.

    Shapes:
        outputs as :class:`~clinfusion.models.fusion.FusionModel`: ``risk [B]``, ``hazard_logits [B, K]``,
        ``diagnosis_logits [B, C]``, ``modality_attention [B, M]``, ``wide_risk [B]`` averaged over
        members; ``attention {m: [N_m]}`` averaged (each member's weights sum to 1 per patient, so the
        mean does too); ``embedding [B, k * hidden]`` the members' embeddings concatenated (their
        spaces are not aligned, so they are not averaged); ``present [B, M]`` of the first member.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a fusion ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def __len__(self) -> int:
        return len(self.members)

    def forward(self, batch: Any, *, generator: torch.Generator | None = None,
                dropout_score: torch.Tensor | None = None, explain: bool = False) -> dict[str, Any]:
        outs = [m(batch, generator=generator, dropout_score=dropout_score, explain=explain) for m in self.members]
        first = outs[0]
        merged: dict[str, Any] = {k: torch.stack([o[k] for o in outs]).mean(0) for k in _MEAN_KEYS if k in first}
        merged["embedding"] = torch.cat([o["embedding"] for o in outs], dim=-1)
        merged["present"] = first["present"]
        merged["attention"] = {m: torch.stack([o["attention"][m] for o in outs]).mean(0) for m in first["attention"]}
        return merged
