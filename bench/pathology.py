"""Benchmark pathology tiling and featurization against raw OpenSlide reads (writes JSON).

For each slide (the real CMU-1 small region and a synthetic slide), over the SAME tiles (the
tissue candidates of our grid, same level and read size):

- ``raw``: ``openslide.OpenSlide.read_region`` of every tile (the reference);
- ``tiling``: our pipeline without features (thumbnail, tissue mask, tile reads, resize,
  quality checks);
- ``featurize``: the same plus handcrafted features (the default ingest path).

Reports tiles/s and ratios (targets: tiling costs <= 1.2x raw time; featurization keeps >=
0.5x raw throughput), then worker scaling: N synthetic slides processed with 1 and 2 processes.

Usage: ``python bench/pathology.py [--out bench/results/pathology.json] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from clinfusion.modalities.pathology.backends import open_slide
from clinfusion.modalities.pathology.pipeline import PathologyOptions, process_slide
from clinfusion.testing import shared_data_dir
from clinfusion.testing.slides import write_synthetic_slide


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_slide(path: Path, repeat: int) -> dict:
    import openslide

    feat_opts, tile_opts = PathologyOptions(), PathologyOptions(features=False)
    with open_slide(path) as s:
        ref = process_slide(s, tile_opts)
    coords = ref.tiles[["x", "y"]].to_numpy()
    plan = ref.plan
    n = len(coords)

    def raw() -> None:
        with openslide.OpenSlide(str(path)) as o:
            for x, y in coords:
                o.read_region((int(x), int(y)), plan.level, (plan.read_px, plan.read_px))

    def ours(opts: PathologyOptions):
        def run() -> None:
            with open_slide(path) as s:
                process_slide(s, opts)
        return run

    t_raw, t_tile, t_feat = _best(raw, repeat), _best(ours(tile_opts), repeat), _best(ours(feat_opts), repeat)
    return {
        "slide": path.name, "tiles": n, "tiles_kept": ref.stats["kept"], "tile_l0": plan.tile_l0,
        "raw_tiles_per_s": round(n / t_raw, 1), "tiling_tiles_per_s": round(n / t_tile, 1),
        "featurize_tiles_per_s": round(n / t_feat, 1),
        "tiling_time_over_raw": round(t_tile / t_raw, 3), "featurize_throughput_vs_raw": round(t_raw / t_feat, 3),
    }


def _process(path: str) -> int:
    with open_slide(path) as s:
        return process_slide(s, PathologyOptions()).stats["kept"]


def bench_workers(paths: list[Path], repeat: int) -> dict:
    out = {}
    for workers in (1, 2):
        def run(w: int = workers) -> None:
            with ProcessPoolExecutor(w) as pool:
                list(pool.map(_process, map(str, paths)))
        out[f"workers_{workers}_s"] = round(_best(run, repeat), 3)
    out["speedup_2_workers"] = round(out["workers_1_s"] / out["workers_2_s"], 3)
    out["slides"] = len(paths)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pathology.json")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        synth = write_synthetic_slide(Path(tmp) / "synthetic.tiff", (4096, 4096), seed=0).path
        slides = [synth]
        cmu = shared_data_dir() / "pathology" / "cmu-1-small-region.svs"
        if cmu.exists():
            slides.insert(0, cmu)
        results = {"slides": [bench_slide(p, args.repeat) for p in slides]}
        extra = [write_synthetic_slide(Path(tmp) / f"s{i}.tiff", (2048, 2048), seed=i).path for i in range(4)]
        results["worker_scaling"] = bench_workers(extra, max(1, args.repeat - 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
