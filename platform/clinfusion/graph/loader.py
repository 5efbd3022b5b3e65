"""Batching patient graphs with PyG's DataLoader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clinfusion.graph.build import align_schema


def graph_loader(
    graphs: Sequence[Any], dims: Mapping[str, int], batch_size: int = 32, shuffle: bool = False, seed: int = 0
) -> Any:
    """A :class:`torch_geometric.loader.DataLoader` over patient graphs with one schema.

    Args:
        graphs: graphs from :func:`~clinfusion.graph.build.build_patient_graph`.
        dims: token dimension per cohort modality (absent types are added empty).
        batch_size: patients per batch (``<= 0``: all in one batch).
        shuffle: reshuffle every epoch with a generator seeded by ``seed`` (deterministic).

    Returns:
        The loader; ``batch["patient"].mask`` is ``[B, M]``.
    """
    import torch
    from torch_geometric.loader import DataLoader

    aligned = [align_schema(g, dims) for g in graphs]
    gen = torch.Generator().manual_seed(seed) if shuffle else None
    size = len(aligned) if batch_size <= 0 else batch_size
    return DataLoader(aligned, batch_size=max(size, 1), shuffle=shuffle, generator=gen)
