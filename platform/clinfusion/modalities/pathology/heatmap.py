"""Overlay renderings for the app: tissue mask and per-tile scores on the slide thumbnail.

Both draw only on the de-identified thumbnail of the tissue level (``thumbnail.png`` in the
slide's artifact directory), never on label or macro images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.errors import ClinFusionError
from clinfusion.featurize.tokens import TokenSet

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


def tile_scores(token_scores: np.ndarray, tokens: TokenSet, slide: int | None = None, spread: bool = False) -> np.ndarray:
    """Per-tile scores from per-token scores, undoing prototype compression.

    Tokens that are tiles map 1:1. A k-means prototype (``meta["tile_assignment"]``, see
    :mod:`~clinfusion.modalities.pathology.prototypes`) gives its score to each member tile, or,
    with ``spread``, ``score / members`` (so the tile scores keep the token scores' sum, e.g. an
    attention mass of 1 per patient).

    Args:
        token_scores: ``[T']`` one score per token of ``tokens`` (e.g. attention weights).
        tokens: the patient's pathology token set the scores belong to.
        slide: only the tiles of this slide index (``groups``), in their kept-tile order (the
            rows of the slide's ``tiles.parquet`` with ``kept``); None: every input tile.
        spread: divide each prototype's score over its members.

    Returns:
        ``[tiles]`` float64.

    Raises:
        ClinFusionError: the score count does not match the token count.
    """
    scores = np.asarray(token_scores, np.float64).ravel()
    if len(scores) != tokens.n_tokens:
        raise ClinFusionError(f"{len(scores)} scores for {tokens.n_tokens} tokens", field="token_scores")
    meta = tokens.meta if isinstance(tokens.meta, dict) else {}
    groups = np.zeros(tokens.n_tokens, np.int64) if tokens.groups is None else np.asarray(tokens.groups, np.int64)
    if "tile_assignment" not in meta:
        return scores if slide is None else scores[groups == slide]
    assign = np.asarray(meta["tile_assignment"], np.int64)
    if spread:
        scores = scores / np.maximum(np.asarray(meta["prototype_counts"], np.float64), 1.0)
    per_tile = scores[assign]
    return per_tile if slide is None else per_tile[groups[assign] == slide]


def prototype_tokens(ws_root: Path, patient_id: str, n_tokens: int) -> TokenSet | None:
    """The patient's cached pathology TokenSet with ``n_tokens`` prototype-compressed tokens, if any.

    Looks through the workspace's pathology token caches (every encoder) for this patient's entry
    whose token count matches the attention rows a model logged; returns it only when it carries
    ``meta["tile_assignment"]`` (otherwise the tokens are the tiles and need no mapping).

    Args:
        ws_root: workspace root.
        patient_id: pseudonym.
        n_tokens: the number of pathology tokens the scores cover.
    """
    from clinfusion.featurize.cache import cache_dir, cached_encoders, read_index
    from clinfusion.workspace.workspace import Workspace

    ws = Workspace.open(ws_root)
    for encoder in cached_encoders(ws, "pathology"):
        entry = read_index(ws, "pathology", encoder)["patients"].get(patient_id)
        if not entry:
            continue
        ts = TokenSet.load(cache_dir(ws, "pathology", encoder) / entry["file"])
        if ts.n_tokens == n_tokens and isinstance(ts.meta, dict) and "tile_assignment" in ts.meta:
            return ts
    return None


def prototype_slide_overlay(slide_dir: Path, token_index: np.ndarray, weights: np.ndarray, tokens: TokenSet,
                            item: str, alpha: float = 0.5) -> np.ndarray:
    """A slide's thumbnail with every kept tile painted by the weight of the prototype it belongs to.

    Args:
        slide_dir: the slide's artifact directory (``slide.json``, ``tiles.parquet``, ``thumbnail.png``).
        token_index: ``[N]`` token indices of the patient's pathology tokens that have a weight.
        weights: ``[N]`` their weights (e.g. attention); tokens not listed count as 0.
        tokens: the patient's prototype-compressed token set (:func:`prototype_tokens`).
        item: the slide's catalog item id (one of ``tokens.meta["slides"]``).

    Returns:
        ``[h, w, 3]`` uint8.

    Raises:
        ClinFusionError: the slide is not among the token set's slides, or its tile count differs.
    """
    import json

    from PIL import Image

    slides = list(tokens.meta.get("slides", []))
    if item not in slides:
        raise ClinFusionError(f"slide {item} is not one of the patient's token slides", field="item")
    vec = np.zeros(tokens.n_tokens)
    vec[np.asarray(token_index, np.int64)] = np.asarray(weights, np.float64)
    per_tile = tile_scores(vec, tokens, slide=slides.index(item))
    slide_dir = Path(slide_dir)
    tiles = pd.read_parquet(slide_dir / "tiles.parquet")
    kept = tiles[tiles["kept"]] if "kept" in tiles else tiles
    if len(kept) != len(per_tile):
        raise ClinFusionError(f"{len(per_tile)} token tiles for {len(kept)} kept tiles of the slide",
                              file=slide_dir / "tiles.parquet", field="kept")
    meta = json.loads((slide_dir / "slide.json").read_text())
    thumb = np.asarray(Image.open(slide_dir / "thumbnail.png").convert("RGB"))
    return score_overlay(thumb, kept, per_tile, float(meta["thumbnail_downsample"]), alpha=alpha)


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB array as PNG (no text chunks, no metadata)."""
    from PIL import Image

    Image.fromarray(rgb).save(path, format="PNG")


def render_score_heatmap(artifact_dir: Path, scores: np.ndarray, out_png: Path) -> Path:
    """Heatmap PNG of a slide's kept tiles (in ``tiles.parquet`` order) from its artifacts.

    Args:
        artifact_dir: the slide's artifact directory (``ws.root / row.artifact_dir``).
        scores: ``[kept tiles]`` scores, in the order of the slide's tiles (for prototype tokens
            use :func:`tile_scores` with ``slide=`` to get them).
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
