"""Cohort patients -> padded token tensors per modality (the input of the seed architectures).

MultiModN, tensor fusion and co-attention (``clinfusion.models.{multimodn,tensor_fusion,coattention}``)
take ``{m: x [N, T_m, D_m]}`` and ``{m: mask [N, T_m]}``. Tokens are z-scored with the training
fold's :class:`~clinfusion.training.preprocess.TokenStandardizer`; padding is zeros with a False
mask; a patient without the modality has an all-False row (never fake tokens). The clinical
covariates, encoded by the fold-fitted :class:`~clinfusion.tabular.TabularEncoder`, are one more
modality (:data:`COVARIATES`) with a single token per patient (the encoder is
:func:`clinfusion.training.flat.fit_covariates`, the one every consumer uses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from clinfusion.featurize.tokens import TokenSet
from clinfusion.training.dataset import CohortData
from clinfusion.training.preprocess import TokenStandardizer

COVARIATES = "covariates"
"""Name of the covariate 'modality' (the synthetic cohort's ``clinical`` token modality is another one)."""


def subsample(tokens: np.ndarray, max_tokens: int) -> np.ndarray:
    """At most ``max_tokens`` rows, evenly spaced (deterministic; keeps the spatial spread of tiles)."""
    if len(tokens) <= max_tokens:
        return tokens
    return tokens[np.linspace(0, len(tokens) - 1, max_tokens).round().astype(np.int64)]


def pad_sets(sets: Sequence[np.ndarray | None], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack variable-length token arrays (``None``: absent) into padded arrays.

    Shapes:
        sets: each ``[T_i, dim]`` or None; outputs ``x [N, T_max, dim]`` float32 (zero padding)
        and ``mask [N, T_max]`` bool (``T_max`` >= 1 so an all-absent batch still has a shape).
    """
    t_max = max([len(s) for s in sets if s is not None], default=1)
    x = np.zeros((len(sets), t_max, dim), dtype=np.float32)
    mask = np.zeros((len(sets), t_max), dtype=bool)
    for i, s in enumerate(sets):
        if s is not None:
            x[i, :len(s)] = s
            mask[i, :len(s)] = True
    return x, mask


def padded_inputs(data: CohortData, ids: Sequence[str], dims: Mapping[str, int], standardizer: TokenStandardizer,
                  covariates: Any | None, max_tokens: int = 256) -> tuple[dict[str, Any], dict[str, Any]]:
    """Torch inputs of ``ids`` for the modalities of ``dims`` (``COVARIATES`` included when fitted).

    A modality in ``dims`` that ``data`` lacks entirely is absent for everyone.

    Returns:
        ``(tokens {m: FloatTensor [N, T_m, D_m]}, masks {m: BoolTensor [N, T_m]})``.
    """
    import torch

    tokens, masks = {}, {}
    for m, d in dims.items():
        if m == COVARIATES:
            continue
        per: Mapping[str, TokenSet] = data.tokens.get(m, {})
        sets = [standardizer.apply(m, subsample(per[p].tokens, max_tokens)) if p in per else None for p in ids]
        x, mask = pad_sets(sets, d)
        tokens[m], masks[m] = torch.from_numpy(x), torch.from_numpy(mask)
    if covariates is not None and COVARIATES in dims:
        cov = covariates.transform(data.covariates.iloc[data.index(ids)]).astype(np.float32)
        tokens[COVARIATES] = torch.from_numpy(cov[:, None, :])
        masks[COVARIATES] = torch.ones((len(ids), 1), dtype=torch.bool)
    return tokens, masks
