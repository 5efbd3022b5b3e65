"""bench/big_slide.py: the real-size Aperio-style SVS generator (tiny sizes here; a slow test at 16k)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from clinfusion.testing import requires_shared_data

pytestmark = pytest.mark.shared_data
CMU = "pathology/cmu-1-small-region.svs"


def _module():
    path = Path(__file__).resolve().parents[3] / "bench" / "big_slide.py"
    spec = importlib.util.spec_from_file_location("big_slide", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["big_slide"] = mod
    spec.loader.exec_module(mod)
    return mod


big_slide = _module()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    return big_slide.write_big_slide(tmp_path_factory.mktemp("big") / "tiny.svs", 2048, islands=3, coverage=0.3,
                                     min_level_px=128, seed=1)


@requires_shared_data(CMU)
def test_tiny_slide_is_a_consecutive_tiled_pyramid_by_4_with_an_aperio_description(tiny) -> None:
    import tifffile

    assert tiny.levels == [(2048, 2048), (512, 512), (128, 128)]
    with tifffile.TiffFile(tiny.path) as tif:
        pages = list(tif.pages)
        assert len(pages) == 3 and all(p.is_tiled and p.tilewidth == 256 for p in pages)
        assert [p.shape for p in pages] == [(2048, 2048, 3), (512, 512, 3), (128, 128, 3)]
        assert all(p.compression == 7 for p in pages)  # JPEG
        desc = pages[0].description
    assert desc.startswith("Aperio Image Library") and "MPP = 0.2500" in desc and "AppMag = 40" in desc


@requires_shared_data(CMU)
def test_openslide_reads_the_tiny_slide_as_aperio_with_consistent_levels(tiny) -> None:
    import openslide

    with openslide.OpenSlide(str(tiny.path)) as o:
        assert o.properties["openslide.vendor"] == "aperio"
        assert o.level_dimensions == ((2048, 2048), (512, 512), (128, 128))
        assert float(o.properties["openslide.mpp-x"]) == pytest.approx(0.25)
        assert float(o.properties["openslide.objective-power"]) == 40
        l0 = np.asarray(o.read_region((0, 0), 0, (2048, 2048)).convert("RGB")).astype(np.float32)
        l1 = np.asarray(o.read_region((0, 0), 1, (512, 512)).convert("RGB")).astype(np.float32)
    down = l0.reshape(512, 4, 512, 4, 3).mean(axis=(1, 3))
    glass = (l0.max(axis=2) - l0.min(axis=2)) < 12
    assert 0.1 < 1 - glass.mean() < 0.6  # tissue islands on glass
    # level 1 is a downsample of level 0 (measured: mean |diff| 0.9 grey levels, correlation 0.996)
    assert float(np.abs(down - l1).mean()) < 2.0
    assert np.corrcoef(down.ravel(), l1.ravel())[0, 1] > 0.98


@requires_shared_data(CMU)
def test_texture_is_the_real_h_and_e(tiny) -> None:
    """Inside islands, the pixels are CMU-1's stain colours: pink/purple, red above green."""
    import openslide

    with openslide.OpenSlide(str(tiny.path)) as o:
        img = np.asarray(o.read_region((0, 0), 0, (2048, 2048)).convert("RGB")).astype(np.int32)
    tissue = img[(img.max(axis=2) - img.min(axis=2)) > 40]
    assert len(tissue) > 10_000
    assert np.median(tissue[:, 0] - tissue[:, 1]) > 30 and np.median(tissue[:, 2] - tissue[:, 1]) > 10


def test_bad_arguments_and_missing_texture_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="coverage"):
        big_slide.write_big_slide(tmp_path / "x.svs", 1024, coverage=0.9)
    with pytest.raises(FileNotFoundError, match="CLINFUSION_SHARED_DATA"):
        big_slide.write_big_slide(tmp_path / "x.svs", 1024, texture_source=tmp_path / "absent.svs")


@pytest.mark.slow
@requires_shared_data(CMU)
def test_16k_slide_opens_in_openslide_and_our_ingest_tiles_it(tmp_path: Path) -> None:
    import openslide
    from clinfusion.modalities.pathology.backends import open_slide
    from clinfusion.modalities.pathology.process import PathologyOptions, process_slide

    s = big_slide.write_big_slide(tmp_path / "s16k.svs", 16384, islands=4, coverage=0.25, min_level_px=256)
    assert s.levels == [(16384, 16384), (4096, 4096), (1024, 1024), (256, 256)]
    with openslide.OpenSlide(str(s.path)) as o:
        assert o.level_count == 4 and o.level_downsamples == pytest.approx((1.0, 4.0, 16.0, 64.0))
        for level in range(4):
            assert np.asarray(o.read_region((8000, 8000), level, (64, 64))).shape == (64, 64, 4)
    with open_slide(s.path) as slide:
        assert slide.name == "openslide" and slide.mpp == pytest.approx((0.25, 0.25))
        r = process_slide(slide, PathologyOptions(), workers=2)
    assert r.plan.tile_l0 == 512 and r.plan.level == 0  # 256 px tiles at 0.5 um/px from 0.25 um/px
    kept = r.tiles[r.tiles["kept"]]
    assert r.features is not None and len(r.features) == len(kept)
    # about the islands' share of the 32 x 32 tile grid (tissue fraction >= 0.5 per tile)
    assert 0.6 * s.tissue_fraction * r.grid_tiles < len(kept) < 1.3 * s.tissue_fraction * r.grid_tiles
