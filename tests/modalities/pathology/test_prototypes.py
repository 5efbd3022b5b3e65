"""Per-slide prototype compression above a tile count, and prototype scores mapped back to tiles."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.errors import ClinFusionError
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.pathology.features import HandcraftedConfig
from clinfusion.modalities.pathology.heatmap import tile_scores
from clinfusion.modalities.pathology.prototypes import (
    DEFAULT_PROTOTYPE_ABOVE,
    compress_large_slides,
    compress_tokens,
    kmeans_prototypes,
)


def _patient(sizes: list[int], seed: int = 0) -> TokenSet:
    """Slides of ``sizes`` tiles on a 256-px grid, 31 features each, 4 tissue phenotypes."""
    rng = np.random.default_rng(seed)
    feats, pos, groups = [], [], []
    for g, n in enumerate(sizes):
        side = int(np.ceil(np.sqrt(n)))
        grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:n] * 256.0
        centres = rng.normal(0, 5, (4, 31))
        feats.append((centres[rng.integers(0, 4, n)] + rng.normal(0, 1, (n, 31))).astype(np.float32))
        pos.append(grid.astype(np.float32))
        groups.append(np.full(n, g, np.int64))
    return TokenSet(np.concatenate(feats), positions=np.concatenate(pos), groups=np.concatenate(groups),
                    meta={"slides": [f"s{g}" for g in range(len(sizes))]})


def test_slides_at_or_below_the_threshold_are_unchanged() -> None:
    ts = _patient([DEFAULT_PROTOTYPE_ABOVE, 30])
    assert compress_large_slides(ts) is ts
    assert compress_tokens(ts, HandcraftedConfig()) is ts  # the encoders' default
    mixed = compress_large_slides(_patient([300, 40]), above=100, k=16)
    small = _patient([300, 40]).groups == 1
    # the 40-tile slide's tiles come through bit for bit, in order, after slide 0's prototypes
    np.testing.assert_array_equal(mixed.tokens[mixed.groups == 1], _patient([300, 40]).tokens[small])
    np.testing.assert_array_equal(mixed.positions[mixed.groups == 1], _patient([300, 40]).positions[small])
    assert mixed.tokens.dtype == np.float32 and mixed.positions.dtype == np.float32
    assert mixed.meta["slides"] == ["s0", "s1"] and mixed.meta["prototypes"]["compressed_groups"] == [0]


def test_above_the_threshold_the_token_count_is_bounded_and_centroids_are_member_means() -> None:
    ts = _patient([DEFAULT_PROTOTYPE_ABOVE + 1, 500, 20])
    out = compress_tokens(ts, HandcraftedConfig(slide_prototypes=64))
    per_slide = np.bincount(out.groups)
    assert per_slide[0] <= 64 and per_slide[1] == 500 and per_slide[2] == 20
    counts = np.asarray(out.meta["prototype_counts"])
    assign = np.asarray(out.meta["tile_assignment"])
    assert counts.sum() == ts.n_tokens and (counts >= 1).all() and len(assign) == ts.n_tokens
    np.testing.assert_array_equal(np.bincount(assign, minlength=out.n_tokens), counts)
    assert (out.groups[assign] == ts.groups).all()  # a prototype never mixes slides
    for j in (0, 7, int(per_slide[0]) - 1):
        members = assign == j
        np.testing.assert_allclose(out.tokens[j], ts.tokens[members].mean(0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out.positions[j], ts.positions[members].mean(0), rtol=1e-6)
    # bounded whatever the slide size: a 5x larger slide still gives <= k tokens
    big = compress_large_slides(_patient([5000]), above=1000, k=32)
    assert big.n_tokens <= 32


def test_deterministic_for_a_seed_and_seed_sensitive() -> None:
    ts = _patient([600])
    a, b = compress_large_slides(ts, 100, 24, seed=3), compress_large_slides(_patient([600]), 100, 24, seed=3)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    assert a.meta["tile_assignment"] == b.meta["tile_assignment"]
    c = compress_large_slides(ts, 100, 24, seed=4)
    assert c.meta["tile_assignment"] != a.meta["tile_assignment"]


def test_explicit_prototypes_keep_the_patient_level_kmeans() -> None:
    ts = _patient([50, 50])
    got = compress_tokens(ts, HandcraftedConfig(prototypes=5))
    want = kmeans_prototypes(ts, 5)
    np.testing.assert_array_equal(got.tokens, want.tokens)
    assert compress_tokens(_patient([5000]), HandcraftedConfig(prototype_above=0)).n_tokens == 5000


def test_prototype_scores_map_back_to_their_tiles() -> None:
    ts = _patient([400, 30])
    out = compress_large_slides(ts, above=100, k=10)
    scores = np.arange(out.n_tokens, dtype=np.float64)
    assign = np.asarray(out.meta["tile_assignment"])
    per_tile = tile_scores(scores, out)
    np.testing.assert_array_equal(per_tile, scores[assign])
    spread = tile_scores(scores, out, spread=True)
    assert spread.sum() == pytest.approx(scores.sum())  # attention mass is kept
    # one slide, in its kept-tile order (what render_score_heatmap paints)
    s0 = tile_scores(scores, out, slide=0)
    assert len(s0) == 400 and np.array_equal(s0, scores[assign[:400]])
    s1 = tile_scores(scores, out, slide=1)
    np.testing.assert_array_equal(s1, scores[out.groups == 1])  # uncompressed tiles map 1:1
    # tokens that are tiles: identity
    np.testing.assert_array_equal(tile_scores(np.arange(430.0), ts, slide=1), np.arange(400.0, 430.0))
    with pytest.raises(ClinFusionError, match="3 scores for"):
        tile_scores(np.zeros(3), out)


def _slide_dir(tmp_path, n: int):
    import json

    import pandas as pd
    from PIL import Image

    d = tmp_path / "slide"
    d.mkdir()
    (d / "slide.json").write_text(json.dumps({"thumbnail_downsample": 32.0}))
    pd.DataFrame({"x": np.arange(n) * 512, "y": 0, "tile_l0": 512, "kept": True}).to_parquet(d / "tiles.parquet")
    Image.fromarray(np.full((40, 16 * n, 3), 230, np.uint8)).save(d / "thumbnail.png")
    return d


def test_review_heatmap_paints_each_tile_with_its_prototypes_weight(tmp_path) -> None:
    import pandas as pd
    from clinfusion.featurize.cache import index_entry, token_path, write_index, write_tokens
    from clinfusion.modalities.pathology.heatmap import prototype_tokens
    from clinfusion.review.attention import slide_heatmap
    from clinfusion.workspace.workspace import Workspace

    n = 8  # alternating phenotypes A, B on a row of tiles -> 2 prototypes
    feats = np.where(np.arange(n)[:, None] % 2 == 0, 0.0, 10.0) + np.random.default_rng(0).normal(0, 0.1, (n, 31))
    tiles = TokenSet(feats.astype(np.float32), positions=np.stack([np.arange(n) * 512.0, np.zeros(n)], 1),
                     groups=np.zeros(n, np.int64), meta={"slides": ["s1"]})
    protos = compress_large_slides(tiles, above=4, k=2)
    assert protos.n_tokens == 2 and protos.meta["prototype_counts"] == [4, 4]
    high = int(protos.tokens[:, 0].argmax())  # the B prototype gets the high weight
    weights = np.where(np.arange(2) == high, 0.9, 0.1)
    att = pd.DataFrame({"patient_id": "p", "modality": "pathology", "token_index": [0, 1], "weight": weights,
                        "group": 0, "pos_0": protos.positions[:, 0], "pos_1": 0.0, "source": "s1"})
    img, caption = slide_heatmap(_slide_dir(tmp_path, n), att, "s1", protos)
    assert img is not None and "2 k-means prototypes" in caption
    brightness = [img[:16, 16 * j:16 * (j + 1)].sum() for j in range(n)]
    assert all(brightness[j] > brightness[j - 1] for j in range(1, n, 2))  # odd tiles (B) brighter than even (A)
    # the app's lookup finds the compressed tokens in the workspace cache by their token count
    ws = Workspace.create_or_open(tmp_path / "ws", cohort_name="c", cohort_dir=tmp_path, key_fingerprint="f")
    path = token_path(ws, "pathology", "handcrafted", "p", "k" * 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_tokens(path, protos)
    write_index(ws, "pathology", "handcrafted", {"patients": {"p": index_entry(path, "p", "k" * 16)}, "failed": {}})
    found = prototype_tokens(ws.root, "p", 2)
    assert found is not None and found.meta["tile_assignment"] == protos.meta["tile_assignment"]
    assert prototype_tokens(ws.root, "p", 3) is None and prototype_tokens(ws.root, "q", 2) is None
