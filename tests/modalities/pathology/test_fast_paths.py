"""The speed paths give the same results as the straightforward code they replace.

Fast implementation vs naive oracle: integer hue test vs the float formula (all 2^24 colours),
table-driven tissue mask vs scipy/skimage, direct
JPEG-tile level decoding vs OpenSlide, prefetching threaded tile reader vs sequential reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clinfusion.modalities.pathology import quality
from clinfusion.modalities.pathology.backends import open_slide
from clinfusion.modalities.pathology.backends.base import render_thumbnail
from clinfusion.modalities.pathology.tiling import GridPlan, grid_coordinates, iter_tile_batches, read_tile
from clinfusion.modalities.pathology.tissue import TissueConfig, saturation, tissue_mask
from clinfusion.testing import requires_shared_data, shared_data_dir
from clinfusion.testing.slides import paint_tissue, write_synthetic_slide
from PIL import Image


def test_integer_pen_test_equals_float_hue_over_all_colours() -> None:
    v = np.arange(256, dtype=np.uint8)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    p = np.stack([r.ravel(), g.ravel(), b.ravel()]).reshape(3, 256, 65536)
    sat, val, delta = quality._sat_val(p)
    cls, mx, mn = quality._classes(p)
    np.testing.assert_array_equal(quality._ink_planes(p, cls, mx, mn), quality._pen_ink(p, sat, val, delta))
    np.testing.assert_array_equal(cls & quality._BACKGROUND > 0, (sat < 0.08) & (val > 0.85))


@pytest.mark.parametrize("min_od", [0.05, 0.4])
def test_blue_limit_table_equals_per_pixel_optical_density_test(min_od: float) -> None:
    from clinfusion.modalities.pathology.tissue import _od_blue_limit, optical_density

    lut = optical_density(np.arange(256, dtype=np.uint8))
    v = np.arange(256)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    per_pixel = (lut[r] + lut[g] + lut[b]) / np.float32(3.0) > min_od
    np.testing.assert_array_equal(b <= _od_blue_limit(min_od)[r * 256 + g], per_pixel)


def _naive_mask(rgb: np.ndarray, um_per_px: float, config: TissueConfig) -> np.ndarray:
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    sat = saturation(rgb)
    od = (-np.log((rgb.astype(np.float32) + 1.0) / 256.0)).sum(-1) / np.float32(3.0)
    mask = (sat > max(threshold_otsu(sat), config.min_saturation)) & (od > config.min_od)
    mask = ndimage.binary_dilation(ndimage.binary_erosion(mask, np.ones((3, 3))), np.ones((3, 3)))
    mask = ndimage.binary_erosion(ndimage.binary_dilation(mask, np.ones((5, 5))), np.ones((5, 5)))
    mask = ndimage.binary_fill_holes(mask)
    labels, n = ndimage.label(mask)
    areas = np.bincount(labels.ravel())[1:] * um_per_px**2
    return np.concatenate([[False], areas >= config.min_region_um2])[labels]


@pytest.mark.parametrize("seed", [0, 1])
def test_tissue_mask_equals_scipy_reference(seed: int) -> None:
    rgb = paint_tissue((300, 220), seed=seed, pen=bool(seed), tissue_frac=0.35)
    rgb[40:60, 20:30] = 255 - rgb[40:60, 20:30]  # odd colours: exercise the whole saturation table
    cfg = TissueConfig(min_region_um2=500.0)
    np.testing.assert_array_equal(tissue_mask(rgb, 4.0, cfg), _naive_mask(rgb, 4.0, cfg))


@pytest.mark.parametrize(("shape", "max_side"), [((700, 530), 128), ((1100, 300), 256), ((513, 900), 100)])
def test_thumbnail_is_one_pillow_box_resize(shape: tuple[int, int], max_side: int) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    dims = (shape[1], shape[0])
    thumb, ds = render_thumbnail(rgb[:, :, :], dims, max_side)
    scale = max(shape) / max_side
    size = (round(dims[0] / scale), round(dims[1] / scale))
    np.testing.assert_array_equal(thumb, np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX)))
    assert ds == dims[0] / size[0]


def _openslide_level(path: Path, level: int) -> np.ndarray:
    import openslide

    with openslide.OpenSlide(str(path)) as o:
        rgba = np.asarray(o.read_region((0, 0), level, o.level_dimensions[level]))
    rgb = rgba[..., :3].copy()
    rgb[rgba[..., 3] == 0] = 255
    return rgb


def _check_levels(path: Path) -> None:
    with open_slide(path) as slide:
        for level in range(slide.level_count):
            expect = _openslide_level(path, level)
            for threads in (1, 2):
                np.testing.assert_array_equal(slide.read_level(level, threads), expect)


def test_read_level_equals_openslide_on_synthetic_pyramid(tmp_path: Path) -> None:
    from clinfusion.modalities.pathology.backends.tiff_jpeg import TiffJpegLevel

    s = write_synthetic_slide(tmp_path / "s.tiff", (1100, 700), seed=4)
    assert TiffJpegLevel.find(s.path, (1100, 700)) is not None  # the direct path is taken
    _check_levels(s.path)


@requires_shared_data("pathology/cmu-1-small-region.svs")
def test_read_level_equals_openslide_on_aperio_rgb_jpeg() -> None:
    _check_levels(shared_data_dir() / "pathology" / "cmu-1-small-region.svs")


def test_prefetched_threaded_batches_equal_sequential_reads(tmp_path: Path) -> None:
    s = write_synthetic_slide(tmp_path / "s.tiff", (1024, 768), seed=5)
    xs, ys = grid_coordinates(s.size, 150)
    with open_slide(s.path) as slide:
        for plan in (GridPlan(150, 0, 150, 128), GridPlan(150, 1, 75, 75)):
            expect = np.stack([read_tile(slide, x, y, plan) for x, y in zip(xs, ys, strict=True)])
            got = list(iter_tile_batches(slide, xs, ys, plan, batch=4, threads=2))
            assert [len(i) for i, _ in got] == [4] * (len(xs) // 4) + ([len(xs) % 4] if len(xs) % 4 else [])
            np.testing.assert_array_equal(np.concatenate([b for _, b in got]), expect)
        level0 = slide.read_level(0)
        plan = GridPlan(150, 0, 150, 128)
        cut = np.concatenate([b for _, b in iter_tile_batches(slide, xs, ys, plan, 7, 2, level_image=level0)])
        np.testing.assert_array_equal(cut, np.stack([read_tile(slide, x, y, plan) for x, y in zip(xs, ys, strict=True)]))
    assert list(iter_tile_batches(slide, xs[:0], ys[:0], plan, 4, 2)) == []
