"""Per-modality input projections: token dim D_m -> hidden."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


class ModalityProjection(nn.Module):
    """``Linear -> LayerNorm -> GELU -> Dropout`` per modality.

    Shapes:
        input: ``{m: [N_m, D_m]}``; output: ``{m: [N_m, hidden]}``.
    """

    def __init__(self, dims: Mapping[str, int], hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.proj = nn.ModuleDict(
            {m: nn.Sequential(nn.Linear(d, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout)) for m, d in dims.items()}
        )

    def forward(self, x_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {m: self.proj[m](x) for m, x in x_dict.items() if m in self.proj}
