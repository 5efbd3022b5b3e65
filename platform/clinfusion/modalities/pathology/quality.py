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
    """Ink pixels: saturated with a non-H&E hue, or near black (float reference of :func:`_ink_planes`)."""
    strong = (sat > 0.35) & (val > 0.1)
    ink = val < 0.12
    if strong.any():
        r, g, b = (c[strong].astype(np.float32) / np.float32(255.0) for c in p)
        hue = _hue(r, g, b, val[strong], delta[strong])
        ink[strong] |= ~((hue >= 250.0) | (hue <= 30.0))
    return ink


# Saturation and value depend only on a pixel's max and min channel: one 64k-entry table of the
# three float32 tests (computed with _sat_val itself, so identical) replaces the float maths.
_BACKGROUND, _STRONG, _DARK = 1, 2, 4


def _class_table() -> np.ndarray:
    mx, mn = (v.astype(np.uint8) for v in np.meshgrid(np.arange(256), np.arange(256), indexing="ij"))
    sat, val, _ = _sat_val(np.stack([mx, mn, mn]))
    table = np.where((sat < 0.08) & (val > 0.85), _BACKGROUND, 0) | np.where((sat > 0.35) & (val > 0.1), _STRONG, 0)
    table |= np.where(val < 0.12, _DARK, 0)
    table[mn > mx] = 0  # impossible pairs
    return table.astype(np.uint8).ravel()  # index: max * 256 + min


_CLASS = _class_table()


def _he_hue(p: np.ndarray, mx: np.ndarray, d: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Whether each pixel's hue is in the H&E range (<= 30 or >= 250 degrees), in integers.

    With d = max - min > 0: a red-max pixel has hue 60 (g - b) / d (<= 30 iff 2 (g - b) < d, and
    in [300, 360) when g < b), a green-max pixel 60..180 (never H&E), a blue-max pixel
    60 ((r - g) / d + 4) (>= 250 iff 6 (r - g) > d). Exact ties (hue exactly 30 or 250) go
    through the float formula of :func:`_pen_ink`, so the result is identical to it (checked
    over all 2^24 colours in the tests). Only meaningful where d > 0.

    Args:
        valid: pixels whose answer is used (ties elsewhere are not resolved).

    Shapes:
        p: ``[3, ...]`` int16; mx, d: ``[...]`` int16 max and max - min; valid: ``[...]`` bool;
        returns ``[...]`` bool.
    """
    r, g, b = p
    not_rmax = r != mx
    # t > 0: H&E hue, t == 0: exact tie, t < 0: ink hue.
    t = g - b
    t *= -2
    t += d  # red max: d - 2 (g - b)
    rg6 = r - g
    rg6 *= 6
    rg6 -= d  # blue max: 6 (r - g) - d
    np.copyto(t, rg6, where=not_rmax)
    t[not_rmax & (g == mx)] = -1  # green max: never H&E
    he = t > 0
    tie = t == 0
    tie &= valid
    if tie.any():
        rf, gf, bf = (c[tie].astype(np.float32) / np.float32(255.0) for c in p)
        mxf = mx[tie].astype(np.float32) / np.float32(255.0)
        mnf = (mx[tie] - d[tie]).astype(np.float32) / np.float32(255.0)
        hue = _hue(rf, gf, bf, mxf, mxf - mnf)
        he[tie] = (hue >= 250.0) | (hue <= 30.0)
    return he


def _classes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel class bits (see ``_CLASS``) and the max and min channel of planar uint8 ``[3, ...]``."""
    mx = np.maximum(np.maximum(p[0], p[1]), p[2])
    mn = np.minimum(np.minimum(p[0], p[1]), p[2])
    code = mx.astype(np.uint16)
    code <<= 8
    code |= mn
    return _CLASS[code], mx, mn


def _ink_planes(p: np.ndarray, cls: np.ndarray, mx: np.ndarray, mn: np.ndarray) -> np.ndarray:
    """:func:`_pen_ink` from the class bits (hue tested in integers on whole planes)."""
    ink = (cls & _DARK).astype(bool)
    strong = (cls & _STRONG).astype(bool)
    if strong.any():
        mx16 = mx.astype(np.int16)
        ink |= strong & ~_he_hue(p.astype(np.int16), mx16, mx16 - mn, strong)
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


def quality_from_planes(p: np.ndarray, config: QualityConfig, gray: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """:func:`tile_quality` of tiles already subsampled by ``config.stride`` and made planar.

    Args:
        gray: ``gray_planes(p)`` if the caller already has it (shared with texture features).

    Shapes:
        p: ``[3, N, h, w]`` uint8 (see :func:`planes`); gray: ``[N, h, w]`` float32.
    """
    n = p.shape[1]
    cls, mx, mn = _classes(p)
    background = (cls & _BACKGROUND).reshape(n, -1).mean(1)
    pen = _ink_planes(p, cls, mx, mn).reshape(n, -1).mean(1)
    sharp = laplacian_variance(gray_planes(p) if gray is None else gray)
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
