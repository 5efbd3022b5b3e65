"""Optical density (Beer-Lambert) of 8-bit RGB: the one conversion used by tissue detection,
handcrafted stain features and Macenko normalisation.

``OD = -log((I + 1) / I0)`` per channel, with ``I0 = 256``: the ``+ 1`` keeps black finite
(OD ``log 256 = 5.55``) and ``I0 = 256`` puts white (``I = 255``) at OD exactly 0, so every
uint8 value has a non-negative OD. Macenko's reference code uses ``I0 = 240`` (an estimate of
its scanner's glass brightness); this package uses one ``I0`` everywhere, so a pixel has the same
OD in the tissue mask, in the stain features and in the Macenko fit (a pixel brighter than 239
is no longer given a negative OD there).
"""

from __future__ import annotations

import numpy as np

I0 = 256.0  # incident intensity in uint8 units (+1 convention: 255 -> OD 0); see module docstring


def optical_density(rgb: np.ndarray, dtype: type[np.floating] = np.float32) -> np.ndarray:
    """Per-channel optical density ``-log((I + 1) / I0)`` of uint8 intensities.

    Args:
        rgb: uint8 intensities of any shape (``[..., 3]`` RGB, or a ``[256]`` ramp for a table).
        dtype: float type of the result (float32 for feature tables, float64 for the Macenko fit).

    Returns:
        Same shape, ``dtype``, in ``[0, log(I0)]`` (dimensionless, natural log).
    """
    return -np.log((np.asarray(rgb).astype(dtype) + dtype(1.0)) / dtype(I0))


def intensity(od: np.ndarray) -> np.ndarray:
    """Inverse of :func:`optical_density`: ``I0 * exp(-OD) - 1`` (float; the caller clips to uint8)."""
    return I0 * np.exp(-np.asarray(od)) - 1.0


# OD of every uint8 intensity (float32): OD is per-channel, so a 256-entry table replaces the log.
OD_LUT = optical_density(np.arange(256, dtype=np.uint8))
