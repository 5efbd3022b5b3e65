"""The fusion model: projections -> HeteroConv -> attention pooling -> modality transformer -> heads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import torch
from torch import nn

from clinfusion.models.config import FusionConfig
from clinfusion.models.heads import WideDeepHeads
from clinfusion.models.hetero_gnn import HeteroGNN
from clinfusion.models.modality_dropout import modality_dropout
from clinfusion.models.modality_transformer import ModalityTransformer
from clinfusion.models.pooling import AttentionPooling
from clinfusion.models.projection import ModalityProjection

HUB = "patient"


def schema(modalities: Sequence[str]) -> list[tuple[str, str, str]]:
    """Edge types of a batch of patient graphs over these modalities."""
    out = []
    for m in modalities:
        out += [(m, "intra", m), (m, "to_hub", HUB), (HUB, "from_hub", m)]
    return out


class FusionModel(nn.Module):
    """Multimodal survival/diagnosis model over batched patient graphs.

    Args:
        dims: token dimension per modality, in the order of the presence mask.
        n_covariates: clinical covariates of the wide path (0: none).
        n_classes: diagnosis classes (<= 1: no diagnosis head).
        config: architecture.

    The batch carries ``batch["patient"].mask`` ``[B, M]`` and optionally
    ``batch["patient"].cov`` ``[B, C]``.

    Shapes:
        outputs: ``risk [B]``, ``hazard_logits [B, K]``, ``diagnosis_logits [B, n_classes]``,
        ``embedding [B, hidden]``, ``present [B, M]`` (after modality dropout) and
        ``attention {m: [N_m]}`` pooling weights per token.
    """

    def __init__(self, dims: Mapping[str, int], n_covariates: int = 0, n_classes: int = 0,
                 config: FusionConfig | None = None) -> None:
        super().__init__()
        cfg = config or FusionConfig()
        self.config = cfg
        self.modalities = list(dims)
        h = cfg.hidden
        self.project = ModalityProjection(dims, h, cfg.dropout)
        self.hub = nn.Parameter(torch.randn(1, h) * 0.02)
        self.gnn = HeteroGNN(schema(self.modalities), [*self.modalities, HUB], h, cfg.gnn_layers, cfg.conv,
                             cfg.gat_heads, cfg.dropout)
        self.pool = nn.ModuleDict({m: AttentionPooling(h) for m in self.modalities})
        self.fuse = ModalityTransformer(len(self.modalities), h, cfg.transformer_layers, cfg.transformer_heads,
                                        cfg.dropout, cfg.mask_missing)
        self.modality_heads = nn.ModuleDict({m: nn.Linear(h, 1 + cfg.n_bins) for m in self.modalities}) \
            if cfg.modality_heads and cfg.deep else None  # deep=False: the linear wide path alone
        if self.modality_heads is not None and cfg.deep_init_zero:
            for lin in cast(Iterable[nn.Linear], self.modality_heads.values()):
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)
        self.heads = WideDeepHeads(h, cfg.n_bins, n_classes, n_covariates, wide=cfg.wide,
                                   deep_init_zero=cfg.deep_init_zero, deep=cfg.deep)

    def _drop_edges(self, batch: Any, present: torch.Tensor) -> dict:
        """Edge index dict without the edges of hidden modalities (their tokens send nothing)."""
        edges = {}
        for j, m in enumerate(self.modalities):
            keep = present[batch[m].batch, j] if batch[m].num_nodes else None
            for et in schema([m]):
                ei = batch[et].edge_index
                if keep is not None and not bool(keep.all()):
                    ei = ei[:, keep[ei[0] if et[0] == m else ei[1]]]
                edges[et] = ei
        return edges

    def forward(self, batch: Any, *, generator: torch.Generator | None = None,
                dropout_score: torch.Tensor | None = None, explain: bool = False) -> dict[str, Any]:
        """``explain``: also return ``modality_attention [B, M]`` ([CLS] attention over modality
        summaries, last encoder layer) and ``wide_risk [B]`` (the covariates' linear Cox part)."""
        present = batch[HUB].mask.bool()
        n = present.shape[0]
        if self.training:
            present = modality_dropout(present, self.config.modality_dropout, self.config.dropout_pattern,
                                       generator, dropout_score)
        x = self.project({m: batch[m].x for m in self.modalities})
        x[HUB] = self.hub.expand(n, -1)
        x = self.gnn(x, self._drop_edges(batch, present))
        summaries, attention = [], {}
        for m in self.modalities:
            pooled, w = self.pool[m](x[m], batch[m].batch, n)
            summaries.append(pooled)
            attention[m] = w
        stacked = torch.stack(summaries, dim=1)
        emb, _ = self.fuse(stacked, present, x[HUB])
        cov = batch[HUB].cov if "cov" in batch[HUB] else None
        out = self.heads(emb, cov)
        if self.modality_heads is not None:
            terms = torch.stack([self.modality_heads[m](summaries[j]) for j, m in enumerate(self.modalities)], 1)
            additive = (terms * present.unsqueeze(-1).to(terms.dtype)).sum(1)  # [B, 1 + K]
            out["risk"] = out["risk"] + additive[:, 0]
            out["hazard_logits"] = out["hazard_logits"] + additive[:, 1:]
        out.update(embedding=emb, present=present, attention=attention)
        if explain:
            w = self.fuse.cls_attention(stacked, present, x[HUB])
            out["modality_attention"] = w[:, 2:] if w is not None else torch.full_like(present, float("nan"), dtype=emb.dtype)
            wide = self.heads.cox_wide
            out["wide_risk"] = wide(cov).squeeze(-1) if wide is not None and cov is not None else torch.zeros(n)
        return out
