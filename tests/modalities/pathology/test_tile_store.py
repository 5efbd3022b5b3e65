"""Tile pixels stored at ingest: the writer, and the pixels equal to reading the source slide again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clinfusion.errors import FeaturizeError
from clinfusion.modalities.pathology.tile_store import TILE_PIXELS_FILE, TileStackWriter, open_tile_pixels
from clinfusion.testing.slides import write_synthetic_slide


def test_writer_appends_batches_into_one_memory_mappable_array(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (n, 4, 4, 3), dtype=np.uint8) for n in (3, 2))
    w = TileStackWriter(tmp_path / TILE_PIXELS_FILE)
    w.append(a)
    a[:] = 0  # the caller reuses its batch array: what was appended must not change
    w.append(b)
    w.close()
    got = open_tile_pixels(tmp_path, 5)
    assert got.shape == (5, 4, 4, 3) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[3:], b)
    assert got[:3].any() and not (tmp_path / (TILE_PIXELS_FILE + ".part")).exists()
    with pytest.raises(FeaturizeError, match="do not match the 4 kept tiles"):
        open_tile_pixels(tmp_path, 4)


def test_writer_rejects_mixed_shapes_and_discard_leaves_nothing(tmp_path: Path) -> None:
    w = TileStackWriter(tmp_path / TILE_PIXELS_FILE)
    w.append(np.zeros((1, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="differs from the first batch"):
        w.append(np.zeros((1, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        w.append(np.zeros((1, 4, 4, 3), np.float32))
    w.discard()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FeaturizeError, match="store_tiles"):
        open_tile_pixels(tmp_path, 1)


def test_stored_pixels_are_the_tiles_read_again_from_the_source(tmp_path: Path) -> None:
    """What the cnn encoder used to re-read from the raw slide is bit-identical to what ingest stores."""
    from clinfusion.modalities.pathology.backends import open_slide
    from clinfusion.modalities.pathology.process import PathologyOptions, process_slide
    from clinfusion.modalities.pathology.tiling import iter_tile_batches

    s = write_synthetic_slide(tmp_path / "s.tiff", (1024, 768), seed=3)
    w = TileStackWriter(tmp_path / TILE_PIXELS_FILE)
    with open_slide(s.path) as slide:
        res = process_slide(slide, PathologyOptions(), w.append)
        kept = res.tiles[res.tiles["kept"]]
        again = np.concatenate([b for _, b in iter_tile_batches(slide, kept["x"].to_numpy(), kept["y"].to_numpy(),
                                                                res.plan, 5)])
    w.close()
    stored = open_tile_pixels(tmp_path, len(kept))
    assert len(kept) > 1
    np.testing.assert_array_equal(stored, again)
