"""Fusion-model hyper-parameters (a frozen pydantic model; defaults documented in training's YAML)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CONVS: tuple[str, ...] = ("gatv2", "sage")
DROPOUT_PATTERNS: tuple[str, ...] = ("none", "random", "single", "informative")


class FusionConfig(BaseModel):
    """Architecture of :class:`~clinfusion.models.fusion.FusionModel`.

    Attributes:
        hidden: width of every node and modality embedding.
        conv: heterogeneous GNN layer type (``gatv2`` or ``sage``).
        gnn_layers: HeteroConv depth (0: no message passing, pooling on projected tokens).
        gat_heads: attention heads of GATv2 (``hidden`` must be divisible by it).
        transformer_layers / transformer_heads: the encoder over modality summary tokens.
        dropout: dropout inside projections, GNN and transformer.
        mask_missing: also hide missing modalities from attention (key-padding mask); their
            learned missing embeddings are used either way.
        n_bins: discrete-time survival bins K.
        wide: a linear path from clinical covariates added to every head (wide & deep).
        wide_tokens: the wide path also reads each modality's mean- and max-pooled tokens
            (standardised on the training fold, a missing modality flagged), a linear Cox on the
            same features as the CoxNet baseline, next to the deep path.
        wide_init: ``cox`` starts the wide path at a penalised linear Cox (lifelines, ``wide_penalizer``)
            fitted on the inner-training part, so the deep path learns a residual on a converged
            linear model (a few full-batch Adam steps from zero leave it far from its optimum).
        deep: use the fused embedding in the heads; ``False`` leaves only the wide (linear)
            path, so inner-fold selection can switch the deep path off where it does not help.
        modality_heads: also an additive linear Cox/hazard head on each present modality's pooled
            summary (before the transformer; a missing modality adds nothing), so each modality's
            contribution to the risk is a term of its own next to the fused [CLS] path (part of the
            deep path: off when ``deep`` is false).
        deep_init_zero: start the deep heads at zero, so training starts from the linear model
            and the network learns a residual.
        modality_dropout: probability of hiding a present modality during training.
        dropout_pattern: ``random`` (independent per modality), ``single`` (keep one),
            ``informative`` (drop probability grows with the patient's hazard: MNAR), ``none``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hidden: int = Field(32, ge=4)
    conv: Literal["gatv2", "sage"] = "sage"
    gnn_layers: int = Field(1, ge=0, le=6)
    gat_heads: int = Field(2, ge=1)
    transformer_layers: int = Field(1, ge=0, le=6)
    transformer_heads: int = Field(2, ge=1)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    mask_missing: bool = False
    n_bins: int = Field(4, ge=1)
    wide: bool = True
    deep: bool = True
    modality_heads: bool = True
    wide_tokens: bool = False
    wide_init: Literal["zero", "cox"] = "zero"
    wide_penalizer: float = Field(0.1, gt=0)
    deep_init_zero: bool = True
    modality_dropout: float = Field(0.1, ge=0.0, lt=1.0)
    dropout_pattern: Literal["none", "random", "single", "informative"] = "random"
