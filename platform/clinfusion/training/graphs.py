"""Patient graphs for one fold: standardised tokens, covariates and targets on the hub node."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from clinfusion.featurize.tokens import TokenSet
from clinfusion.graph import GraphConfig, build_patient_graph
from clinfusion.training.preprocess import TokenStandardizer


def standardized(ts: TokenSet, modality: str, std: TokenStandardizer) -> TokenSet:
    """A copy of ``ts`` with standardised tokens (positions, names and meta kept)."""
    return TokenSet(std.apply(modality, ts.tokens), positions=ts.positions, names=ts.names, groups=ts.groups, meta=ts.meta)


def patient_graphs(
    bundles: Sequence[Mapping[str, TokenSet]],
    modalities: Sequence[str],
    std: TokenStandardizer,
    graph_config: GraphConfig,
    cov: np.ndarray | None = None,
    targets: Mapping[str, np.ndarray] | None = None,
    edge_cache: Any = None,
) -> list[Any]:
    """One graph per patient; hub attributes ``cov [1, C]`` and each target ``[1]``.

    Args:
        bundles: per patient, tokens by modality (absent modalities missing).
        modalities: the model's modality order.
        std: the fold's fitted standardiser.
        cov: encoded covariates ``[N, C]``.
        targets: e.g. ``{"time": [N], "event": [N], "bin": [N], "diagnosis": [N], "dscore": [N]}``.
        edge_cache: a :class:`~clinfusion.graph.cache.EdgeCache` (the workspace's during training).
    """
    import torch

    graphs = []
    for i, bundle in enumerate(bundles):
        toks = {m: standardized(bundle[m], m, std) for m in modalities if m in bundle}
        g = build_patient_graph(toks, graph_config, modalities, edge_cache)
        if cov is not None:
            g["patient"].cov = torch.from_numpy(cov[i : i + 1])
        for name, values in (targets or {}).items():
            g["patient"][name] = torch.as_tensor(values[i : i + 1])
        graphs.append(g)
    return graphs
