"""Overlay renderings for the app: tissue mask and per-tile scores on the slide thumbnail.

Both draw only on the de-identified thumbnail of the tissue level (``thumbnail.png`` in the
slide's artifact directory), never on label or macro images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.errors import ClinFusionError

TISSUE_RGB = np.array([0, 200, 80], np.float32)


def tissue_overlay(thumbnail: np.ndarray, mask: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """Thumbnail with tissue tinted green and its outline drawn.

    Shapes:
        thumbnail: ``[h, w, 3]`` uint8; mask: ``[h, w]`` bool; returns ``[h, w, 3]`` uint8.
    """
    from scipy import ndimage

    out = thumbnail.astype(np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * TISSUE_RGB
    edge = mask & ~ndimage.binary_erosion(mask, iterations=2)
    out[edge] = TISSUE_RGB
    return out.astype(np.uint8)


def score_overlay(thumbnail: np.ndarray, tiles: pd.DataFrame, scores: np.ndarray, downsample: float,
                  alpha: float = 0.5, cmap: str = "inferno") -> np.ndarray:
    """Thumbnail with each tile's score painted over its footprint (min-max scaled colormap).

    Args:
        thumbnail: ``[h, w, 3]`` uint8.
        tiles: rows with ``x``, ``y``, ``tile_l0`` (level-0 px), one per score.
        scores: ``[N]`` per-tile scores (e.g. attention weights).
        downsample: level-0 px per thumbnail px.

    Returns:
        ``[h, w, 3]`` uint8.
    """
    import matplotlib

    scores = np.asarray(scores, np.float64).ravel()
    if len(scores) != len(tiles):
        raise ClinFusionError(f"{len(scores)} scores for {len(tiles)} tiles", field="scores")
    span = scores.max() - scores.min() if len(scores) else 0.0
    unit = (scores - scores.min()) / span if span > 0 else np.ones_like(scores)
    colours = matplotlib.colormaps[cmap](unit)[:, :3] * 255.0
    out = thumbnail.astype(np.float32)
    h, w = thumbnail.shape[:2]
    for (x, y, t), c in zip(tiles[["x", "y", "tile_l0"]].to_numpy(), colours, strict=True):
        x0, y0 = int(x / downsample), int(y / downsample)
        x1, y1 = min(w, max(x0 + 1, int((x + t) / downsample))), min(h, max(y0 + 1, int((y + t) / downsample)))
        out[y0:y1, x0:x1] = (1 - alpha) * out[y0:y1, x0:x1] + alpha * c
    return out.astype(np.uint8)


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB array as PNG (no text chunks, no metadata)."""
    from PIL import Image

    Image.fromarray(rgb).save(path, format="PNG")


def render_score_heatmap(artifact_dir: Path, scores: np.ndarray, out_png: Path) -> Path:
    """Heatmap PNG of a slide's kept tiles (in ``tiles.parquet`` order) from its artifacts.

    Args:
        artifact_dir: the slide's artifact directory (``ws.root / row.artifact_dir``).
        scores: ``[kept tiles]`` scores, in the order of the slide's tokens.
        out_png: where to write.
    """
    import json

    from PIL import Image

    artifact_dir = Path(artifact_dir)
    meta = json.loads((artifact_dir / "slide.json").read_text())
    tiles = pd.read_parquet(artifact_dir / "tiles.parquet")
    thumb = np.asarray(Image.open(artifact_dir / "thumbnail.png").convert("RGB"))
    write_png(out_png, score_overlay(thumb, tiles[tiles["kept"]], scores, meta["thumbnail_downsample"]))
    return out_png
