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


DEFAULT_PROTOTYPE_ABOVE = 2048
"""Kept tiles per slide above which a slide is compressed to prototypes by default (0 = never)."""
DEFAULT_SLIDE_PROTOTYPES = 512
"""Prototypes per compressed slide by default (so a slide contributes at most 2,048 tokens)."""


def slide_kmeans(features: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Deterministic mini-batch k-means labels of one slide's tiles.

    Features are z-scored per slide first (the 31 handcrafted features have very different
    scales), then :class:`sklearn.cluster.MiniBatchKMeans` runs single-threaded (thread count
    changes float sums, hence labels) from ``seed``; empty clusters are dropped and labels renumbered
    by first appearance in tile order, so equal inputs give equal labels on any machine.
    Cost: about ``T * k * D`` multiply-adds per pass, linear in the tile count ``T``.

    Args:
        features: ``[T, D]`` tile features of one slide.
        k: prototypes wanted (``<= T``).
        seed: k-means seed.

    Returns:
        ``[T]`` int64 labels in ``0..K'-1`` with ``K' <= k`` non-empty clusters.
    """
    from sklearn.cluster import MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    x = np.asarray(features, np.float64)
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    with threadpool_limits(1):
        km = MiniBatchKMeans(n_clusters=k, random_state=seed, batch_size=2048, n_init=1, init_size=4096,
                             max_iter=50, max_no_improvement=5, reassignment_ratio=0.01).fit(z)
        labels = km.predict(z).astype(np.int64)
    first = np.unique(labels, return_index=True)[1]  # sorted labels' first tile
    renumber = np.empty(k, np.int64)
    renumber[labels[np.sort(first)]] = np.arange(len(first))
    return renumber[labels]


def compress_large_slides(tokens: TokenSet, above: int = DEFAULT_PROTOTYPE_ABOVE,
                          k: int = DEFAULT_SLIDE_PROTOTYPES, seed: int = 0) -> TokenSet:
    """Replace the tiles of every slide with more than ``above`` tiles by at most ``k`` prototypes.

    Slides at or below the threshold keep their tiles untouched (and when no slide is above it the
    same object is returned). A prototype token is the mean of its member tiles' features, sits at
    their mean position (level-0 px) and keeps the slide of its members (clusters never mix
    slides), so a patient has at most ``sum over slides of min(T_s, max(above, k))`` tokens and
    graph / attention memory per patient is bounded whatever the slide size.

    Args:
        tokens: a patient's tile tokens ``[T, D]``, positions ``[T, 2]``, groups ``[T]`` = slide
            index (tiles of a slide contiguous, slides in order, as the pathology encoders build them).
        above: compress slides with more kept tiles than this (0: never).
        k: prototypes per compressed slide.
        seed: k-means seed (the same for every slide: the result depends only on the slide's tiles).

    Returns:
        The token set; when compressed, ``meta["prototype_counts"]`` (``[T']`` tiles per token,
        1 for uncompressed tiles), ``meta["tile_assignment"]`` (``[T]`` output token of every
        input tile, in input order) and ``meta["prototypes"]`` (the settings and compressed slides).
    """
    groups = np.zeros(tokens.n_tokens, np.int64) if tokens.groups is None else np.asarray(tokens.groups, np.int64)
    sizes = np.bincount(groups) if groups.size else np.zeros(0, np.int64)
    large = [int(g) for g in np.flatnonzero(sizes > above)] if above > 0 else []
    if not large:
        return tokens
    feats, pos, grp, counts, names = [], [], [], [], []
    assignment = np.empty(tokens.n_tokens, np.int64)
    start = 0
    for g in np.unique(groups):  # slide order; each slide's tiles keep their relative order
        rows = np.flatnonzero(groups == g)
        if int(g) in large:
            labels = slide_kmeans(tokens.tokens[rows], min(k, len(rows)), seed)
        else:
            labels = np.arange(len(rows))
        n = int(labels.max()) + 1
        c = np.bincount(labels, minlength=n)
        feats.append(_member_mean(tokens.tokens[rows], labels, c).astype(tokens.tokens.dtype))
        if tokens.positions is not None:
            pos.append(_member_mean(tokens.positions[rows], labels, c).astype(tokens.positions.dtype))
        grp.append(np.full(n, g, np.int64))
        counts.append(c)
        if tokens.names is not None:
            names += ([f"slide{int(g)}_prototype_{j}" for j in range(n)] if int(g) in large
                      else [tokens.names[r] for r in rows])
        assignment[rows] = start + labels
        start += n
    meta = dict(tokens.meta, prototype_counts=np.concatenate(counts).tolist(), tile_assignment=assignment.tolist(),
                prototypes={"above": int(above), "k": int(k), "seed": int(seed), "compressed_groups": large})
    return TokenSet(np.concatenate(feats), positions=np.concatenate(pos) if pos else None, groups=np.concatenate(grp),
                    feature_names=tokens.feature_names, names=names if tokens.names is not None else None, meta=meta)


def _member_mean(values: np.ndarray, labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``[K, P]`` mean of ``values [T, P]`` per label (float64 accumulation, one bincount per column)."""
    v = np.asarray(values, np.float64)
    sums = np.stack([np.bincount(labels, weights=v[:, j], minlength=len(counts)) for j in range(v.shape[1])], axis=1)
    return sums / np.maximum(counts, 1)[:, None]


def compress_tokens(tokens: TokenSet, config: object) -> TokenSet:
    """The pathology encoders' compression step from their config.

    ``config.prototypes > 0``: patient-level k-means to that many prototypes
    (:func:`kmeans_prototypes`, explicit choice). Otherwise slides above ``config.prototype_above``
    tiles become ``config.slide_prototypes`` prototypes each (:func:`compress_large_slides`, the
    default); configs without these fields use the module defaults.
    """
    seed = int(getattr(config, "seed", 0))
    k = int(getattr(config, "prototypes", 0))
    if k:
        return kmeans_prototypes(tokens, k, seed)
    return compress_large_slides(tokens, int(getattr(config, "prototype_above", DEFAULT_PROTOTYPE_ABOVE)),
                                 int(getattr(config, "slide_prototypes", DEFAULT_SLIDE_PROTOTYPES)), seed)
