"""Pure-function tests: tissue, tiling, quality, handcrafted features, Macenko, prototypes, heatmaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.errors import ClinFusionError, ConfigError
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.pathology import handcrafted, quality, stain
from clinfusion.modalities.pathology.backends import backend_class
from clinfusion.modalities.pathology.heatmap import score_overlay, tissue_overlay
from clinfusion.modalities.pathology.optical_density import intensity
from clinfusion.modalities.pathology.process import PathologyOptions
from clinfusion.modalities.pathology.prototypes import kmeans_prototypes
from clinfusion.modalities.pathology.tiling import grid_coordinates
from clinfusion.modalities.pathology.tissue import tile_tissue_fraction, tissue_mask
from clinfusion.testing.slides import paint_tissue
from pydantic import ValidationError


def test_tissue_mask_finds_the_painted_tissue() -> None:
    img = paint_tissue((400, 300), seed=0, tissue_frac=0.3)
    mask = tissue_mask(img, um_per_px=8.0)
    assert 0.22 < mask.mean() < 0.38
    assert mask[150, 200] and not mask[5, 5]
    assert not tissue_mask(np.full((100, 100, 3), 240, np.uint8), 8.0).any()


def test_tile_tissue_fraction_matches_naive_loop() -> None:
    rng = np.random.default_rng(0)
    mask = rng.random((50, 70)) > 0.6
    xs, ys = grid_coordinates((280, 200), 40)
    fast = tile_tissue_fraction(mask, xs, ys, 40, 4.0)
    naive = [mask[y // 4:(y + 40) // 4, x // 4:(x + 40) // 4].mean() for x, y in zip(xs, ys, strict=True)]
    np.testing.assert_allclose(fast, naive)
    assert len(xs) == 7 * 5 and xs[:3].tolist() == [0, 40, 80]


def _tiles() -> dict[str, np.ndarray]:
    from scipy.ndimage import gaussian_filter

    tissue = paint_tissue((700, 700), seed=3, tissue_frac=0.9)[222:478, 222:478]
    blurred = gaussian_filter(tissue.astype(np.float32), (4, 4, 0)).astype(np.uint8)
    pen = tissue.copy()
    pen[:, 100:200] = (30, 60, 200)
    return {"tissue": tissue, "glass": np.full((256, 256, 3), 242, np.uint8), "blur": blurred, "pen": pen}


def test_quality_flags_each_failure() -> None:
    t = _tiles()
    q = quality.tile_quality(np.stack(list(t.values())))
    assert quality.drop_reason(q).tolist() == ["", "background", "blur", "pen"]


def test_handcrafted_batch_equals_single_tiles_and_counts_nuclei() -> None:
    t = _tiles()
    batch = np.stack([t["tissue"], t["pen"], t["tissue"][::-1]])
    f = handcrafted.handcrafted_features(batch)
    assert f.shape == (3, len(handcrafted.FEATURE_NAMES)) and np.isfinite(f).all()
    singles = np.concatenate([handcrafted.handcrafted_features(b[None]) for b in batch])
    np.testing.assert_allclose(f, singles, rtol=1e-5, atol=1e-5)
    lbp = [handcrafted.FEATURE_NAMES.index(f"lbp_{k}") for k in range(handcrafted.LBP_POINTS + 2)]
    np.testing.assert_allclose(f[:, lbp].sum(1), 1.0, atol=1e-6)
    # Hand-built tile: 5 separated dark-purple squares on pink -> 5 nuclei blobs.
    tile = np.full((1, 64, 64, 3), (230, 160, 200), np.uint8)
    for i in range(5):
        tile[0, 5 + 12 * i:11 + 12 * i, 10:16] = (70, 30, 130)
    g = handcrafted.handcrafted_features(tile, stride=1)[0]
    names = handcrafted.FEATURE_NAMES
    assert g[names.index("nuclei_per_10k_px")] == pytest.approx(5 * 1e4 / 64**2)
    assert g[names.index("nuclei_frac")] == pytest.approx(5 * 36 / 64**2)


def test_macenko_recovers_known_stains_and_normalises() -> None:
    rng = np.random.default_rng(0)
    stains = np.array([[0.65, 0.07], [0.70, 0.99], [0.29, 0.11]])
    stains /= np.linalg.norm(stains, axis=0)
    conc = rng.gamma(2.0, 0.3, (2, 20000))
    rgb = np.clip(intensity(stains @ conc).T, 0, 255).astype(np.uint8)
    fit = stain.fit_macenko(rgb)
    cos = np.abs((fit.stains / np.linalg.norm(fit.stains, axis=0)).T @ stains).diagonal()
    assert (cos > 0.97).all(), cos
    out = stain.normalize_macenko(rgb.reshape(100, 200, 3), fit)
    assert out.shape == (100, 200, 3) and out.dtype == np.uint8
    refit = stain.fit_macenko(out)
    ref = stain.REF_STAINS / np.linalg.norm(stain.REF_STAINS, axis=0)
    assert (np.abs((refit.stains / np.linalg.norm(refit.stains, axis=0)).T @ ref).diagonal() > 0.97).all()
    with pytest.raises(ClinFusionError, match="stained pixels"):
        stain.fit_macenko(np.full((10, 10, 3), 250, np.uint8))


def test_prototypes_summarise_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 10], [20, 0]], np.float32)
    tokens = np.concatenate([c + rng.normal(0, 0.1, (30, 2)) for c in centres])
    pos = np.concatenate([np.full((30, 2), i * 100.0) for i in range(3)])
    groups = np.repeat([0, 1, 1], 30)
    ts = kmeans_prototypes(TokenSet(tokens, positions=pos, groups=groups), 3)
    assert ts.n_tokens == 3 and sorted(ts.meta["prototype_counts"]) == [30, 30, 30]
    order = np.argsort(ts.positions[:, 0])
    np.testing.assert_allclose(ts.positions[order, 0], [0, 100, 200])
    assert ts.groups[order].tolist() == [0, 1, 1]
    small = TokenSet(tokens[:2])
    assert kmeans_prototypes(small, 3) is small


def test_overlays_and_registries() -> None:
    thumb = np.full((40, 60, 3), 200, np.uint8)
    mask = np.zeros((40, 60), bool)
    mask[10:30, 10:50] = True
    ov = tissue_overlay(thumb, mask)
    assert ov.shape == thumb.shape and (ov[20, 30] != thumb[20, 30]).any() and (ov[0, 0] == 200).all()
    tiles = pd.DataFrame({"x": [0, 200], "y": [0, 0], "tile_l0": [200, 200]})
    hm = score_overlay(thumb, tiles, np.array([0.0, 1.0]), downsample=10.0)
    assert (hm[5, 5] != hm[5, 25]).any() and (hm[35, 55] == 200).all()
    with pytest.raises(ClinFusionError, match="3 scores for 2 tiles"):
        score_overlay(thumb, tiles, np.zeros(3), 10.0)
    with pytest.raises(ConfigError, match=r"\['dicom', 'openslide'\]"):
        backend_class("bioformats")
    with pytest.raises(ValidationError, match="backend must be one of"):
        PathologyOptions(backend="bioformats")
