"""KD-tree k-NN edges against the dense all-pairs implementation they replaced (kept here as the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.featurize.tokens import TokenSet
from clinfusion.graph import GraphConfig
from clinfusion.graph.build import intra_edges
from clinfusion.graph.cache import EdgeCache
from clinfusion.graph.edges import _blocked_dense_neighbours, knn_edges, knn_neighbours


def dense_knn_edges(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The previous implementation, verbatim: a [T, T] distance matrix, stable argsort, np.unique on pairs."""
    pts = np.asarray(points, dtype=np.float64)
    t = pts.shape[0]
    k = min(int(k), t - 1)
    if k <= 0:
        return np.zeros((2, 0), dtype=np.int64), None
    d = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nbr = np.argsort(d, axis=1, kind="stable")[:, :k]
    src = np.repeat(np.arange(t), k)
    pairs = np.concatenate([np.stack([src, nbr.reshape(-1)]), np.stack([nbr.reshape(-1), src])], axis=1)
    pairs = pairs[:, pairs[0] != pairs[1]]
    if pairs.shape[1] == 0:
        return np.zeros((2, 0), dtype=np.int64), nbr
    return np.unique(pairs.T, axis=0).T.astype(np.int64), nbr


def _points(rng: np.random.Generator, kind: str, t: int, p: int) -> np.ndarray:
    if kind == "integer grid":  # many exact distance ties
        return rng.integers(0, 4, (t, p)).astype(np.float64)
    if kind == "duplicates":  # exact duplicate points (distance 0 to someone else than yourself)
        return np.repeat(rng.integers(0, 3, (t // 3 + 1, p)), 3, axis=0)[:t] * 0.1
    if kind == "tile grid":  # tile top-left coordinates in level-0 px: 4 ties at 1 step, 4 at the diagonal
        side = int(np.ceil(np.sqrt(t)))
        g = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:t] * 256.0
        return g if p == 2 else rng.normal(size=(t, p))
    return rng.normal(size=(t, p))


@pytest.mark.parametrize("kind", ["integer grid", "duplicates", "tile grid", "gaussian"])
@pytest.mark.parametrize("p", [1, 2, 31])
def test_identical_to_dense_including_tie_order(kind: str, p: int) -> None:
    rng = np.random.default_rng(abs(hash((kind, p))) % 2**32)
    for t in (1, 2, 3, 5, 9, 40, 150):
        pts = _points(rng, kind, t, p)
        for k in (1, 2, 3, 4, 8, 12, 200):  # 200 > T: clipped to T - 1 as before
            want, want_nbr = dense_knn_edges(pts, k)
            got = knn_edges(pts, k)
            assert got.dtype == np.int64 and got.shape == want.shape, (kind, p, t, k)
            np.testing.assert_array_equal(got, want)
            if want_nbr is not None:  # the neighbour lists themselves, nearest first, ties by lower index
                np.testing.assert_array_equal(knn_neighbours(pts, want_nbr.shape[1]), want_nbr)


def test_tie_order_is_the_lower_index() -> None:
    # point 2 is equidistant from 1 and 3: its nearest is 1 (lower index), never 3
    nbr = knn_neighbours(np.array([[0.0], [1.0], [2.0], [3.0], [10.0]]), 1)
    assert nbr[:, 0].tolist() == [1, 0, 1, 2, 3]


def test_non_finite_points_follow_the_dense_rule() -> None:
    pts = np.random.default_rng(3).normal(size=(30, 3))
    pts[4, 1] = np.nan
    pts[7, 0] = np.inf
    with np.errstate(invalid="ignore"):
        want, _ = dense_knn_edges(pts, 4)
        np.testing.assert_array_equal(knn_edges(pts, 4), want)
        np.testing.assert_array_equal(_blocked_dense_neighbours(pts, 4, block=7), _blocked_dense_neighbours(pts, 4))


def test_memory_is_linear_in_tokens_on_a_large_slide() -> None:
    """30,000 tiles: the dense matrix would need 30000^2 * 2 * 8 B = 14 GB; the tree builds edges in O(T k)."""
    import tracemalloc

    side = 174  # 30,276 tiles
    g = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) * 256.0
    tracemalloc.start()
    e = knn_edges(g, 8)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200 * 2**20  # bytes; a [T, T] float64 alone would be 7.3 GB
    deg = np.bincount(e[0], minlength=len(g))
    assert deg.min() >= 8 and deg.max() <= 16  # each tile its 8 nearest, plus those choosing it


def test_edge_cache_key_is_unchanged_by_the_tree() -> None:
    """The KD-tree gives the dense result, so cached edges stay valid: the key (and its value) must not move."""
    ts = TokenSet(np.zeros((5, 2), np.float32), positions=np.array([[0, 0], [256, 0], [512, 0], [0, 256], [256, 256]], float))
    params = {"k_spatial": 8, "k_feature": 4, "min_jaccard": 0.05}
    key = EdgeCache.key("pathology", "spatial_knn", params, ts)
    # golden digest of the key before the KD-tree (cache.py unchanged); bump it only with a deliberate key change
    assert key == "364fa20cee5702ecc3314a3ae203bb2f0051bcaca38d815609baf02cda80e711"
    cache = EdgeCache()
    cache.put(key, dense_knn_edges(ts.positions, 8)[0])
    np.testing.assert_array_equal(intra_edges("pathology", ts, GraphConfig(), cache), knn_edges(ts.positions, 8))
    assert cache.hits == 1
