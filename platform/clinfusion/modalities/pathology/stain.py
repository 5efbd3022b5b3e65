"""Macenko stain normalisation (Macenko et al., ISBI 2009), vectorised with numpy.

In optical density (OD) space each pixel is a non-negative mix of two stain vectors
(haematoxylin, eosin). Macenko finds the plane of the two largest principal directions of the
OD of stained pixels, takes the robust extreme angles (``alpha`` and ``100 - alpha``
percentiles) in that plane as the stain vectors, solves the per-pixel concentrations by least
squares, rescales them so their 99th percentile matches a reference, and re-renders with the
reference stain matrix. One fit per slide (on pixels pooled from its tiles), then one matrix
product per batch. OD uses the package's single convention (:mod:`.optical_density`, ``I0 = 256``)
rather than the reference code's ``Io = 240``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.pathology.optical_density import intensity, optical_density

# Reference H&E stain vectors (columns, OD RGB) and 99th-percentile concentrations from Macenko's
# reference implementation, widely used as the default target.
REF_STAINS = np.array([[0.5626, 0.2159], [0.7201, 0.8012], [0.4062, 0.5581]], np.float64)
REF_MAX_CONC = np.array([1.9705, 1.0308], np.float64)


@dataclass(frozen=True)
class StainFit:
    """A fitted slide: stain matrix ``[3, 2]`` (H, E columns) and 99th-percentile concentrations ``[2]``."""

    stains: np.ndarray
    max_conc: np.ndarray


def _od(rgb: np.ndarray) -> np.ndarray:
    """Float64 OD ``[P, 3]`` of ``[..., 3]`` uint8 pixels (:mod:`.optical_density`, ``I0 = 256``)."""
    return optical_density(rgb.reshape(-1, 3), np.float64)


def fit_macenko(rgb: np.ndarray, beta: float = 0.15, alpha: float = 1.0, max_pixels: int = 200_000, seed: int = 0) -> StainFit:
    """Estimate a slide's stain matrix from RGB pixels.

    Args:
        rgb: ``[..., 3]`` uint8 pixels (e.g. a batch of tiles).
        beta: OD threshold below which pixels count as transparent.
        alpha: percentile for the robust extreme angles.
        max_pixels: random subsample size (the fit is a 3x3 eigenproblem plus percentiles).
        seed: subsampling seed.

    Raises:
        IngestError: too few stained pixels to fit.
    """
    od = _od(rgb)
    od = od[(od > beta).all(axis=1)]
    if len(od) < 100:
        raise IngestError(f"Macenko fit needs stained pixels; found {len(od)}", field="stain_normalize")
    if len(od) > max_pixels:
        od = od[np.random.default_rng(seed).choice(len(od), max_pixels, replace=False)]
    _, vecs = np.linalg.eigh(np.cov(od.T))
    plane = vecs[:, 1:3]
    plane = plane * np.sign(plane.sum(axis=0, keepdims=True) + 1e-12)  # point into positive OD
    proj = od @ plane
    phi = np.arctan2(proj[:, 1], proj[:, 0])
    lo, hi = np.percentile(phi, [alpha, 100 - alpha])
    v1 = plane @ np.array([np.cos(lo), np.sin(lo)])
    v2 = plane @ np.array([np.cos(hi), np.sin(hi)])
    # Haematoxylin absorbs more red than eosin: its first OD component is the larger one.
    stains = np.stack([v1, v2], axis=1) if v1[0] > v2[0] else np.stack([v2, v1], axis=1)
    conc = np.linalg.pinv(stains) @ od.T
    return StainFit(stains, np.percentile(conc, 99, axis=1))


def normalize_macenko(rgb: np.ndarray, fit: StainFit) -> np.ndarray:
    """Re-render pixels with the reference stains.

    Args:
        rgb: ``[..., 3]`` uint8.
        fit: the slide's :class:`StainFit`.

    Returns:
        Same shape, uint8.
    """
    od = _od(rgb)
    conc = np.linalg.pinv(fit.stains) @ od.T  # least squares for all pixels at once
    conc *= (REF_MAX_CONC / np.maximum(fit.max_conc, 1e-6))[:, None]
    out = intensity(REF_STAINS @ conc)
    return np.clip(out.T, 0, 255).astype(np.uint8).reshape(rgb.shape)
