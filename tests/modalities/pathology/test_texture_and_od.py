"""The one optical-density conversion and the rotation-invariant uniform LBP of the tile features."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.modalities.pathology import handcrafted, stain
from clinfusion.modalities.pathology.optical_density import I0, OD_LUT, intensity, optical_density
from clinfusion.modalities.pathology.quality import gray_planes, laplacian_variance, planes
from clinfusion.testing.slides import paint_tissue


def test_optical_density_values_inverse_and_table() -> None:
    od = optical_density(np.array([255, 127, 0], np.uint8))
    assert od.dtype == np.float32
    np.testing.assert_allclose(od, [0.0, np.log(2.0), np.log(I0)], rtol=1e-6, atol=1e-7)
    ramp = np.arange(256, dtype=np.uint8)
    assert (np.diff(optical_density(ramp, np.float64)) < 0).all()  # brighter = less absorbing
    np.testing.assert_allclose(intensity(optical_density(ramp, np.float64)), ramp, atol=1e-9)
    np.testing.assert_array_equal(OD_LUT, optical_density(ramp))


def test_every_od_user_shares_the_same_convention() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (40, 3)).astype(np.uint8)
    np.testing.assert_allclose(stain._od(rgb), optical_density(rgb, np.float64))
    # Haematoxylin/eosin/residual features are the skimage HED projection of the same OD.
    from skimage.color import hed_from_rgb

    tile = paint_tissue((64, 64), seed=1, tissue_frac=1.0)[None]
    stats, h = handcrafted.stain_features(planes(tile))
    expected = np.maximum(optical_density(tile[0]).reshape(-1, 3) @ hed_from_rgb, 0.0)
    np.testing.assert_allclose(h.ravel(), expected[:, 0], rtol=1e-4, atol=1e-5)
    assert stats[0, 6] == pytest.approx(expected[:, 2].mean(), rel=1e-4)


def _tile() -> np.ndarray:
    return paint_tissue((300, 300), seed=5, tissue_frac=0.95)[40:200, 60:220]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_lbp_histogram_is_unchanged_by_rotating_the_tile(k: int) -> None:
    g = gray_planes(planes(_tile()[None]))
    rotated = gray_planes(planes(np.rot90(_tile(), k)[None].copy()))
    hist, hist_rot = handcrafted.lbp_histograms(g), handcrafted.lbp_histograms(rotated)
    assert hist.shape == (1, handcrafted.LBP_POINTS + 2)
    np.testing.assert_array_equal(hist, hist_rot)
    assert hist.sum() == pytest.approx(1.0) and (hist > 0).sum() > 5  # a real texture, not one bin
    full = handcrafted.texture_features(planes(_tile()[None]))
    full_rot = handcrafted.texture_features(planes(np.rot90(_tile(), k)[None].copy()))
    np.testing.assert_allclose(full, full_rot, rtol=1e-5)


def test_lbp_bins_are_uniform_patterns_not_a_count_of_brighter_neighbours() -> None:
    # Centre 100 with 4 brighter neighbours each (the old feature put both in bin 4): a half-ring is
    # uniform (code 4), alternating neighbours are non-uniform (code P + 1).
    flat = np.full((1, 7, 7), 50.0, np.float32)
    half, alt = flat.copy(), flat.copy()
    half[0, 2:5, 2:5] = [[200, 200, 200], [0, 100, 200], [0, 0, 0]]  # neighbours E, NE, N, NW brighter
    alt[0, 2:5, 2:5] = [[0, 200, 0], [200, 100, 200], [0, 200, 0]]  # N, E, S, W brighter
    centre = (3 - 1) * 5 + (3 - 1)  # index of pixel (3, 3) among the 5x5 interior pixels
    from skimage.feature import local_binary_pattern

    codes_half = local_binary_pattern(half[0].astype(np.uint8), 8, 1, "uniform")[1:-1, 1:-1].ravel()
    codes_alt = local_binary_pattern(alt[0].astype(np.uint8), 8, 1, "uniform")[1:-1, 1:-1].ravel()
    assert codes_half[centre] == 4 and codes_alt[centre] == handcrafted.LBP_POINTS + 1
    # The histogram is the interior codes' bincount (the zero-padded border row/column is left out).
    for img, codes in ((half, codes_half), (alt, codes_alt)):
        expected = np.bincount(codes.astype(int), minlength=handcrafted.LBP_POINTS + 2) / codes.size
        np.testing.assert_allclose(handcrafted.lbp_histograms(img)[0], expected)


@pytest.mark.parametrize("kind", ["tissue", "noise", "few_levels", "flat", "tiny"])
def test_batched_uniform_lbp_codes_equal_skimage_per_tile(kind: str) -> None:
    from skimage.feature import local_binary_pattern

    rng = np.random.default_rng(0)
    batch = {
        "tissue": np.clip(np.rint(gray_planes(planes(np.stack([_tile(), np.rot90(_tile()).copy()])))), 0, 255),
        "noise": rng.integers(0, 256, (3, 31, 47)),
        "few_levels": rng.integers(0, 3, (3, 20, 20)),  # many exact ties between neighbours and centre
        "flat": np.full((1, 9, 9), 7),
        "tiny": rng.integers(0, 256, (2, 3, 3)),
    }[kind].astype(np.uint8)
    expected = np.stack([local_binary_pattern(t, 8, 1, method="uniform") for t in batch])
    np.testing.assert_array_equal(handcrafted.uniform_lbp_codes(batch), expected)


def test_texture_laplacian_is_the_quality_sharpness() -> None:
    p = planes(_tile()[None, ::2, ::2])
    g = gray_planes(p)
    lap_var = handcrafted.texture_features(p, g)[0, handcrafted.TEXTURE_NAMES.index("lap_var")]
    assert lap_var == pytest.approx(np.log1p(laplacian_variance(g)[0]), rel=1e-6)
