"""Padded token sets -> one summary per patient: the shared encoder block of the seed architectures.

The graph-based fusion model batches tokens as graph nodes; MultiModN, tensor fusion and
co-attention work on padded tensors instead (``x [B, T, D]`` with a token mask ``[B, T]``), which
is what these blocks take. A patient without the modality has an all-False mask row; every block
here stays finite on such rows (the callers decide what an absent modality means).
"""

from __future__ import annotations

import torch
from torch import nn

_MASKED = -1e4  # finite "minus infinity": an all-masked row gives finite (then zeroed) weights, never NaN


def present_rows(mask: torch.Tensor) -> torch.Tensor:
    """Which patients have at least one token. Shapes: mask ``[B, T]`` bool -> ``[B]`` bool."""
    return mask.any(dim=1)


def safe_mask(mask: torch.Tensor) -> torch.Tensor:
    """``mask`` with the first (zero-padded) token of empty rows marked valid, so attention over a
    row never sees only padding (which PyTorch turns into NaN). Callers discard those rows."""
    out = mask.clone()
    out[~present_rows(mask), 0] = True
    return out


class MaskedAttentionPool(nn.Module):
    """Gated attention pooling (Ilse et al. 2018) over each patient's valid tokens.

    ``a_t = w^T (tanh(V h_t) * sigmoid(U h_t))``, softmax over the valid tokens, weighted sum.

    Shapes:
        x: ``[B, T, H]``; mask: ``[B, T]`` bool; output ``[B, H]`` (zeros for an empty row) and
        weights ``[B, T]`` (zero on padding, summing to 1 on a non-empty row).
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.v = nn.Linear(hidden, hidden)
        self.u = nn.Linear(hidden, hidden)
        self.w = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        score = self.w(torch.tanh(self.v(x)) * torch.sigmoid(self.u(x))).squeeze(-1)
        weights = torch.softmax(score.masked_fill(~mask, _MASKED), dim=1) * mask.to(x.dtype)
        weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
        return torch.einsum("bt,bth->bh", weights, x), weights


class TokenSetEncoder(nn.Module):
    """One modality's tokens -> projected tokens and their pooled summary.

    ``Linear(D, H) -> GELU -> Dropout`` per token, then :class:`MaskedAttentionPool`.

    Shapes:
        x: ``[B, T, D]`` (standardised tokens, zero padding); mask ``[B, T]``;
        outputs: tokens ``[B, T, H]``, summary ``[B, H]`` (zeros where the modality is absent).
    """

    def __init__(self, dim: int, hidden: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout))
        self.pool = MaskedAttentionPool(hidden)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(x)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.project(x)
        summary, _ = self.pool(h, mask)
        return h, summary
