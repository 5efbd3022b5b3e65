"""Tissue detection on a low-resolution rendering of the slide.

Tissue is coloured (stained) while glass is bright and grey, so the mask is Otsu's threshold on
HSV saturation, AND-ed with "not near-white" (optical density above a floor, which removes
saturated-looking JPEG noise on glass). Morphological opening removes specks, closing joins
fragmented tissue, holes are filled, and connected regions below a minimum area (in um^2, so
the result does not depend on the thumbnail size) are dropped.
"""

from __future__ import annotations

import functools

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from clinfusion.modalities.pathology.optical_density import OD_LUT


class TissueConfig(BaseModel):
    """Tissue-mask settings.

    Attributes:
        thumbnail_px: longest side of the rendering the mask is computed on (cost ~ its area).
        min_saturation: lower bound on the Otsu saturation threshold (0..1), so a slide that is
            all glass does not get a threshold inside the noise.
        min_od: minimum mean optical density of a tissue pixel.
        min_region_um2: connected regions smaller than this are dropped (um^2).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    thumbnail_px: int = Field(1024, ge=64, le=8192)
    min_saturation: float = Field(0.05, ge=0.0, le=1.0)
    min_od: float = Field(0.05, ge=0.0)
    min_region_um2: float = Field(20000.0, ge=0.0)


def saturation(rgb: np.ndarray) -> np.ndarray:
    """HSV saturation in [0, 1] of ``[..., 3]`` uint8 RGB."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = np.maximum(np.maximum(r, g), b).astype(np.float32)
    mn = np.minimum(np.minimum(r, g), b).astype(np.float32)
    return np.where(mx > 0, (mx - mn) / np.maximum(mx, 1.0), 0.0)


def _max_min_code(rgb: np.ndarray) -> np.ndarray:
    """``max * 256 + min`` channel of ``[..., 3]`` uint8 RGB (uint16)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    code = np.maximum(np.maximum(r, g), b).astype(np.uint16)
    code <<= 8
    code |= np.minimum(np.minimum(r, g), b)
    return code


def _sat_table() -> np.ndarray:
    mx, mn = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8), indexing="ij")
    return saturation(np.stack([mx, mn, mn], axis=-1)).ravel()  # same float32 maths as saturation()


_SAT_TABLE = _sat_table()


def _otsu_histogram(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """skimage's 256-bin image histogram (counts, bin centres) of ``values`` repeated ``counts`` times.

    ``np.histogram`` bins each value on its own, so weighting the distinct values by their
    counts gives the same histogram as binning every pixel.
    """
    hist, edges = np.histogram(values, bins=256, weights=counts)
    return hist.astype(np.int64), (edges[:-1] + edges[1:]) / 2.0


@functools.lru_cache(maxsize=8)
def _od_blue_limit(min_od: float) -> np.ndarray:
    """Per (red, green) pair, the largest blue for which mean optical density > ``min_od`` (-1: none).

    The test is ``(lut[r] + lut[g] + lut[b]) / 3 > min_od`` in float32, as written out per pixel;
    OD falls with intensity and float rounding is monotone, so for fixed (r, g) it holds exactly
    for b <= limit: a binary search over b for all 65,536 pairs at once (checked against the
    per-pixel formula over all 2^24 colours in the tests).

    Returns:
        ``[65536]`` int16, index ``r * 256 + g``.
    """
    lut = OD_LUT
    rg = (lut[:, None] + lut[None, :]).ravel()
    lo, hi = np.zeros(rg.size, np.int64), np.full(rg.size, 256, np.int64)  # first failing b in [lo, hi]
    while (lo < hi).any():
        mid = (lo + hi) // 2
        fail = ((rg + lut[np.minimum(mid, 255)]) / np.float32(3.0) > min_od) == np.False_
        fail &= lo < hi
        hi = np.where(fail, mid, hi)
        lo = np.where(~fail & (lo < hi), mid + 1, lo)
    return (lo - 1).astype(np.int16)


def tissue_mask(rgb: np.ndarray, um_per_px: float, config: TissueConfig | None = None) -> np.ndarray:
    """Boolean tissue mask of a low-resolution RGB rendering.

    Args:
        rgb: ``[H, W, 3]`` uint8 thumbnail.
        um_per_px: thumbnail resolution (um per thumbnail pixel), for the minimum region area.
        config: settings.

    Returns:
        ``[H, W]`` bool, True on tissue.
    """
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    config = config or TissueConfig()
    # Saturation depends only on a pixel's (max, min) channel pair: 64k distinct values at most,
    # so it is looked up in a table, and Otsu's histogram is built from the pair counts.
    code = _max_min_code(rgb)
    sat_table = _SAT_TABLE
    pair_counts = np.bincount(code.ravel(), minlength=65536)
    present = np.flatnonzero(pair_counts)
    values = sat_table[present]
    try:
        thr = threshold_otsu(hist=_otsu_histogram(values, pair_counts[present])) if values.max() > values.min() else 1.0
    except ValueError:
        thr = 1.0
    sat_ok = sat_table > max(thr, config.min_saturation)  # per (max, min) pair
    rg = rgb[..., 0].astype(np.uint16)
    rg <<= 8
    rg |= rgb[..., 1]
    mask = sat_ok[code] & (rgb[..., 2] <= _od_blue_limit(config.min_od)[rg])
    mask = _dilate(_erode(mask, 3), 3)  # opening, 3x3
    mask = _erode(_dilate(mask, 5), 5)  # closing, 5x5
    mask = _fill_holes(mask)
    labels, n = ndimage.label(mask)
    if n:
        areas = np.bincount(labels.ravel())[1:] * um_per_px**2
        keep = np.concatenate([[False], areas >= config.min_region_um2])
        mask = keep[labels]
    return mask


def _box(mask: np.ndarray, size: int, erode: bool) -> np.ndarray:
    """Binary erosion/dilation by a ``size`` x ``size`` square, separably with shifted slices.

    Same result as ``scipy.ndimage.binary_erosion/dilation`` with ``np.ones((size, size))`` and
    the default border (outside = False), at a fraction of the cost.
    """
    r = size // 2
    op = np.logical_and if erode else np.logical_or
    out = mask
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        padded = np.pad(out, pad, constant_values=False)
        n = out.shape[axis]
        window = [slice(None), slice(None)]
        window[axis] = slice(0, n)
        acc = padded[tuple(window)].copy()
        for k in range(1, size):
            window[axis] = slice(k, k + n)
            op(acc, padded[tuple(window)], out=acc)
        out = acc
    return out


def _erode(mask: np.ndarray, size: int) -> np.ndarray:
    return _box(mask, size, erode=True)


def _dilate(mask: np.ndarray, size: int) -> np.ndarray:
    return _box(mask, size, erode=False)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.binary_fill_holes``: background regions not touching the border become True."""
    from scipy import ndimage

    labels, n = ndimage.label(~mask)
    if not n:
        return mask
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.zeros(n + 1, bool)
    outside[border] = True
    outside[0] = False
    return mask | ~outside[labels] & (labels > 0)


def tile_tissue_fraction(mask: np.ndarray, xs: np.ndarray, ys: np.ndarray, tile_l0: float, downsample: float) -> np.ndarray:
    """Fraction of tissue under each tile, from the mask's integral image (vectorised).

    Args:
        mask: ``[H, W]`` bool tissue mask at ``downsample`` level-0 px per mask px.
        xs, ys: ``[N]`` tile top-left corners in level-0 pixels.
        tile_l0: tile side in level-0 pixels.
        downsample: level-0 pixels per mask pixel.

    Returns:
        ``[N]`` float in [0, 1].
    """
    h, w = mask.shape
    x0 = np.clip(np.floor(xs / downsample).astype(int), 0, w)
    y0 = np.clip(np.floor(ys / downsample).astype(int), 0, h)
    x1 = np.clip(np.ceil((xs + tile_l0) / downsample).astype(int), 0, w)
    y1 = np.clip(np.ceil((ys + tile_l0) / downsample).astype(int), 0, h)
    area = np.maximum((x1 - x0) * (y1 - y0), 1)
    # Tiles of one grid row share their mask rows: per distinct row band, cumulative column counts
    # (one pass over the mask in all, instead of a full 2-D integral image).
    inside = np.zeros(len(xs), np.int64)
    bands, which = np.unique(np.stack([y0, y1], axis=1), axis=0, return_inverse=True)
    order = np.argsort(which.ravel(), kind="stable")
    ends = np.cumsum(np.bincount(which.ravel(), minlength=len(bands)))
    for (a, b), stop, start in zip(bands, ends, np.concatenate([[0], ends[:-1]]), strict=True):
        cum = np.zeros(w + 1, np.int64)
        np.cumsum(np.count_nonzero(mask[a:b], axis=0), out=cum[1:])
        sel = order[start:stop]
        inside[sel] = cum[x1[sel]] - cum[x0[sel]]
    return inside / area
