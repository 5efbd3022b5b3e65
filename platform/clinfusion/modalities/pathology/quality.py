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


def hue_saturation_value(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HSV of ``[..., 3]`` uint8 RGB: hue in degrees [0, 360), saturation and value in [0, 1]."""
    x = rgb.astype(np.float32) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    mx, mn = x.max(-1), x.min(-1)
    delta = mx - mn
    safe = np.where(delta > 0, delta, 1.0)
    hue = np.where(mx == r, ((g - b) / safe) % 6.0, np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    hue = np.where(delta > 0, hue * 60.0, 0.0)
    sat = np.where(mx > 0, delta / np.maximum(mx, 1e-6), 0.0)
    return hue, sat, mx


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
    sub = tiles[:, ::s, ::s]
    hue, sat, val = hue_saturation_value(sub)
    n = len(tiles)
    background = ((sat < 0.08) & (val > 0.85)).reshape(n, -1).mean(1)
    he_hue = (hue >= 250.0) | (hue <= 30.0)
    ink = ((sat > 0.35) & ~he_hue & (val > 0.1)) | (val < 0.12)
    pen = ink.reshape(n, -1).mean(1)
    gray = sub.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    sharp = laplacian_variance(gray)
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
