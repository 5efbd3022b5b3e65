"""Edge builders for patient graphs: pure functions on arrays, no files, no HeteroData.

Every builder returns a ``[2, E]`` int64 edge index over ``T`` tokens, without self-loops,
with both directions present (message passing inside a modality is symmetric) and without
duplicates, sorted for determinism.
"""

from __future__ import annotations

import numpy as np


def _symmetric(src: np.ndarray, dst: np.ndarray, n: int | None = None) -> np.ndarray:
    """Both directions, duplicates and self-loops removed, sorted by (src, dst).

    Pairs are deduplicated as one int64 key ``src * n + dst`` (same order as sorting the pairs).
    """
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    a, b = np.concatenate([src, dst]), np.concatenate([dst, src])
    keep = a != b
    a, b = a[keep], b[keep]
    if a.size == 0:
        return np.zeros((2, 0), dtype=np.int64)
    n = int(max(a.max(), b.max())) + 1 if n is None else int(n)
    key = np.sort(a * n + b)  # sort + neighbour compare: np.unique's hash path is ~10x slower here
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    return np.stack([key // n, key % n]).astype(np.int64)


def knn_edges(points: np.ndarray, k: int) -> np.ndarray:
    """k-nearest-neighbour edges (Euclidean) between rows of ``points``.

    Ties in distance are broken by the lower index, so the result is deterministic.

    Args:
        points: coordinates or features.
        k: neighbours per token (clipped to ``T - 1``).

    Returns:
        Symmetric edge index (see :func:`knn_neighbours`: KD-tree, O(T log T) time, O(T k) memory,
        identical to the dense all-pairs rule).

    Shapes:
        points: ``[T, P]``; output: ``[2, E]`` with ``E <= 2 * T * k``.
    """
    pts = np.asarray(points, dtype=np.float64)
    t = pts.shape[0]
    k = min(int(k), t - 1)
    if k <= 0:
        return np.zeros((2, 0), dtype=np.int64)
    nbr = knn_neighbours(pts, k)
    src = np.repeat(np.arange(t), k)
    return _symmetric(src, nbr.reshape(-1), t)


def knn_neighbours(points: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest other rows of every row (Euclidean), exact, ties by the lower index.

    A KD-tree (``scipy.spatial.cKDTree``) proposes candidates; their squared distances are then
    recomputed with the same float64 expression as a dense ``[T, T]`` matrix would use, and each
    row is ordered by (distance, index). A row is accepted only when its k-th distance is strictly
    below the tree's farthest returned candidate (with a relative margin far above the tree's
    rounding), so no unreturned point can tie with or beat the k-th; other rows are asked again
    with twice as many candidates. The answer is therefore identical to the dense reference
    (``argsort`` of the full matrix, stable) including tie order, at O(T log T) time and O(T k)
    memory for low-dimensional points (tile coordinates); in high dimension the tree is still
    exact but approaches a brute-force scan. Non-finite inputs use the dense rule in row blocks.

    Args:
        points: coordinates or features.
        k: neighbours per row, ``1 <= k <= T - 1``.

    Returns:
        ``[T, k]`` int64 neighbour indices, nearest first.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[:, None]
    t = pts.shape[0]
    if not np.isfinite(pts).all():
        return _blocked_dense_neighbours(pts, k)
    from scipy.spatial import cKDTree

    tree = cKDTree(pts)
    out = np.empty((t, k), dtype=np.int64)
    rows = np.arange(t)
    want = min(t, k + 2)  # self + k + one spare, so a tie at the k-th is usually visible at once
    while rows.size:
        dist, idx = tree.query(pts[rows], k=want, workers=1)
        dist, idx = dist.reshape(rows.size, want), idx.reshape(rows.size, want)
        missing = idx >= t  # fewer than `want` points (cannot happen while want <= t, kept for safety)
        d2 = ((pts[rows][:, None, :] - pts[np.where(missing, 0, idx)]) ** 2).sum(-1)
        d2[(idx == rows[:, None]) | missing] = np.inf  # never yourself, as the dense diagonal
        order = np.lexsort((idx, d2), axis=-1)[:, :k]
        kth = np.take_along_axis(d2, order[:, -1:], axis=1)[:, 0]
        done = (want >= t) | (np.sqrt(kth) * (1.0 + 1e-9) < dist[:, -1])
        out[rows[done]] = np.take_along_axis(idx, order, axis=1)[done]
        rows = rows[~done]
        want = min(t, 2 * want)
    return out


def _blocked_dense_neighbours(pts: np.ndarray, k: int, block: int = 256) -> np.ndarray:
    """The dense rule (full distance rows, self = inf, stable argsort) on ``block`` rows at a time."""
    t = pts.shape[0]
    out = np.empty((t, k), dtype=np.int64)
    for start in range(0, t, block):
        stop = min(t, start + block)
        d = ((pts[start:stop, None, :] - pts[None, :, :]) ** 2).sum(-1)
        d[np.arange(stop - start), np.arange(start, stop)] = np.inf
        out[start:stop] = np.argsort(d, axis=1, kind="stable")[:, :k]
    return out


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
