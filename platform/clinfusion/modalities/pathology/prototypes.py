"""Compress a large bag of tile tokens into K prototype tokens with k-means.

A slide gives thousands of tiles; downstream graphs and attention are quadratic or linear in the
token count, so large bags can be summarised by K centroids. Each prototype keeps where its
tiles are (mean level-0 x, y), which slide most of them come from, and how many tiles it stands
for (``meta["prototype_counts"]``), so a heatmap can still be drawn per member tile.
"""

from __future__ import annotations

import numpy as np

from clinfusion.featurize.tokens import TokenSet


def kmeans_prototypes(tokens: TokenSet, k: int, seed: int = 0) -> TokenSet:
    """K prototype tokens of a TokenSet (returned unchanged when it has at most ``k`` tokens).

    Args:
        tokens: tile tokens ``[T, D]`` with positions ``[T, 2]`` and groups ``[T]``.
        k: number of prototypes.
        seed: k-means seed (deterministic output for a given input).

    Returns:
        ``[k, D]`` centroids; positions = member mean; groups = member majority slide;
        ``meta["prototype_counts"]`` = members per prototype; ``meta["tile_assignment"]`` = the
        prototype of every input tile.
    """
    if tokens.n_tokens <= k:
        return tokens
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(tokens.tokens.astype(np.float64))
    labels = km.labels_
    counts = np.bincount(labels, minlength=k)
    positions = None
    if tokens.positions is not None:
        sums = np.zeros((k, tokens.positions.shape[1]))
        np.add.at(sums, labels, tokens.positions)
        positions = sums / np.maximum(counts, 1)[:, None]
    groups = None
    if tokens.groups is not None:
        n_groups = int(tokens.groups.max()) + 1
        votes = np.zeros((k, n_groups), np.int64)
        np.add.at(votes, (labels, tokens.groups), 1)
        groups = votes.argmax(1)
    meta = dict(tokens.meta, prototype_counts=counts.tolist(), tile_assignment=labels.tolist())
    return TokenSet(km.cluster_centers_.astype(np.float32), positions=positions, groups=groups,
                    feature_names=tokens.feature_names, names=[f"prototype_{i}" for i in range(k)], meta=meta)
