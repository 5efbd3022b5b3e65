"""Cohort similarity graph: patients as nodes, k-NN on fused embeddings, for retrieval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _cosine(emb: np.ndarray) -> np.ndarray:
    x = np.asarray(emb, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x @ x.T


@dataclass(frozen=True)
class SimilarityGraph:
    """Directed k-NN graph over patients.

    Attributes:
        patient_ids: node order.
        edge_index: ``[2, N * k]``: row 0 the patient, row 1 one of its neighbours.
        weight: ``[N * k]`` cosine similarity of each edge.
    """

    patient_ids: tuple[str, ...]
    edge_index: np.ndarray
    weight: np.ndarray

    def neighbours(self, patient_id: str) -> list[tuple[str, float]]:
        """The neighbours of one patient, most similar first."""
        i = self.patient_ids.index(patient_id)
        sel = self.edge_index[0] == i
        return [(self.patient_ids[j], float(w)) for j, w in zip(self.edge_index[1, sel], self.weight[sel], strict=True)]


def cohort_similarity_graph(embeddings: np.ndarray, patient_ids: Sequence[str], k: int = 5) -> SimilarityGraph:
    """k nearest patients of every patient by cosine similarity of their fused embeddings.

    Ties are broken by the lower index (stable sort), so the graph is deterministic.

    Args:
        embeddings: one fused embedding per patient (e.g. the fusion model's [CLS] output).
        patient_ids: pseudonyms in row order.
        k: neighbours per patient (clipped to ``N - 1``).

    Shapes:
        embeddings: ``[N, H]``.
    """
    emb = np.asarray(embeddings)
    if emb.ndim != 2 or emb.shape[0] != len(patient_ids):
        raise ValueError(f"embeddings must be [N={len(patient_ids)}, H], got {emb.shape}")
    n = emb.shape[0]
    k = max(0, min(int(k), n - 1))
    sim = _cosine(emb)
    np.fill_diagonal(sim, -np.inf)
    nbr = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    src = np.repeat(np.arange(n), k)
    dst = nbr.reshape(-1)
    return SimilarityGraph(tuple(patient_ids), np.stack([src, dst]).astype(np.int64), sim[src, dst])
