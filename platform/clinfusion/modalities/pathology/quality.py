"""Tile quality checks, vectorised over a batch of tiles.

Three cheap checks, each a threshold on one statistic so a user can reason about it:

- ``background``: fraction of bright, grey pixels (glass) above ``max_background``;
- ``blur``: variance of the Laplacian of the grey image below ``min_sharpness`` (out of focus);
- ``pen``: fraction of strongly saturated pixels whose hue is outside the H&E purple-pink range
  (blue, green and black ink) above ``max_pen``.

Statistics are computed on every second pixel (``stride``): the checks are about a tile's
bulk, and this halves their cost relative to tile reading (measured in bench/pathology.py).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

REASONS = ("background", "blur", "pen")


class QualityConfig(BaseModel):
    """Quality-check thresholds (see module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_background: float = Field(0.85, ge=0.0, le=1.0)
    min_sharpness: float = Field(50.0, ge=0.0)
    max_pen: float = Field(0.05, ge=0.0, le=1.0)
    stride: int = Field(2, ge=1, le=8)


def planes(rgb: np.ndarray) -> np.ndarray:
    """Channel-planar contiguous copy ``[3, ...]`` uint8 of ``[..., 3]`` RGB (fast per-channel maths)."""
    return np.ascontiguousarray(np.moveaxis(rgb, -1, 0))


def _hue(r: np.ndarray, g: np.ndarray, b: np.ndarray, mx: np.ndarray, delta: np.ndarray) -> np.ndarray:
    safe = np.where(delta > 0, delta, 1.0)
    hue = np.where(mx == r, ((g - b) / safe) % 6.0, np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    return np.where(delta > 0, hue * 60.0, 0.0)


def _sat_val(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Saturation, value and value - min (float32, 0..1) from planar uint8 ``[3, ...]``."""
    mx8 = np.maximum(np.maximum(p[0], p[1]), p[2])
    mn8 = np.minimum(np.minimum(p[0], p[1]), p[2])
    mx = mx8.astype(np.float32) / np.float32(255.0)
    delta = mx - mn8.astype(np.float32) / np.float32(255.0)
    sat = np.where(mx > 0, delta / np.maximum(mx, np.float32(1e-6)), np.float32(0.0))
    return sat, mx, delta


def hue_saturation_value(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HSV of ``[..., 3]`` uint8 RGB: hue in degrees [0, 360), saturation and value in [0, 1]."""
    p = planes(rgb)
    sat, mx, delta = _sat_val(p)
    r, g, b = (c.astype(np.float32) / np.float32(255.0) for c in p)
    return _hue(r, g, b, mx, delta), sat, mx


def _pen_ink(p: np.ndarray, sat: np.ndarray, val: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Ink pixels: saturated with a non-H&E hue, or near black (hue computed only where needed)."""
    strong = (sat > 0.35) & (val > 0.1)
    ink = val < 0.12
    if strong.any():
        r, g, b = (c[strong].astype(np.float32) / np.float32(255.0) for c in p)
        hue = _hue(r, g, b, val[strong], delta[strong])
        ink[strong] |= ~((hue >= 250.0) | (hue <= 30.0))
    return ink


def gray_planes(p: np.ndarray) -> np.ndarray:
    """Luma ``0.299 R + 0.587 G + 0.114 B`` (float32, 0..255) of planar uint8 ``[3, ...]``."""
    g = p[0].astype(np.float32) * np.float32(0.299)
    g += p[1].astype(np.float32) * np.float32(0.587)
    g += p[2].astype(np.float32) * np.float32(0.114)
    return g


def laplacian_variance(gray: np.ndarray) -> np.ndarray:
    """Variance of the 4-neighbour Laplacian per image.

    Shapes:
        gray: ``[N, H, W]`` float; returns ``[N]``.
    """
    lap = gray[:, 1:-1, :-2] + gray[:, 1:-1, 2:] + gray[:, :-2, 1:-1] + gray[:, 2:, 1:-1] - 4.0 * gray[:, 1:-1, 1:-1]
    return lap.reshape(len(gray), -1).var(axis=1)


def tile_quality(tiles: np.ndarray, config: QualityConfig | None = None) -> dict[str, np.ndarray]:
    """Quality statistics and flags of a batch of tiles.

    Args:
        tiles: ``[N, H, W, 3]`` uint8 RGB.
        config: thresholds.

    Returns:
        ``background_frac``, ``sharpness``, ``pen_frac`` (``[N]`` float) and one bool flag per
        reason in :data:`REASONS` (True = the tile fails that check).
    """
    config = config or QualityConfig()
    s = config.stride
    return quality_from_planes(planes(tiles[:, ::s, ::s]), config)


def quality_from_planes(p: np.ndarray, config: QualityConfig) -> dict[str, np.ndarray]:
    """:func:`tile_quality` of tiles already subsampled by ``config.stride`` and made planar.

    Shapes:
        p: ``[3, N, h, w]`` uint8 (see :func:`planes`).
    """
    n = p.shape[1]
    sat, val, delta = _sat_val(p)
    background = ((sat < 0.08) & (val > 0.85)).reshape(n, -1).mean(1)
    pen = _pen_ink(p, sat, val, delta).reshape(n, -1).mean(1)
    sharp = laplacian_variance(gray_planes(p))
    return {
        "background_frac": background,
        "sharpness": sharp,
        "pen_frac": pen,
        "background": background > config.max_background,
        "blur": (sharp < config.min_sharpness) & (background <= config.max_background),
        "pen": pen > config.max_pen,
    }


def drop_reason(flags: dict[str, np.ndarray]) -> np.ndarray:
    """First failing reason per tile (order of :data:`REASONS`), ``""`` for a kept tile."""
    n = len(flags[REASONS[0]])
    out = np.full(n, "", dtype=object)
    for reason in reversed(REASONS):
        out[flags[reason]] = reason
    return out
