"""Gated attention pooling of a modality's nodes into one summary per patient (Ilse et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn


class AttentionPooling(nn.Module):
    """``a_i = w^T (tanh(V h_i) * sigmoid(U h_i))``, softmax over each patient's nodes, weighted sum.

    The attention weights are returned so they can be shown (e.g. a slide heatmap).

    Shapes:
        x: ``[N, hidden]``; batch: ``[N]`` patient of each node; output: ``[B, hidden]``
        (zeros for a patient without nodes: callers replace those by the missing embedding)
        and weights ``[N]`` summing to 1 per patient.
    """

    def __init__(self, hidden: int, attn_hidden: int | None = None) -> None:
        super().__init__()
        a = attn_hidden or hidden
        self.v = nn.Linear(hidden, a)
        self.u = nn.Linear(hidden, a)
        self.w = nn.Linear(a, 1)

    def forward(self, x: torch.Tensor, batch: torch.Tensor, n_graphs: int) -> tuple[torch.Tensor, torch.Tensor]:
        from torch_geometric.utils import scatter, softmax

        score = self.w(torch.tanh(self.v(x)) * torch.sigmoid(self.u(x))).squeeze(-1)
        weights = softmax(score, batch, num_nodes=n_graphs) if x.numel() else score
        pooled = scatter(weights.unsqueeze(-1) * x, batch, dim=0, dim_size=n_graphs, reduce="sum")
        return pooled, weights
