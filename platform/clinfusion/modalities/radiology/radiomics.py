"""Radiomics-style features of a masked region: first-order statistics, shape and GLCM texture.

Values are put on fixed, cohort-independent scales (HU / 1000, log10 mm3, extents / 100 mm) so
the tokens are comparable across patients without fitting anything on the cohort; z-scoring on
the training fold belongs to the training pipeline.
"""

from __future__ import annotations

import numpy as np

FIRST_ORDER = ("mean", "std", "p10", "p50", "p90", "skewness", "kurtosis", "entropy", "range")
SHAPE = ("log10_volume_mm3", "extent_x_dm", "extent_y_dm", "extent_z_dm", "sphericity")
GLCM = ("glcm_contrast", "glcm_homogeneity", "glcm_energy", "glcm_correlation", "glcm_dissimilarity")
FEATURE_NAMES: tuple[str, ...] = FIRST_ORDER + SHAPE + GLCM


def first_order(values: np.ndarray, scale: float) -> list[float]:
    """First-order statistics of 1D ``values`` divided by ``scale`` (1000 for HU)."""
    v = np.asarray(values, dtype=np.float64) / scale
    if v.size == 0:
        return [0.0] * len(FIRST_ORDER)
    mean, std = float(v.mean()), float(v.std())
    z = (v - mean) / std if std > 0 else np.zeros_like(v)
    p10, p50, p90 = (float(x) for x in np.percentile(v, [10, 50, 90]))
    hist, _ = np.histogram(v, bins=64)
    p = hist[hist > 0] / v.size
    return [mean, std, p10, p50, p90, float((z**3).mean()), float((z**4).mean() - 3), float(-(p * np.log2(p)).sum()),
            float(v.max() - v.min())]


def shape_features(mask: np.ndarray, spacing_mm: tuple[float, float, float]) -> list[float]:
    """Volume, bounding extents (x, y, z in dm) and sphericity of a ``[k, j, i]`` mask.

    Surface area counts exposed voxel faces (overestimates smooth surfaces by up to ~1.5x;
    deterministic and cheap), so sphericity is comparable across masks, not to pyradiomics.
    """
    sk, sj, si = spacing_mm
    n = int(mask.sum())
    if n == 0:
        return [0.0] * len(SHAPE)
    vol = n * sk * sj * si
    padded = np.pad(mask, 1)
    faces = [np.count_nonzero(np.diff(padded, axis=a)) for a in range(3)]
    area = faces[0] * sj * si + faces[1] * sk * si + faces[2] * sk * sj
    k, j, i = np.nonzero(mask)
    ext = [(np.ptp(i) + 1) * si / 100, (np.ptp(j) + 1) * sj / 100, (np.ptp(k) + 1) * sk / 100]
    sph = float(np.pi ** (1 / 3) * (6 * vol) ** (2 / 3) / area) if area else 0.0
    return [float(np.log10(vol)), *map(float, ext), sph]


def glcm_features(image: np.ndarray, mask: np.ndarray, lo: float, hi: float, levels: int = 32) -> list[float]:
    """GLCM texture on the mask's largest axial slice, grey levels quantised in ``[lo, hi]``.

    Distances 1, angles 0/45/90/135 degrees, symmetric and normalised; properties averaged.
    Voxels outside the mask are level 0 and excluded from the matrix.
    """
    from skimage.feature import graycomatrix, graycoprops

    if not mask.any():
        return [0.0] * len(GLCM)
    k = int(np.argmax(mask.reshape(mask.shape[0], -1).sum(axis=1)))
    q = np.clip((image[k] - lo) / max(hi - lo, 1e-6), 0, 1) * (levels - 2) + 1
    q = np.where(mask[k], q, 0).astype(np.uint8)
    m = graycomatrix(q, [1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=levels, symmetric=True, normed=False)
    m = m[1:, 1:].astype(np.float64)
    sums = m.sum(axis=(0, 1), keepdims=True)
    if not sums.all():
        return [0.0] * len(GLCM)
    m = m / sums
    props = [float(np.nan_to_num(graycoprops(m, p)).mean()) for p in
             ("contrast", "homogeneity", "energy", "correlation", "dissimilarity")]
    props[0] /= (levels - 1) ** 2
    props[4] /= levels - 1
    return props


def region_features(image: np.ndarray, mask: np.ndarray, spacing_mm: tuple[float, float, float], *,
                    ct: bool, levels: int = 32) -> np.ndarray:
    """All :data:`FEATURE_NAMES` of one mask.

    Args:
        image: ``[k, j, i]`` values (HU for CT); mask: same shape, bool.
        spacing_mm: (slice, row, col); ct: HU scaling and window -1000..400 for GLCM, else
            per-image 1..99 percentiles.

    Returns:
        ``[len(FEATURE_NAMES)]`` float64.
    """
    vals = image[mask]
    if ct:
        scale, lo, hi = 1000.0, -1000.0, 400.0
    else:
        p1, p99 = (float(x) for x in np.percentile(vals, [1, 99])) if vals.size else (0.0, 1.0)
        scale, lo, hi = max(p99, 1e-6), p1, p99
    feats = first_order(vals, scale) + shape_features(mask, spacing_mm) + glcm_features(image, mask, lo, hi, levels)
    return np.nan_to_num(np.asarray(feats, dtype=np.float64))
