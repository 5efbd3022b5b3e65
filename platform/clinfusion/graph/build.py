"""One heterogeneous graph per patient from its cached tokens.

Node types: one per present modality (``x`` = tokens, ``pos`` = positions when the encoder gave
them) plus a ``patient`` hub with a single node. Edge types per present modality ``m``:

- ``(m, "intra", m)``: intra-modality edges chosen by :meth:`GraphConfig.strategy`;
- ``(m, "to_hub", "patient")`` and ``("patient", "from_hub", m)``: every token <-> the hub.

A missing modality has no node type at all; ``data["patient"].mask`` (``[1, M]`` bool, in the
order of ``modalities``) says which are present. Before batching patients with different
modalities, :func:`align_schema` adds the absent types as *empty* node sets (0 nodes), so the
batch schema is uniform and still no zero vector stands in for data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from clinfusion.errors import ConfigError
from clinfusion.featurize.tokens import TokenSet
from clinfusion.graph import edges
from clinfusion.graph.cache import EdgeCache
from clinfusion.graph.config import GraphConfig

HUB = "patient"


def intra_edges(modality: str, ts: TokenSet, config: GraphConfig, cache: EdgeCache | None = None) -> np.ndarray:
    """Intra-modality edge index of one token set (see :class:`GraphConfig`).

    Fallbacks: ``spatial_knn`` without positions and ``set_overlap`` without
    ``meta["set_members"]`` (one gene list per token) use ``feature_knn``.

    Args:
        cache: reuse edges computed before from the same inputs (see :mod:`clinfusion.graph.cache`).

    Shapes:
        output: ``[2, E]`` int64.
    """
    if cache is None:
        return _intra_edges(modality, ts, config)
    params = {"k_spatial": config.k_spatial, "k_feature": config.k_feature, "min_jaccard": config.min_jaccard}
    key = cache.key(modality, config.strategy(modality), params, ts)
    found = cache.get(key)
    if found is None:
        found = _intra_edges(modality, ts, config)
        cache.put(key, found)
    return found


def _intra_edges(modality: str, ts: TokenSet, config: GraphConfig) -> np.ndarray:
    name = config.strategy(modality)
    members = ts.meta.get("set_members") if isinstance(ts.meta, dict) else None
    if name == "none" or ts.n_tokens == 1:
        return np.zeros((2, 0), dtype=np.int64)
    if name == "spatial_knn" and ts.positions is not None:
        return edges.knn_edges(ts.positions[:, :2], config.k_spatial)
    if name == "sequential":
        order = None if ts.positions is None else ts.positions[:, 0]
        return edges.sequential_edges(order, ts.n_tokens, ts.groups)
    if name == "set_overlap" and members is not None and len(members) == ts.n_tokens:
        return edges.set_overlap_edges(members, config.min_jaccard)
    return edges.knn_edges(ts.tokens, config.k_feature)


def build_patient_graph(
    tokens: Mapping[str, TokenSet],
    config: GraphConfig | None = None,
    modalities: Sequence[str] | None = None,
    edge_cache: EdgeCache | None = None,
) -> Any:
    """Build a patient's :class:`torch_geometric.data.HeteroData`.

    Args:
        tokens: the patient's token sets by modality (missing modalities simply absent).
        config: edge settings (default :class:`GraphConfig`).
        modalities: the cohort's modality order for the presence mask (default: sorted keys of
            ``tokens``); a key of ``tokens`` not listed here is an error.
        edge_cache: where to find/keep intra-modality edges (None: always computed).

    Returns:
        The graph; ``data[HUB].mask`` is ``[1, M]`` bool.

    Raises:
        ConfigError: a token set's modality is not in ``modalities`` or is named ``patient``.

    Shapes:
        ``data[m].x``: ``[T_m, D_m]`` float32; ``data[m].pos``: ``[T_m, P_m]`` when positions
        exist; each ``edge_index``: ``[2, E]`` int64.
    """
    import torch
    from torch_geometric.data import HeteroData

    config = config or GraphConfig()
    order = list(modalities) if modalities is not None else sorted(tokens)
    unknown = sorted(set(tokens) - set(order))
    if unknown or HUB in tokens:
        raise ConfigError(f"token modalities {unknown or [HUB]} not in the graph's modalities {order}", field="modalities")
    data = HeteroData()
    data[HUB].num_nodes = 1
    data[HUB].mask = torch.tensor([[m in tokens for m in order]], dtype=torch.bool)
    for m in order:
        if m not in tokens:
            continue
        ts = tokens[m]
        data[m].x = torch.from_numpy(np.ascontiguousarray(ts.tokens, dtype=np.float32))
        if ts.positions is not None:
            data[m].pos = torch.from_numpy(np.ascontiguousarray(ts.positions, dtype=np.float32))
        data[m, "intra", m].edge_index = torch.from_numpy(intra_edges(m, ts, config, edge_cache))
        to_hub = torch.stack([torch.arange(ts.n_tokens), torch.zeros(ts.n_tokens, dtype=torch.long)])
        data[m, "to_hub", HUB].edge_index = to_hub
        data[HUB, "from_hub", m].edge_index = to_hub.flip(0)
    return data


def align_schema(data: Any, dims: Mapping[str, int]) -> Any:
    """Give a graph every modality node type of the cohort (absent ones with 0 nodes).

    Batching needs one schema; an empty node set carries no values, unlike zero-filled tokens.
    ``pos`` is not aligned (models do not read it), so it is dropped where only some have it.

    Args:
        data: a graph from :func:`build_patient_graph` (modified in place and returned).
        dims: token dimension per modality.
    """
    import torch

    for m, d in dims.items():
        if m not in data.node_types:
            data[m].x = torch.zeros((0, d), dtype=torch.float32)
        for et in ((m, "intra", m), (m, "to_hub", HUB), (HUB, "from_hub", m)):
            if et not in data.edge_types:
                data[et].edge_index = torch.zeros((2, 0), dtype=torch.long)
        if "pos" in data[m]:
            del data[m].pos
    return data
