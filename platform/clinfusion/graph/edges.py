"""Edge builders for patient graphs: pure functions on arrays, no files, no HeteroData.

Every builder returns a ``[2, E]`` int64 edge index over ``T`` tokens, without self-loops,
with both directions present (message passing inside a modality is symmetric) and without
duplicates, sorted for determinism.
"""

from __future__ import annotations

import numpy as np


def _symmetric(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Both directions, duplicates and self-loops removed, sorted by (src, dst)."""
    pairs = np.concatenate([np.stack([src, dst]), np.stack([dst, src])], axis=1)
    pairs = pairs[:, pairs[0] != pairs[1]]
    if pairs.shape[1] == 0:
        return np.zeros((2, 0), dtype=np.int64)
    return np.unique(pairs.T, axis=0).T.astype(np.int64)


def knn_edges(points: np.ndarray, k: int) -> np.ndarray:
    """k-nearest-neighbour edges (Euclidean) between rows of ``points``.

    Ties in distance are broken by the lower index, so the result is deterministic.

    Args:
        points: coordinates or features.
        k: neighbours per token (clipped to ``T - 1``).

    Returns:
        Symmetric edge index.

    Shapes:
        points: ``[T, P]``; output: ``[2, E]`` with ``E <= 2 * T * k``.
    """
    pts = np.asarray(points, dtype=np.float64)
    t = pts.shape[0]
    k = min(int(k), t - 1)
    if k <= 0:
        return np.zeros((2, 0), dtype=np.int64)
    d = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nbr = np.argsort(d, axis=1, kind="stable")[:, :k]
    src = np.repeat(np.arange(t), k)
    return _symmetric(src, nbr.reshape(-1))


def sequential_edges(order: np.ndarray | None, n: int, groups: np.ndarray | None = None) -> np.ndarray:
    """Edges between consecutive tokens (ECG leads or windows, report sentences).

    Args:
        order: sort key per token (e.g. lead index, sentence order); ``None``: token order.
        n: number of tokens.
        groups: source per token (slide, ECG window, report); consecutive tokens of different
            groups are not linked.

    Shapes:
        order, groups: ``[T]``; output: ``[2, E]`` with ``E = 2 * (T - n_groups)``.
    """
    key = np.arange(n) if order is None else np.asarray(order, dtype=np.float64)
    grp = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups)
    idx = np.lexsort((np.arange(n), key, grp))  # by group, then position, then index
    same = grp[idx[:-1]] == grp[idx[1:]]
    return _symmetric(idx[:-1][same], idx[1:][same])


def set_overlap_edges(members: list[list[str]], min_jaccard: float) -> np.ndarray:
    """Edges between gene sets (pathway tokens) whose member overlap is large enough.

    Args:
        members: the genes of each set, aligned with the tokens.
        min_jaccard: link two sets when ``|A & B| / |A | B| >= min_jaccard`` (and > 0).

    Shapes:
        output: ``[2, E]``.
    """
    sets = [set(m) for m in members]
    src, dst = [], []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            union = len(sets[i] | sets[j])
            inter = len(sets[i] & sets[j])
            if inter and inter / union >= min_jaccard:
                src.append(i)
                dst.append(j)
    return _symmetric(np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64))
