"""Heterogeneous message passing over a patient graph (HeteroConv with GATv2Conv or SAGEConv)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import torch
from torch import nn


def _conv(kind: str, hidden: int, heads: int) -> nn.Module:
    from torch_geometric.nn import GATv2Conv, SAGEConv

    if kind == "gatv2":
        # bipartite edge types (token -> hub) cannot take self-loops; residuals keep each node's state
        return GATv2Conv(hidden, hidden // heads, heads=heads, add_self_loops=False)
    return SAGEConv((hidden, hidden), hidden)


class HeteroGNN(nn.Module):
    """``depth`` rounds of HeteroConv, each followed by residual, LayerNorm and GELU per node type.

    Node types that receive no message in a round keep their state.

    Args:
        edge_types: the graph schema's edge types.
        node_types: node types to normalise (modalities and the hub).
        hidden: node width.
        depth: number of rounds.
        conv: ``gatv2`` or ``sage``.
        heads: GATv2 heads (``hidden % heads == 0``).

    Shapes:
        x_dict: ``{t: [N_t, hidden]}``; edge_index_dict: ``{et: [2, E]}``; output like x_dict.
    """

    def __init__(self, edge_types: Sequence[tuple[str, str, str]], node_types: Sequence[str], hidden: int,
                 depth: int, conv: str = "sage", heads: int = 2, dropout: float = 0.0) -> None:
        from torch_geometric.nn import HeteroConv

        super().__init__()
        if conv == "gatv2" and hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by gat_heads ({heads})")
        self.layers = nn.ModuleList(
            HeteroConv({et: _conv(conv, hidden, heads) for et in edge_types}, aggr="sum") for _ in range(depth)
        )
        self.norms = nn.ModuleList(nn.ModuleDict({t: nn.LayerNorm(hidden) for t in node_types}) for _ in range(depth))
        self.drop = nn.Dropout(dropout)
        self.act = nn.GELU()

    def forward(self, x_dict: dict[str, torch.Tensor], edge_index_dict: dict) -> dict[str, torch.Tensor]:
        for conv, norms in zip(self.layers, cast(Iterable[nn.ModuleDict], self.norms), strict=True):
            out = conv(x_dict, edge_index_dict)
            x_dict = {t: norms[t](x + self.drop(self.act(out[t]))) if t in out else x for t, x in x_dict.items()}
        return x_dict
