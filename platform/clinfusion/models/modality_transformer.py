"""Transformer over modality summary tokens with a learned [CLS] and missing-modality embeddings."""

from __future__ import annotations

import torch
from torch import nn


class ModalityTransformer(nn.Module):
    """Fuse ``[CLS, hub, s_1 .. s_M]`` with a TransformerEncoder; return the [CLS] output.

    A missing modality's summary is replaced by its learned missing embedding (so the model
    can use *that* it is missing); with ``mask_missing`` it is also hidden from attention by
    the key-padding mask. Every token gets a learned modality-type embedding.

    Shapes:
        summaries: ``[B, M, hidden]``; present: ``[B, M]`` bool; hub: ``[B, hidden]``;
        output: ``[B, hidden]`` and the fused token sequence ``[B, M + 2, hidden]``.
    """

    def __init__(self, n_modalities: int, hidden: int, layers: int, heads: int, dropout: float, mask_missing: bool) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, 1, hidden))
        self.missing = nn.Parameter(torch.randn(n_modalities, hidden) * 0.02)
        self.type_emb = nn.Parameter(torch.randn(n_modalities + 2, hidden) * 0.02)
        self.mask_missing = mask_missing
        self.encoder = None
        if layers > 0:
            layer = nn.TransformerEncoderLayer(hidden, heads, dim_feedforward=2 * hidden, dropout=dropout,
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)

    def _sequence(self, summaries: torch.Tensor, present: torch.Tensor, hub: torch.Tensor):
        b = summaries.shape[0]
        s = torch.where(present.unsqueeze(-1), summaries, self.missing.unsqueeze(0).expand(b, -1, -1))
        seq = torch.cat([self.cls.expand(b, -1, -1), hub.unsqueeze(1), s], dim=1) + self.type_emb.unsqueeze(0)
        pad = None
        if self.mask_missing:
            always = torch.zeros(b, 2, dtype=torch.bool, device=present.device)
            pad = torch.cat([always, ~present], dim=1)
        return seq, pad

    def forward(self, summaries: torch.Tensor, present: torch.Tensor, hub: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seq, pad = self._sequence(summaries, present, hub)
        if self.encoder is not None:
            seq = self.encoder(seq, src_key_padding_mask=pad)
        return self.norm(seq[:, 0]), seq

    def cls_attention(self, summaries: torch.Tensor, present: torch.Tensor, hub: torch.Tensor) -> torch.Tensor | None:
        """Attention of [CLS] over ``[CLS, hub, s_1 .. s_M]`` in the last encoder layer (head mean).

        Shapes:
            output: ``[B, M + 2]`` (rows sum to 1), or ``None`` without an encoder.
        """
        if self.encoder is None:
            return None
        seq, pad = self._sequence(summaries, present, hub)
        for layer in self.encoder.layers[:-1]:
            seq = layer(seq, src_key_padding_mask=pad)
        last = self.encoder.layers[-1]
        x = last.norm1(seq) if last.norm_first else seq
        _, w = last.self_attn(x, x, x, key_padding_mask=pad, need_weights=True, average_attn_weights=True)
        return w[:, 0]
