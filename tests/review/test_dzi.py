"""Slide viewer pyramid: DZI geometry equals OpenSlide's DeepZoomGenerator; tiles from the stored pixels."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import pytest
from clinfusion.review import dzi
from PIL import Image


@pytest.mark.parametrize("size", [(1000, 700), (254, 254), (255, 1), (2048, 1536), (1, 1)])
def test_levels_and_tiles_equal_openslide_deepzoom(size):
    import openslide
    from openslide.deepzoom import DeepZoomGenerator

    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    gen = DeepZoomGenerator(openslide.ImageSlide(img), tile_size=dzi.TILE_SIZE, overlap=dzi.OVERLAP, limit_bounds=False)
    dims = dzi.level_dimensions(*size)
    assert len(dims) == gen.level_count and dims == list(gen.level_dimensions)
    for level in range(gen.level_count):
        assert dzi.level_tiles(dims[level]) == gen.level_tiles[level]
        cols, rows = gen.level_tiles[level]
        for col, row in {(0, 0), (cols - 1, rows - 1), (cols // 2, rows // 2)}:
            x, y, w, h = dzi.tile_box(dims[level], col, row)
            assert (w, h) == gen.get_tile_dimensions(level, (col, row))
            if level == gen.level_count - 1:  # full level: the tile's level-0 origin is OpenSlide's
                assert (x, y) == gen.get_tile_coordinates(level, (col, row))[0]
    with pytest.raises(ValueError, match="outside"):
        dzi.tile_box(dims[-1], *gen.level_tiles[-1])


def _slide_dir(tmp_path, full: np.ndarray, tile: int = 64, thumb_ds: int = 4):
    """Artifacts of a synthetic slide: thumbnail at ``thumb_ds``, kept tiles (every other grid tile) at full res."""
    h, w = full.shape[:2]
    Image.fromarray(full).resize((w // thumb_ds, h // thumb_ds), Image.Resampling.BOX).save(tmp_path / "thumbnail.png")
    xs, ys = np.meshgrid(np.arange(0, w, tile), np.arange(0, h, tile))
    grid = pd.DataFrame({"x": xs.ravel(), "y": ys.ravel(), "tile_l0": tile})
    grid["kept"] = (np.arange(len(grid)) % 2) == 0
    grid.to_parquet(tmp_path / "tiles.parquet")
    kept = grid[grid["kept"]]
    np.save(tmp_path / "tile_pixels.npy", np.stack([full[y:y + tile, x:x + tile] for x, y in zip(kept["x"], kept["y"], strict=True)]))
    (tmp_path / "slide.json").write_text(json.dumps({"width": w, "height": h, "thumbnail_downsample": thumb_ds, "mpp_x": 0.5}))
    return tmp_path


def test_full_level_tiles_show_the_stored_tile_pixels_and_lower_levels_the_thumbnail(tmp_path):
    rng = np.random.default_rng(1)
    full = rng.integers(0, 255, (512, 640, 3), dtype=np.uint8)
    d = _slide_dir(tmp_path, full)
    sp = dzi.load_slide_pixels(d)
    assert sp.full_size == (640, 512) and sp.scale == 1.0
    top = len(dzi.level_dimensions(640, 512)) - 1
    t = dzi.render_tile(sp, top, 0, 0)
    assert t.shape == (255, 255, 3)
    assert (t[:64, :64] == full[:64, :64]).all()  # a kept tile: its own pixels exactly
    payload = dzi.viewer_payload(d)
    assert payload["finest_level"] == payload["full_level"] == top and payload["mpp_full"] == 0.5
    assert f"{top}/0_0" in payload["tiles"]
    low = np.asarray(Image.open(io.BytesIO(base64.b64decode(payload["tiles"]["0/0_0"]))))
    assert low.shape[:2] == (1, 1)
    small = dzi.viewer_payload(d, budget_bytes=1)
    assert small["finest_level"] == 0 and small["bytes"] > 0  # over budget: only the first level


def test_thumbnail_only_pyramid_and_heat_layer(tmp_path):
    full = np.full((256, 256, 3), 200, np.uint8)
    d = _slide_dir(tmp_path, full)
    (d / "tile_pixels.npy").unlink()
    sp = dzi.load_slide_pixels(d)
    assert sp.pixels is None and sp.full_size == (64, 64)  # the thumbnail's resolution
    kept = pd.read_parquet(d / "tiles.parquet").query("kept")
    layer = dzi.heat_layer(d, np.linspace(0, 1, len(kept)), "attention weight")
    assert layer["lo"] == 0 and layer["hi"] == 1 and layer["x"] == kept["x"].astype(float).tolist()
    with pytest.raises(ValueError, match="kept tiles"):
        dzi.heat_layer(d, np.zeros(3), "x")


def test_attention_scores_map_tile_tokens_to_kept_tiles(tmp_path):
    d = _slide_dir(tmp_path, np.zeros((128, 128, 3), np.uint8))
    kept = pd.read_parquet(d / "tiles.parquet").query("kept").reset_index(drop=True)
    att = pd.DataFrame({"modality": "pathology", "source": "S1", "token_index": [0], "weight": [0.7],
                        "pos_0": [float(kept["x"][1])], "pos_1": [float(kept["y"][1])]})
    s = dzi.attention_scores(d, att, "S1")
    assert s[1] == 0.7 and np.isnan(s[0])
    assert dzi.attention_scores(d, att, "other") is None and dzi.attention_scores(d, None, "S1") is None
