"""Handcrafted H&E tile features: stains, nuclei, colour and texture (no weights, vectorised).

Per tile (``FEATURE_NAMES``, 31 values):

- colour deconvolution (Ruifrok & Johnston; scikit-image's HED matrix) into haematoxylin (H),
  eosin (E) and residual (D) optical densities (:mod:`.optical_density`, ``I0 = 256``): mean, standard deviation and 90th percentile of
  H and E, mean of D;
- nuclei proxy: fraction of pixels with H above ``H_NUCLEUS`` and the number of connected
  H-dense blobs per 10,000 px (a nuclei-density estimate), their mean H;
- colour moments: mean, standard deviation and skewness of R, G, B (0..1);
- texture: the rotation-invariant uniform local binary pattern histogram (Ojala et al. 2002; the
  codes of ``skimage.feature.local_binary_pattern``, batched in :func:`uniform_lbp_codes`; P = 8 neighbours on a circle of radius 1 px, method
  ``"uniform"``: P + 2 = 10 bins, ``lbp_0..lbp_8`` the uniform patterns by number of brighter
  neighbours, ``lbp_9`` every non-uniform pattern), mean gradient magnitude and Laplacian
  variance (:func:`.quality.laplacian_variance`, the quality check's sharpness).

Feature change: until this version ``lbp_0..lbp_8`` counted the brighter of the 8 square
neighbours (any arrangement), 9 bins and 30 features per tile; workspaces featurized before the
change hold 30-column ``features.npy`` and must be re-ingested for the 31-feature encoders.

Everything is computed for a whole batch ``[N, H, W, 3]`` with array operations; the blob count
labels the whole batch in one call with a structuring element that cannot connect tiles.
"""

from __future__ import annotations

import numpy as np

from clinfusion.modalities.pathology.optical_density import OD_LUT

FEATURE_STRIDE = 2  # features are computed on every 2nd pixel (see handcrafted_features)
H_NUCLEUS = 0.12  # OD of haematoxylin above which a pixel is nucleus-like (H&E at 0.5 um/px)
STAT_NAMES = ["h_mean", "h_std", "h_p90", "e_mean", "e_std", "e_p90", "d_mean"]
NUCLEI_NAMES = ["nuclei_frac", "nuclei_per_10k_px", "nuclei_h_mean"]
COLOUR_NAMES = [f"{c}_{m}" for m in ("mean", "std", "skew") for c in "rgb"]
LBP_POINTS = 8  # neighbours of the uniform LBP (radius 1 px); its histogram has LBP_POINTS + 2 bins
TEXTURE_NAMES = [f"lbp_{k}" for k in range(LBP_POINTS + 2)] + ["grad_mean", "lap_var"]
FEATURE_NAMES = STAT_NAMES + NUCLEI_NAMES + COLOUR_NAMES + TEXTURE_NAMES


def _hed_from_rgb() -> np.ndarray:
    from skimage.color import hed_from_rgb

    return np.asarray(hed_from_rgb, np.float32)


def stain_features(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H/E/D statistics ``[N, 7]`` and the H channel ``[N, H, W]`` of planar tiles ``[3, N, H, W]`` uint8."""
    n = p.shape[1]
    od = OD_LUT[p.reshape(3, -1)]  # [3, N*P]: per-channel table lookup instead of the log
    hed = (_hed_from_rgb().T @ od).reshape(3, n, -1)  # one BLAS call for all pixels
    np.maximum(hed, np.float32(0.0), out=hed)
    size = hed.shape[-1]
    mean = hed.sum(-1, dtype=np.float64) / size
    sq = np.einsum("knp,knp->kn", hed, hed, dtype=np.float64) / size
    std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    p90 = _percentile_last(hed[:2], 90.0)
    stats = np.stack([mean[0], std[0], p90[0], mean[1], std[1], p90[1], mean[2]], axis=1)
    return stats, hed[0].reshape(n, *p.shape[2:])


def _percentile_last(x: np.ndarray, q: float) -> np.ndarray:
    """``np.percentile(x, q, axis=-1)`` (linear interpolation) with one partition instead of a sort."""
    size = x.shape[-1]
    pos = q / 100.0 * (size - 1)
    k = int(np.floor(pos))
    part = np.partition(x, k, axis=-1)
    lo = part[..., k].astype(np.float64)
    hi = part[..., k + 1:].min(-1).astype(np.float64) if k + 1 < size else lo
    return lo + (hi - lo) * (pos - k)


def nuclei_features(h: np.ndarray) -> np.ndarray:
    """Nuclei proxies ``[N, 3]`` from the haematoxylin OD ``[N, H, W]``."""
    from scipy import ndimage

    n = len(h)
    dense = h > H_NUCLEUS
    flat = dense.reshape(n, -1)
    frac = flat.mean(1)
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)  # connect within a tile only
    labels, _ = ndimage.label(dense, structure=structure)
    # Labels are assigned in raster order, so tile i owns the range (max of tiles < i, max of tile i].
    per_tile_max = np.maximum.accumulate(labels.reshape(n, -1).max(1))
    count = np.diff(np.concatenate([[0], per_tile_max]))
    area = h.shape[1] * h.shape[2]
    h_in = (h * dense).reshape(n, -1).sum(1) / np.maximum(flat.sum(1), 1)
    return np.stack([frac, count * 1e4 / area, h_in], axis=1)


def colour_moments(p: np.ndarray) -> np.ndarray:
    """Mean, std, skewness of R, G, B in [0, 1] of planar tiles ``[3, N, H, W]`` uint8: ``[N, 9]``.

    Exact moments from per-tile, per-channel 256-bin histograms (one ``bincount``).
    """
    n = p.shape[1]
    offsets = ((np.arange(n)[None, :] + n * np.arange(3)[:, None]) * 256).reshape(3, n, 1)
    idx = (p.reshape(3, n, -1) + offsets).ravel()
    hist = np.bincount(idx, minlength=3 * n * 256).reshape(3, n, 256).astype(np.float64)
    hist /= hist.sum(-1, keepdims=True)
    v = np.arange(256) / 255.0
    mean = hist @ v
    d = v[None, None, :] - mean[..., None]
    var = (hist * d**2).sum(-1)
    std = np.sqrt(var)
    skew = (hist * d**3).sum(-1) / np.maximum(std, 1e-6) ** 3
    return np.concatenate([mean.T, std.T, skew.T], axis=1)


def uniform_lbp_codes(u8: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP codes (P = 8, R = 1) of a batch of grey uint8 tiles.

    The codes of ``skimage.feature.local_binary_pattern(tile, 8, 1, method="uniform")`` for every
    tile (identical, checked against skimage in the tests), computed for the whole batch with
    array operations instead of one call per tile (about 2x faster, bench/pathology_texture.py).
    As in skimage: neighbour ``i`` sits at angle ``2 pi i / 8`` on a circle of radius 1, the
    diagonal ones bilinearly interpolated (same float64 operations, offsets rounded to 5
    decimals), outside the tile is 0; a neighbour >= the centre is a 1; a pattern with at most two
    0/1 changes along neighbours 0..7 gets its number of ones (0..8), any other pattern 9.

    Shapes:
        u8: ``[N, H, W]`` uint8; returns ``[N, H, W]`` int codes in ``0..LBP_POINTS + 1``.
    """
    n, h, w = u8.shape
    img = np.zeros((n, h + 2, w + 2), np.float64)
    img[:, 1:-1, 1:-1] = u8
    centre = img[:, 1:-1, 1:-1]
    angle = 2 * np.pi * np.arange(LBP_POINTS, dtype=np.float64) / LBP_POINTS
    rp, cp = np.round(-np.sin(angle), 5), np.round(np.cos(angle), 5)
    rows, cols = np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64)

    def window(dy: int, dx: int) -> np.ndarray:
        return img[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    ones = np.zeros((n, h, w), np.uint8)
    changes = np.zeros((n, h, w), np.uint8)
    prev = None
    for i in range(LBP_POINTS):
        r, c = rows + rp[i], cols + cp[i]
        dr, dc = (r - np.floor(r))[:, None], (c - np.floor(c))[None, :]  # per row / column, as skimage
        y0, x0 = int(np.floor(rp[i])), int(np.floor(cp[i]))
        y1, x1 = int(np.ceil(rp[i])), int(np.ceil(cp[i]))
        if (y0, x0) == (y1, x1):  # on the grid: the pixel itself
            tex = window(y0, x0)
        else:
            top = (1 - dc) * window(y0, x0) + dc * window(y0, x1)
            bottom = (1 - dc) * window(y1, x0) + dc * window(y1, x1)
            tex = (1 - dr) * top + dr * bottom
        bit = (tex - centre) >= 0
        ones += bit
        if prev is not None:
            changes += bit != prev
        prev = bit
    return np.where(changes <= 2, ones, LBP_POINTS + 1)


def lbp_histograms(gray: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP histograms of grey tiles (fractions summing to 1 per tile).

    Codes from :func:`uniform_lbp_codes` on the luma rounded to uint8 (skimage recommends integer
    images: with floats, near-ties flip); only interior pixels are counted, since outside the tile
    counts as 0 (a dark frame). Rotating a tile by a multiple of 90 degrees or mirroring it leaves
    the histogram unchanged.

    Shapes:
        gray: ``[N, H, W]`` float 0..255 (H, W >= 3); returns ``[N, LBP_POINTS + 2]`` float64.
    """
    n_bins = LBP_POINTS + 2
    u8 = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    codes = uniform_lbp_codes(u8)[:, 1:-1, 1:-1].reshape(len(u8), -1)
    offsets = (np.arange(len(u8), dtype=np.intp) * n_bins)[:, None]
    hist = np.bincount((codes + offsets).ravel(), minlength=n_bins * len(u8)).reshape(len(u8), n_bins)
    return hist / codes.shape[1]


def texture_features(p: np.ndarray, gray: np.ndarray | None = None) -> np.ndarray:
    """Uniform LBP histogram (10), mean gradient magnitude, log(1 + Laplacian variance): ``[N, 12]``.

    ``gray``: ``gray_planes(p)`` if already computed (by the quality checks).
    """
    from clinfusion.modalities.pathology.quality import gray_planes, laplacian_variance

    g = gray_planes(p) if gray is None else gray
    n = len(g)
    hist = lbp_histograms(g)
    gx, gy = g[:, 1:-1, 2:] - g[:, 1:-1, :-2], g[:, 2:, 1:-1] - g[:, :-2, 1:-1]
    gx *= gx
    gy *= gy
    gx += gy
    grad = np.sqrt(gx, out=gx).reshape(n, -1).mean(1) / 255.0
    lap = laplacian_variance(g)
    return np.concatenate([hist, grad[:, None], np.log1p(lap)[:, None]], axis=1)


def handcrafted_features(tiles: np.ndarray, stride: int = FEATURE_STRIDE) -> np.ndarray:
    """All handcrafted features of a tile batch.

    Args:
        tiles: RGB tiles.
        stride: analyse every ``stride``-th pixel (2 at 0.5 um/px = 1 um/px, still resolving
            nuclei of 5-10 um; 4x less work, measured in bench/pathology.py).

    Shapes:
        tiles: ``[N, H, W, 3]`` uint8 RGB; returns ``[N, len(FEATURE_NAMES)]`` float32.
    """
    from clinfusion.modalities.pathology.quality import planes

    if len(tiles) == 0:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    return features_from_planes(planes(tiles[:, ::stride, ::stride]))  # [3, N, h, w]: channels contiguous


def features_from_planes(p: np.ndarray, gray: np.ndarray | None = None) -> np.ndarray:
    """:func:`handcrafted_features` of tiles already subsampled and made planar ``[3, N, h, w]`` uint8.

    ``gray``: ``[N, h, w]`` luma of the same tiles if already computed (see :func:`texture_features`).
    """
    if p.shape[1] == 0:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    stats, h = stain_features(p)
    out = np.concatenate([stats, nuclei_features(h), colour_moments(p), texture_features(p, gray)], axis=1)
    return out.astype(np.float32)
