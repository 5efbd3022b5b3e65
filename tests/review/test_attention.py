"""Slide attention heatmaps on hand-built slide artifacts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from clinfusion.review.attention import attention_overlay, read_patient_attention, slide_heatmap
from PIL import Image


def _tokens(weights, item="s1"):
    xs = [0.0, 512.0, 1024.0][: len(weights)]
    return pd.DataFrame({"patient_id": "p", "modality": "pathology", "token_index": range(len(weights)), "weight": weights,
                         "group": 0, "pos_0": xs, "pos_1": 0.0, "source": item})


def test_overlay_paints_weighted_tiles_only():
    thumb = np.full((40, 60, 3), 230, np.uint8)
    img = attention_overlay(thumb, _tokens([0.1, 0.9]), tile_l0=512, downsample=32)  # tile = 16 thumbnail px
    assert img.shape == thumb.shape and img.dtype == np.uint8
    changed = (img != thumb).any(2)
    assert changed[:16, :32].all() and not changed[16:].any() and not changed[:, 32:].any()
    assert img[:16, 16:32].sum() > img[:16, :16].sum()  # inferno: the higher weight is brighter


def _slide(tmp_path):
    d = tmp_path / "slide"
    d.mkdir()
    (d / "slide.json").write_text(json.dumps({"thumbnail_downsample": 32.0}))
    pd.DataFrame({"x": [0, 512], "y": [0, 0], "tile_l0": [512, 512], "kept": True}).to_parquet(d / "tiles.parquet")
    Image.fromarray(np.full((40, 60, 3), 230, np.uint8)).save(d / "thumbnail.png")
    return d


def test_slide_heatmap_draws_the_slides_tokens_or_says_why(tmp_path):
    d = _slide(tmp_path)
    att = pd.concat([_tokens([0.3, 0.5]), _tokens([0.2], item="s2")], ignore_index=True)
    img, caption = slide_heatmap(d, att, "s1")
    assert img is not None and (img != 230).any() and "2 tile tokens" in caption and "80%" in caption
    img, caption = slide_heatmap(d, None, "s1")
    assert img is None and "no token_attention.parquet" in caption
    img, caption = slide_heatmap(d, att, "other")
    assert img is None and "no tile weights for this slide" in caption


def test_read_patient_attention_filters_and_handles_a_missing_file(tmp_path):
    path = tmp_path / "token_attention.parquet"
    assert read_patient_attention(path, "p") is None
    pd.concat([_tokens([1.0]), _tokens([1.0]).assign(patient_id="q")]).to_parquet(path, index=False)
    assert read_patient_attention(path, "q")["patient_id"].tolist() == ["q"]
    assert read_patient_attention(path, "nobody").empty


def test_attributions_take_the_place_of_their_tokens():
    from clinfusion.review.attention import attribution_as_weights

    att = pd.concat([_tokens([0.3, 0.5]), _tokens([0.2], item="s2").assign(token_index=2),
                     _tokens([0.9]).assign(modality="genomics")], ignore_index=True)
    ig = pd.DataFrame({"patient_id": "p", "modality": ["pathology", "pathology", "genomics"],
                       "token_index": [1, 2, 0], "attribution": [-0.4, 0.7, 5.0]})
    out = attribution_as_weights(att, ig)
    assert list(out["token_index"]) == [1, 2] and list(out["weight"]) == [-0.4, 0.7]
    assert list(out["source"]) == ["s1", "s2"] and list(out["pos_0"]) == [512.0, 0.0]  # positions from attention
    assert set(out["modality"]) == {"pathology"}
    assert attribution_as_weights(att, None) is None and attribution_as_weights(None, ig) is None
