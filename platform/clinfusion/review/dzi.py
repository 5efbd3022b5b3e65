"""Deep Zoom (DZI) pyramid of a slide from the workspace's de-identified pixels, for the slide viewer.

The workspace holds no copy of the slide file (the app must work from the workspace alone), but
it holds two pixel sources per slide (:mod:`clinfusion.modalities.pathology.read`):
``thumbnail.png`` (the tissue level, ``thumbnail_downsample`` level-0 px per px) and
``tile_pixels.npy`` (every kept tissue tile at the grid level, ``tile_px`` px for ``tile_l0``
level-0 px). The pyramid's full-resolution image is the slide at the stored tile resolution
(``tile_px / tile_l0`` px per level-0 px); a tile is the thumbnail resampled to the tile's area
with the kept tiles' own pixels pasted over it.

Level and tile geometry is OpenSlide's :class:`openslide.deepzoom.DeepZoomGenerator`
(``tile_size`` 254, ``overlap`` 1, ``limit_bounds`` False) exactly: level ``L`` halves the size with
ceiling down to 1 x 1; tile ``(col, row)`` starts ``tile_size * t - overlap`` (no overlap on the
first) and is ``min(tile_size, dim - tile_size * t)`` plus the overlaps wide. Tested against it.

Which tiles are embedded (:func:`viewer_payload`): every tile of every level up to the first level
at least as fine as the thumbnail, and above it only tiles that touch a kept tissue tile (elsewhere
the viewer draws the coarser level scaled, which holds the same pixels); the finest levels are
left out when the JPEG tiles would exceed the byte budget, and the payload says which level is the
finest embedded.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TILE_SIZE = 254
OVERLAP = 1
BUDGET_BYTES = 24 * 2 ** 20
JPEG_QUALITY = 85


def level_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """Deep Zoom level sizes ``[(w, h), ...]`` from level 0 (1 x 1) to the full image."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width} x {height}")
    size = (int(width), int(height))
    dims = [size]
    while size[0] > 1 or size[1] > 1:
        size = (max(1, math.ceil(size[0] / 2)), max(1, math.ceil(size[1] / 2)))
        dims.append(size)
    return dims[::-1]


def level_tiles(dims: tuple[int, int], tile_size: int = TILE_SIZE) -> tuple[int, int]:
    """(columns, rows) of tiles of a level of size ``dims``."""
    return math.ceil(dims[0] / tile_size), math.ceil(dims[1] / tile_size)


def tile_box(dims: tuple[int, int], col: int, row: int, tile_size: int = TILE_SIZE,
             overlap: int = OVERLAP) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` in level px of tile ``(col, row)`` of a level of size ``dims``, overlaps included.

    Raises:
        ValueError: the tile is outside the level's tile grid.
    """
    cols, rows = level_tiles(dims, tile_size)
    if not (0 <= col < cols and 0 <= row < rows):
        raise ValueError(f"tile ({col}, {row}) is outside the {cols} x {rows} tile grid")
    out = []
    for t, lim, n in ((col, dims[0], cols), (row, dims[1], rows)):
        tl, br = overlap * int(t != 0), overlap * int(t != n - 1)
        out.append((tile_size * t - tl, min(tile_size, lim - tile_size * t) + tl + br))
    return out[0][0], out[1][0], out[0][1], out[1][1]


@dataclass
class SlidePixels:
    """A slide's stored pixels.

    Attributes:
        width, height: level-0 size in px.
        thumbnail: ``[h, w, 3]`` uint8; thumb_ds: level-0 px per thumbnail px.
        tiles: kept tiles with ``x``, ``y`` (level-0 top-left) and ``tile_l0`` (side in level-0 px).
        pixels: ``[kept, tile_px, tile_px, 3]`` uint8 (memory-mapped) or None when not stored.
        scale: pyramid full-resolution px per level-0 px.
        mpp: level-0 micrometres per px (None if unknown).
    """

    width: int
    height: int
    thumbnail: np.ndarray
    thumb_ds: float
    tiles: pd.DataFrame
    pixels: np.ndarray | None
    scale: float
    mpp: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def full_size(self) -> tuple[int, int]:
        """Size of the pyramid's finest level in px."""
        return max(1, round(self.width * self.scale)), max(1, round(self.height * self.scale))


def load_slide_pixels(slide_dir: Path) -> SlidePixels:
    """The stored pixels of one slide's artifact directory.

    Raises:
        ValueError: ``slide.json`` lacks the size or the thumbnail scale (names file and field).
    """
    from PIL import Image

    from clinfusion.modalities.pathology.tile_store import TILE_PIXELS_FILE

    slide_dir = Path(slide_dir)
    meta = json.loads((slide_dir / "slide.json").read_text())
    for key in ("width", "height", "thumbnail_downsample"):
        if not meta.get(key):
            raise ValueError(f"{slide_dir / 'slide.json'}: field '{key}' is missing or zero")
    tiles = pd.read_parquet(slide_dir / "tiles.parquet")
    kept = (tiles[tiles["kept"]] if "kept" in tiles else tiles).reset_index(drop=True)
    thumb = np.asarray(Image.open(slide_dir / "thumbnail.png").convert("RGB"))
    px_path = slide_dir / TILE_PIXELS_FILE
    pixels = np.load(px_path, mmap_mode="r") if px_path.exists() else None
    if pixels is not None and len(pixels) != len(kept):
        pixels = None  # not the kept tiles of this tiles.parquet: use the thumbnail only
    if pixels is not None and len(kept):
        scale = float(pixels.shape[1]) / float(kept["tile_l0"].median())
    else:
        scale = 1.0 / float(meta["thumbnail_downsample"])
    mpp = float(meta["mpp_x"]) if meta.get("mpp_x") else None
    return SlidePixels(int(meta["width"]), int(meta["height"]), thumb, float(meta["thumbnail_downsample"]), kept, pixels,
                       scale, mpp, meta)


def render_tile(sp: SlidePixels, level: int, col: int, row: int) -> np.ndarray:
    """Pixels ``[h, w, 3]`` uint8 of DZI tile ``(col, row)`` of ``level`` (see the module docstring)."""
    from PIL import Image

    dims = level_dimensions(*sp.full_size)
    if not 0 <= level < len(dims):
        raise ValueError(f"level {level} is outside 0..{len(dims) - 1}")
    x, y, w, h = tile_box(dims[level], col, row)
    k = dims[level][0] / sp.width  # level px per level-0 px
    x0, y0, x1, y1 = x / k, y / k, (x + w) / k, (y + h) / k  # level-0 px
    thumb = Image.fromarray(sp.thumbnail)
    box = (x0 / sp.thumb_ds, y0 / sp.thumb_ds, min(x1 / sp.thumb_ds, thumb.width), min(y1 / sp.thumb_ds, thumb.height))
    out = thumb.resize((w, h), Image.Resampling.BILINEAR, box=box)
    if sp.pixels is not None and k > 1.0 / sp.thumb_ds:
        for i in _touching(sp, x0, y0, x1, y1):
            t = sp.tiles.iloc[i]
            side = max(1, round(float(t["tile_l0"]) * k))
            tile = Image.fromarray(np.asarray(sp.pixels[i])).resize((side, side), Image.Resampling.BILINEAR)
            out.paste(tile, (round((float(t["x"]) - x0) * k), round((float(t["y"]) - y0) * k)))
    return np.asarray(out)


def _touching(sp: SlidePixels, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Indices of kept tiles that intersect the level-0 box."""
    if sp.tiles.empty:
        return np.zeros(0, np.int64)
    tx, ty, tl = (sp.tiles[c].to_numpy(float) for c in ("x", "y", "tile_l0"))
    return np.flatnonzero((tx < x1) & (tx + tl > x0) & (ty < y1) & (ty + tl > y0))


def jpeg_b64(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> str:
    """Base64 JPEG of an RGB tile."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def viewer_payload(slide_dir: Path, budget_bytes: int = BUDGET_BYTES) -> dict[str, Any]:
    """JSON-ready arguments of the slide viewer: the embedded tiles and the pyramid geometry.

    Keys: ``full_width``, ``full_height`` (full level px), ``slide_width``, ``slide_height`` (level-0 px),
    ``levels`` (count), ``tile_size``, ``overlap``, ``tiles`` {"L/col_row": base64 JPEG},
    ``finest_level`` (finest level embedded), ``full_level`` (finest level of the pyramid),
    ``mpp_full`` (micrometres per full-level px or None), ``bytes`` (embedded base64 size).
    """
    sp = load_slide_pixels(slide_dir)
    dims = level_dimensions(*sp.full_size)
    tiles: dict[str, str] = {}
    used, finest = 0, -1
    for level, d in enumerate(dims):
        k = d[0] / sp.width
        dense = k <= 1.0 / sp.thumb_ds * 1.0001 or sp.pixels is None
        batch: dict[str, str] = {}
        cols, rows = level_tiles(d)
        for c in range(cols):
            for r in range(rows):
                if not dense:
                    x, y, w, h = tile_box(d, c, r)
                    if not len(_touching(sp, x / k, y / k, (x + w) / k, (y + h) / k)):
                        continue
                batch[f"{level}/{c}_{r}"] = jpeg_b64(render_tile(sp, level, c, r))
        size = sum(len(v) for v in batch.values())
        if used + size > budget_bytes and finest >= 0:
            break
        tiles.update(batch)
        used += size
        finest = level
        if sp.pixels is None and k >= 1.0 / sp.thumb_ds:
            break  # no finer pixels than the thumbnail's
    full_w, full_h = sp.full_size
    return {"full_width": full_w, "full_height": full_h, "slide_width": sp.width, "slide_height": sp.height, "levels": len(dims),
            "tile_size": TILE_SIZE, "overlap": OVERLAP, "tiles": tiles, "finest_level": finest, "full_level": len(dims) - 1,
            "mpp_full": (sp.mpp / sp.scale) if sp.mpp else None, "bytes": used}


def heat_layer(slide_dir: Path, scores: np.ndarray, name: str) -> dict[str, Any]:
    """Per-tile score layer of the viewer: one rectangle per kept tile, in level-0 px.

    Args:
        scores: ``[kept tiles]`` one score per kept row of ``tiles.parquet`` (e.g. attention weight).
        name: what the scores are (shown in the colour bar).

    Returns:
        ``{"name", "x", "y", "size", "score", "lo", "hi"}`` (lists; lo/hi: the colour bar's range).

    Raises:
        ValueError: the number of scores differs from the kept tiles (names the file).
    """
    tiles = pd.read_parquet(Path(slide_dir) / "tiles.parquet")
    kept = tiles[tiles["kept"]] if "kept" in tiles else tiles
    s = np.asarray(scores, np.float64)
    if len(s) != len(kept):
        raise ValueError(f"{Path(slide_dir) / 'tiles.parquet'}: {len(kept)} kept tiles but {len(s)} scores")
    finite = s[np.isfinite(s)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return {"name": name, "x": kept["x"].astype(float).tolist(), "y": kept["y"].astype(float).tolist(),
            "size": kept["tile_l0"].astype(float).tolist(), "score": [float(v) for v in s], "lo": lo, "hi": hi}


def attention_scores(slide_dir: Path, attention: pd.DataFrame | None, item: str, tokens: Any = None) -> np.ndarray | None:
    """Per-kept-tile attention weights of one slide from a run's token attention rows, or None.

    Prototype tokens (``tokens``, :func:`clinfusion.modalities.pathology.heatmap.prototype_tokens`)
    give each tile its prototype's weight; otherwise a tile token's weight goes to the kept tile at
    its position (tiles without a token: NaN).
    """
    if attention is None:
        return None
    rows = attention[attention["modality"] == "pathology"]
    if tokens is not None and item in list(tokens.meta.get("slides", [])):
        from clinfusion.modalities.pathology.heatmap import tile_scores

        vec = np.zeros(tokens.n_tokens)
        vec[rows["token_index"].to_numpy(np.int64)] = rows["weight"].to_numpy(np.float64)
        return np.asarray(tile_scores(vec, tokens, slide=list(tokens.meta["slides"]).index(item)), np.float64)
    mine = rows[rows["source"] == item].dropna(subset=["pos_0", "pos_1"])
    if mine.empty:
        return None
    tiles = pd.read_parquet(Path(slide_dir) / "tiles.parquet")
    kept = (tiles[tiles["kept"]] if "kept" in tiles else tiles).reset_index(drop=True)
    pos = {(int(x), int(y)): i for i, (x, y) in enumerate(zip(kept["x"], kept["y"], strict=True))}
    out = np.full(len(kept), np.nan)
    for x, y, w in zip(mine["pos_0"], mine["pos_1"], mine["weight"], strict=True):
        i = pos.get((int(round(x)), int(round(y))))
        if i is not None:
            out[i] = float(w)
    return out if np.isfinite(out).any() else None
