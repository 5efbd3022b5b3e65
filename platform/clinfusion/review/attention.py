"""Slide attention heatmaps of the pathology viewer, from a run's ``token_attention.parquet``.

``clinfusion train`` logs the final model's attention-pooling weight of every token of every
patient (:func:`clinfusion.training.review_tables.token_attention_frame`); pathology rows carry the
token's slide (``source`` = catalog item id) and tile top-left ``pos_0``, ``pos_1`` in level-0 px.
Each token is painted as one tile footprint on that slide's de-identified thumbnail.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.featurize.tokens import TokenSet

ATTENTION_FILE = "token_attention.parquet"
ATTRIBUTION_FILE = "token_attributions.parquet"


def read_patient_attention(path: Path, pid: str) -> pd.DataFrame | None:
    """The patient's rows of a run's token attention table (empty when the patient has none);
    None when the file does not exist (runs from before it was logged)."""
    if not Path(path).exists():
        return None
    return pd.read_parquet(path, filters=[("patient_id", "==", pid)])


def attention_overlay(thumbnail: np.ndarray, tokens: pd.DataFrame, tile_l0: float, downsample: float,
                      alpha: float = 0.5) -> np.ndarray:
    """Thumbnail with each token's weight painted semi-transparently over its tile footprint.

    Args:
        thumbnail: ``[h, w, 3]`` uint8.
        tokens: rows with ``pos_0``, ``pos_1`` (tile top-left x, y in level-0 px) and ``weight``.
        tile_l0: tile side in level-0 px (k-means prototype tokens sit at their members' mean position).
        downsample: level-0 px per thumbnail px.

    Returns:
        ``[h, w, 3]`` uint8; colours min-max scaled over ``tokens`` (inferno: dark low, bright high).
    """
    from clinfusion.modalities.pathology.heatmap import score_overlay

    tiles = pd.DataFrame({"x": tokens["pos_0"].to_numpy(float), "y": tokens["pos_1"].to_numpy(float), "tile_l0": float(tile_l0)})
    return score_overlay(thumbnail, tiles, tokens["weight"].to_numpy(float), downsample, alpha=alpha)


def slide_heatmap(slide_dir: Path, attention: pd.DataFrame | None, item: str,
                  tokens: TokenSet | None = None) -> tuple[np.ndarray | None, str]:
    """The attention overlay of one slide and its caption.

    Args:
        slide_dir: the slide's artifact directory (``slide.json``, ``tiles.parquet``, ``thumbnail.png``).
        attention: the patient's token attention rows (:func:`read_patient_attention`), or None.
        item: the slide's catalog item id.
        tokens: the patient's prototype-compressed pathology TokenSet
            (``heatmap.prototype_tokens``): each tile is painted with its prototype's weight.

    Returns:
        ``(image or None, caption)``: None with a caption saying why when there is nothing to draw.
    """
    from PIL import Image

    if attention is None:
        return None, ("attention heatmap: the newest model run logged no token_attention.parquet (trained before it "
                      "existed); run `clinfusion train` again to see per-tile attention")
    rows = attention[(attention["modality"] == "pathology") & (attention["source"] == item)].dropna(subset=["pos_0", "pos_1"])
    if rows.empty:
        return None, "attention heatmap: the model has no tile weights for this slide (not in its pathology tokens)"
    slide_dir = Path(slide_dir)
    if tokens is not None:
        from clinfusion.modalities.pathology.heatmap import prototype_slide_overlay

        path_rows = attention[attention["modality"] == "pathology"]
        img = prototype_slide_overlay(slide_dir, path_rows["token_index"].to_numpy(), path_rows["weight"].to_numpy(),
                                      tokens, item)
        return img, (f"attention heatmap: the final model's attention-pooling weight of {len(rows)} k-means prototypes "
                     "of this slide, each painted over its member tiles; inferno colours scaled lowest (dark) to highest")
    meta = json.loads((slide_dir / "slide.json").read_text())
    tiles = pd.read_parquet(slide_dir / "tiles.parquet", columns=["tile_l0"])
    thumb = np.asarray(Image.open(slide_dir / "thumbnail.png").convert("RGB"))
    img = attention_overlay(thumb, rows, float(tiles["tile_l0"].median()), float(meta["thumbnail_downsample"]))
    share = float(rows["weight"].sum() / attention.loc[attention["modality"] == "pathology", "weight"].sum())
    return img, (f"attention heatmap: the final model's attention-pooling weight of {len(rows)} tile tokens "
                 f"({share:.0%} of the patient's pathology attention on this slide); inferno colours scaled from the "
                 "lowest (dark) to the highest weight on this slide")


def attribution_as_weights(attention: pd.DataFrame | None, attributions: pd.DataFrame | None,
                           modality: str = "pathology") -> pd.DataFrame | None:
    """The ``modality`` rows of a patient's attention table with ``weight`` replaced by the token's
    integrated-gradients attribution (``token_attributions.parquet``, joined on ``token_index``).

    The attention table carries each token's slide (``source``) and tile position, the attribution
    table only the token index, so the join gives attributions a place on the slide; tokens without
    an attribution are dropped. Attributions are signed (> 0 raises the predicted risk).

    Args:
        attention: the patient's rows of ``token_attention.parquet`` (:func:`read_patient_attention`).
        attributions: the patient's rows of ``token_attributions.parquet`` (columns ``modality``,
            ``token_index``, ``attribution``).

    Returns:
        Rows shaped like ``attention`` (``weight`` = attribution), or None when either table is absent.
    """
    if attention is None or attributions is None:
        return None
    att = attention[attention["modality"] == modality].drop(columns=["weight"])
    ig = attributions.loc[attributions["modality"] == modality, ["token_index", "attribution"]]
    merged = att.merge(ig, on="token_index", how="inner").rename(columns={"attribution": "weight"})
    return merged.assign(modality=modality)

