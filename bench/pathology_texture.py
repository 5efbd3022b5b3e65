"""Benchmark the tile texture features: uniform LBP (skimage) against the former bit count (writes JSON).

Issue #22 replaced the texture histogram "number of the 8 neighbours brighter than the centre"
(vectorised numpy over the whole batch, kept here as the reference) by the rotation-invariant
uniform LBP, whose codes are ``skimage.feature.local_binary_pattern``'s computed for the whole
batch (``handcrafted.uniform_lbp_codes``). All run on the same synthetic H&E tiles at the ingest
analysis size (256 px tiles, every 2nd pixel -> 128 px); reported: median ms per tile of
``texture_features`` (LBP + gradient + Laplacian), of the reference bit-count texture, of the
LBP codes batched vs one skimage call per tile, and of all handcrafted features.

Usage: ``python bench/pathology_texture.py [--out bench/results/pathology_texture.json] [--repeat 5] [--tiles 64]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from clinfusion.modalities.pathology.handcrafted import (
    FEATURE_STRIDE,
    features_from_planes,
    texture_features,
    uniform_lbp_codes,
)
from clinfusion.modalities.pathology.quality import gray_planes, laplacian_variance, planes
from clinfusion.testing.slides import paint_tissue
from skimage.feature import local_binary_pattern


def bitcount_texture(g: np.ndarray) -> np.ndarray:
    """The former texture features ``[N, 11]`` (9-bin brighter-neighbour count, gradient, Laplacian)."""
    n = len(g)
    c = g[:, 1:-1, 1:-1]
    bits = np.zeros(c.shape, np.uint8)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                bits += g[:, 1 + dy:g.shape[1] - 1 + dy, 1 + dx:g.shape[2] - 1 + dx] > c
    offsets = (np.arange(n, dtype=np.intp) * 9)[:, None]
    hist = np.bincount((bits.reshape(n, -1) + offsets).ravel(), minlength=9 * n).reshape(n, 9) / bits[0].size
    gx, gy = g[:, 1:-1, 2:] - g[:, 1:-1, :-2], g[:, 2:, 1:-1] - g[:, :-2, 1:-1]
    grad = np.sqrt(gx * gx + gy * gy).reshape(n, -1).mean(1) / 255.0
    return np.concatenate([hist, grad[:, None], np.log1p(laplacian_variance(g))[:, None]], axis=1)


def _median_ms_per_tile(fn, n_tiles: int, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3 / n_tiles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pathology_texture.json")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tiles", type=int, default=64)
    args = ap.parse_args()
    side = int(np.ceil(np.sqrt(args.tiles)))
    img = paint_tissue((256 * side, 256 * side), seed=0, tissue_frac=0.95)
    tiles = np.stack([img[256 * (i // side):256 * (i // side + 1), 256 * (i % side):256 * (i % side + 1)]
                      for i in range(args.tiles)])
    p = planes(tiles[:, ::FEATURE_STRIDE, ::FEATURE_STRIDE])
    g = gray_planes(p)
    u8 = np.clip(np.rint(g), 0, 255).astype(np.uint8)
    results = {
        "tiles": args.tiles, "analysed_px": list(g.shape[1:]), "repeat": args.repeat,
        "reference_bitcount_texture_ms_per_tile": _median_ms_per_tile(lambda: bitcount_texture(g), args.tiles, args.repeat),
        "uniform_lbp_texture_ms_per_tile": _median_ms_per_tile(lambda: texture_features(p, g), args.tiles, args.repeat),
        "lbp_codes_batched_ms_per_tile": _median_ms_per_tile(lambda: uniform_lbp_codes(u8), args.tiles, args.repeat),
        "lbp_codes_skimage_per_tile_ms_per_tile": _median_ms_per_tile(
            lambda: [local_binary_pattern(t, 8, 1, method="uniform") for t in u8], args.tiles, args.repeat),
        "all_handcrafted_ms_per_tile": _median_ms_per_tile(lambda: features_from_planes(p, g), args.tiles, args.repeat),
    }
    results["texture_time_over_reference"] = (results["uniform_lbp_texture_ms_per_tile"]
                                              / results["reference_bitcount_texture_ms_per_tile"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
