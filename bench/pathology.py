"""Benchmark pathology tiling and featurization against raw OpenSlide reads (writes JSON).

For each slide (the real CMU-1 small region and a synthetic slide), over the SAME tile grid
(the tissue candidates of our grid, same level and read size):

- ``raw``: open with ``openslide.OpenSlide`` and ``read_region`` every tile (the reference);
- ``tiling``: our pipeline without features (open, thumbnail, tissue mask, tile reads, resize,
  quality checks);
- ``featurize``: the same plus handcrafted features (the default ingest path).

Every path runs once as warm-up, then ``--repeat`` times interleaved (raw, tiling, featurize,
raw, ...); medians are reported. Per path: total seconds, the per-slide fixed cost (raw: open;
ours: open, thumbnail, tissue mask, grid) and the per-tile part, as tiles/s both over the total
and over the per-tile part, plus process CPU seconds (all threads: ours reads tiles in background
threads, the raw loop is one thread, so on a busy shared machine the CPU ratios are what the wall
ratios tend to). Ratios: ``tiling_time_over_raw`` (target <= 1.2) and
``featurize_throughput_vs_raw`` (target >= 0.5) on totals, and the same on the per-tile parts.
Then worker scaling: N synthetic slides processed with 1 and 2 processes.

Usage: ``python bench/pathology.py [--out bench/results/pathology.json] [--repeat 5]``

``--big``: the real-size slide of ``bench/big_slide.py`` (65,536 px at 0.25 um/px, generated
unless ``--big-slide`` names one), one run of each stage, each in its own subprocess so that
its peak RSS (``ru_maxrss`` of the stage process and its worker children) is its own:

- ``raw``: ``openslide.OpenSlide.read_region`` of every tile of our candidate grid (the tiles
  with tissue that tiling reads: same level, same read size): the reference;
- ``tiling``: our tiling with quality checks, no features (``features: false, store_tiles: false``);
- ``featurize``: the default ingest work per slide (handcrafted features, kept tile pixels
  streamed to ``tile_pixels.npy``), with 1 and with 2 tile workers (``workers``);
- ``encoder``: the timm encoder (resnet18, RANDOM-INIT weights: throughput only) at batch 64,
  1 torch thread, over the first ``--encoder-tiles`` stored tiles;
- ``graph``: spatial and feature k-NN edges (the default GraphConfig k) of the slide's tokens:
  every kept tile (``graph_s``, the worst case), and the default tokens (per-slide prototypes
  above 2,048 tiles; the k-means compression is featurize work, timed apart);
- ``featurize`` again on a 16,384 px slide (1/16 of the area): peak RSS against slide size.

Targets: ``tiling_time_over_raw`` <= 1.2, ``featurize_throughput_vs_raw`` >= 0.5, every stage's
peak RSS < 2 GB, graph build < 2 s. Writes ``bench/results/pathology_big.json`` with the load
average before and after (``os.getloadavg``) and CPU seconds per stage (what wall ratios tend
to on a machine whose cores are busy).
Usage: ``nice -n 10 python bench/pathology.py --big [--big-slide S.svs] [--out bench/results/pathology_big.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from clinfusion.modalities.pathology.backends import open_slide
from clinfusion.modalities.pathology.process import PathologyOptions, process_slide
from clinfusion.modalities.pathology.tiling import read_threads
from clinfusion.testing import shared_data_dir
from clinfusion.testing.slides import write_synthetic_slide


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def bench_slide(path: Path, repeat: int) -> dict:
    import openslide

    feat_opts, tile_opts = PathologyOptions(), PathologyOptions(features=False)
    with open_slide(path) as s:
        ref = process_slide(s, tile_opts)
        threads = read_threads(s, tile_opts.tiling.read_threads)
    coords = ref.tiles[["x", "y"]].to_numpy()
    plan = ref.plan
    n = len(coords)

    def raw() -> dict[str, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        with openslide.OpenSlide(str(path)) as o:
            t1 = time.perf_counter()
            for x, y in coords:
                o.read_region((int(x), int(y)), plan.level, (plan.read_px, plan.read_px))
            t2 = time.perf_counter()
        return {"total": time.perf_counter() - t0, "fixed": t1 - t0, "tiles": t2 - t1, "cpu": time.process_time() - c0}

    def ours(opts: PathologyOptions):
        def run() -> dict[str, float]:
            c0, t0 = time.process_time(), time.perf_counter()
            with open_slide(path) as s:
                r = process_slide(s, opts)
            total = time.perf_counter() - t0
            return {"total": total, "fixed": total - r.seconds["tiles"], "tiles": r.seconds["tiles"],
                    "cpu": time.process_time() - c0}
        return run

    paths = {"raw": raw, "tiling": ours(tile_opts), "featurize": ours(feat_opts)}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in paths}
    for fn in paths.values():
        fn()  # warm-up: imports, page cache, OpenSlide tile cache state
    for _ in range(repeat):
        for k, fn in paths.items():
            runs[k].append(fn())
    out: dict = {"slide": path.name, "tiles": n, "tiles_kept": ref.stats["kept"], "tile_l0": plan.tile_l0,
                 "level": plan.level, "read_px": plan.read_px, "repeat": repeat,
                 "read_threads": threads,
                 "load_avg_1min": round(os.getloadavg()[0], 2)}
    med = {k: {part: _median([r[part] for r in v]) for part in ("total", "fixed", "tiles", "cpu")}
           for k, v in runs.items()}
    for k, m in med.items():
        out[k] = {
            "total_s": round(m["total"], 4), "fixed_s": round(m["fixed"], 4), "per_tile_part_s": round(m["tiles"], 4),
            "tiles_per_s": round(n / m["total"], 1), "per_tile_part_tiles_per_s": round(n / m["tiles"], 1),
            "cpu_s": round(m["cpu"], 4),
        }
    raw_m, tile_m, feat_m = med["raw"], med["tiling"], med["featurize"]
    out["tiling_time_over_raw"] = round(tile_m["total"] / raw_m["total"], 3)
    out["featurize_throughput_vs_raw"] = round(raw_m["total"] / feat_m["total"], 3)
    out["per_tile_tiling_time_over_raw"] = round(tile_m["tiles"] / raw_m["tiles"], 3)
    out["per_tile_featurize_throughput_vs_raw"] = round(raw_m["tiles"] / feat_m["tiles"], 3)
    # CPU seconds (all threads): what the ratios become when no spare core is free (shared machine).
    out["tiling_cpu_over_raw_cpu"] = round(tile_m["cpu"] / raw_m["cpu"], 3)
    out["featurize_cpu_throughput_vs_raw_cpu"] = round(raw_m["cpu"] / feat_m["cpu"], 3)
    return out


def _process(path: str) -> int:
    with open_slide(path) as s:
        return process_slide(s, PathologyOptions()).stats["kept"]


def bench_workers(paths: list[Path], repeat: int) -> dict:
    out: dict = {}
    for workers in (1, 2):
        times = []
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_process, map(str, paths)))  # warm-up: worker start-up and imports
            for _ in range(repeat):
                t0 = time.perf_counter()
                list(pool.map(_process, map(str, paths)))
                times.append(time.perf_counter() - t0)
        out[f"workers_{workers}_s"] = round(_median(times), 3)
    out["speedup_2_workers"] = round(out["workers_1_s"] / out["workers_2_s"], 3)
    out["slides"] = len(paths)
    out["cpu_count"] = os.cpu_count()
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return out


# ---- the real-size slide (--big) -------------------------------------------------------------

BIG_TARGETS = {"tiling_time_over_raw": 1.2, "featurize_throughput_vs_raw": 0.5, "peak_rss_mb": 2048, "graph_s": 2.0}


def _usage() -> dict[str, float]:
    """Peak RSS (MB) and CPU seconds of this process and its waited-for children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"peak_rss_mb": round(max(me.ru_maxrss, kids.ru_maxrss) / 1024, 1),
            "peak_rss_self_mb": round(me.ru_maxrss / 1024, 1),
            "peak_rss_children_mb": round(kids.ru_maxrss / 1024, 1),
            "cpu_s": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 2)}


def stage(name: str, slide: Path, work: Path, encoder_tiles: int) -> dict:
    """Run one stage in this process (called in a fresh subprocess by :func:`bench_big`)."""
    import numpy as np

    t0 = time.perf_counter()
    out: dict = {}
    if name == "tiling":
        with open_slide(slide) as s:
            r = process_slide(s, PathologyOptions(features=False, store_tiles=False))
        np.savez(work / "grid.npz", xy=r.tiles[["x", "y"]].to_numpy(), level=r.plan.level, read_px=r.plan.read_px)
        out.update(tiles=len(r.tiles), kept=r.stats["kept"], grid=r.grid_tiles, tile_l0=r.plan.tile_l0,
                   level=r.plan.level, read_px=r.plan.read_px, fixed_s=round(r.seconds["fixed"], 3),
                   per_tile_part_s=round(r.seconds["tiles"], 3))
    elif name == "raw":
        import openslide

        g = np.load(work / "grid.npz")
        level, px = int(g["level"]), int(g["read_px"])
        with openslide.OpenSlide(str(slide)) as o:
            for x, y in g["xy"]:
                o.read_region((int(x), int(y)), level, (px, px))
        out["tiles"] = len(g["xy"])
    elif name.startswith("featurize"):
        from clinfusion.modalities.pathology.tile_store import TILE_PIXELS_FILE, TileStackWriter

        workers = int(name.rsplit("_w", 1)[1]) if "_w" in name else 1
        writer = TileStackWriter(work / TILE_PIXELS_FILE)
        with open_slide(slide) as s:
            r = process_slide(s, PathologyOptions(), writer.append, workers=workers)
        writer.close()
        assert r.features is not None
        kept = r.tiles[r.tiles["kept"]]
        np.save(work / f"features_w{workers}.npy", r.features)
        np.save(work / "positions.npy", kept[["x", "y"]].to_numpy(np.float32))
        out.update(tiles=len(r.tiles), kept=int(len(kept)), workers=workers, feature_dim=int(r.features.shape[1]),
                   fixed_s=round(r.seconds["fixed"], 3), per_tile_part_s=round(r.seconds["tiles"], 3),
                   tile_pixels_bytes=(work / TILE_PIXELS_FILE).stat().st_size)
    elif name == "encoder":
        import torch
        from clinfusion.modalities.pathology.tile_store import TILE_PIXELS_FILE
        from clinfusion.modalities.pathology.timm_encoder import TimmConfig, TimmTileEmbedder

        pixels = np.load(work / TILE_PIXELS_FILE, mmap_mode="r")
        n = min(encoder_tiles, len(pixels))
        emb = TimmTileEmbedder(TimmConfig(arch="resnet18", random_init=True, device="cpu", batch_size=64, threads=1))
        t1 = time.perf_counter()
        dims = 0
        for i in range(0, n, 64):
            dims = emb.embed(torch.from_numpy(np.ascontiguousarray(pixels[i:i + 64]))).shape[1]
        out.update(tiles=n, batch=64, arch="resnet18 (random-init weights: throughput only)", threads=1,
                   embedding_dim=int(dims), model_setup_s=round(t1 - t0, 3))
        t0 = t1
    elif name == "graph":
        from clinfusion.featurize.tokens import TokenSet
        from clinfusion.graph.build import intra_edges
        from clinfusion.graph.config import GraphConfig
        from clinfusion.modalities.pathology.features import HandcraftedConfig
        from clinfusion.modalities.pathology.prototypes import compress_tokens

        feats, pos = np.load(work / "features_w1.npy"), np.load(work / "positions.npy")
        ts = TokenSet(feats, positions=pos, groups=np.zeros(len(feats), np.int64))
        from clinfusion.graph import edges

        cfg = GraphConfig()
        edges.knn_edges(pos[:64], cfg.k_spatial)  # warm-up: imports (scipy.spatial) are not graph time
        t1 = time.perf_counter()
        spatial = intra_edges("pathology", ts, cfg)
        t2 = time.perf_counter()
        feature = edges.knn_edges(ts.tokens, cfg.k_feature)
        t3 = time.perf_counter()
        small = compress_tokens(ts, HandcraftedConfig())
        t4 = time.perf_counter()
        small_edges = intra_edges("pathology", small, cfg)
        t5 = time.perf_counter()
        out.update(tokens=len(feats), k_spatial=cfg.k_spatial, k_feature=cfg.k_feature,
                   all_tiles_spatial_knn_s=round(t2 - t1, 3), all_tiles_spatial_edges=int(spatial.shape[1]),
                   all_tiles_feature_knn_s=round(t3 - t2, 3), all_tiles_feature_edges=int(feature.shape[1]),
                   default_tokens=int(small.n_tokens), default_compression_s=round(t4 - t3, 3),
                   default_tokens_edges_s=round(t5 - t4, 3), default_tokens_edges=int(small_edges.shape[1]),
                   load_s=round(t1 - t0, 3))
        # graph construction of the slide: spatial + feature k-NN over every kept tile (the worst case:
        # no compression). The k-means compression is featurize work (once per slide, cached), reported apart.
        out["graph_s"] = round(t3 - t1, 3)
        t0 = t1
    else:
        raise ValueError(f"unknown stage {name!r}")
    out["seconds"] = round(time.perf_counter() - t0, 3)
    out.update(_usage())
    return out


def _run_stage(name: str, slide: Path, work: Path, encoder_tiles: int) -> dict:
    cmd = [sys.executable, __file__, "--stage", name, "--big-slide", str(slide), "--work", str(work),
           "--encoder-tiles", str(encoder_tiles)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"stage {name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    res = json.loads(done.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = round(time.perf_counter() - t0, 3)  # with interpreter start and imports
    res["load_avg_1min_after"] = round(os.getloadavg()[0], 2)
    print(name, json.dumps(res), flush=True)
    return res


def bench_big(slide: Path | None, size: int, encoder_tiles: int) -> dict:
    """Every stage on the real-size slide, once, each in its own process (see the module docstring)."""
    out: dict = {"load_avg_start": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bigslide-") as tmp:
        work = Path(tmp)
        if slide is None:
            sys.path.insert(0, str(Path(__file__).parent))
            from big_slide import write_big_slide

            made = write_big_slide(work / "big.svs", size)
            slide = made.path
            out["generated_s"] = made.seconds
        import openslide

        with openslide.OpenSlide(str(slide)) as o:
            out["slide"] = {"name": slide.name, "level_dimensions": [list(d) for d in o.level_dimensions],
                            "mpp": float(o.properties["openslide.mpp-x"]), "vendor": o.properties["openslide.vendor"],
                            "bytes": slide.stat().st_size}
        with open(slide, "rb") as fh:  # page cache warm for every stage alike
            while fh.read(64 << 20):
                pass
        stages = {}
        for name in ("tiling", "raw", "featurize", "featurize_w2", "encoder", "graph"):
            stages[name] = _run_stage(name, slide, work, encoder_tiles)
        import numpy as np

        # 1 and 2 tile workers: the same tokens, byte for byte, on the real-size slide too
        out["workers_1_2_identical_features"] = bool(
            np.load(work / "features_w1.npy").tobytes() == np.load(work / "features_w2.npy").tobytes())
        # Peak RSS against slide size: the same featurize stage on a slide with 1/16 of the area.
        sys.path.insert(0, str(Path(__file__).parent))
        from big_slide import write_big_slide

        small_dir = work / "small"
        small_dir.mkdir()
        small = write_big_slide(small_dir / "small.svs", 16384, islands=4)
        small_feat = _run_stage("featurize", small.path, small_dir, encoder_tiles)
    out["stages"] = stages
    out["peak_rss_vs_slide_size"] = {
        "featurize_16384px": {"kept": small_feat["kept"], "peak_rss_mb": small_feat["peak_rss_mb"]},
        "featurize_full": {"kept": stages["featurize"]["kept"], "peak_rss_mb": stages["featurize"]["peak_rss_mb"]},
    }
    n = stages["tiling"]["tiles"]
    raw_s, tile_s, feat_s = stages["raw"]["seconds"], stages["tiling"]["seconds"], stages["featurize"]["seconds"]
    for k, st in stages.items():
        if k in ("raw", "tiling", "featurize", "featurize_w2", "encoder"):
            st["tiles_per_s"] = round(st["tiles"] / st["seconds"], 1)
    out["tiles"] = n
    out["kept"] = stages["featurize"]["kept"]
    out["tiling_time_over_raw"] = round(tile_s / raw_s, 3)
    out["featurize_throughput_vs_raw"] = round(raw_s / feat_s, 3)
    out["featurize_2_workers_throughput_vs_raw"] = round(raw_s / stages["featurize_w2"]["seconds"], 3)
    out["per_tile_tiling_time_over_raw"] = round(stages["tiling"]["per_tile_part_s"] / raw_s, 3)
    out["tiling_cpu_over_raw_cpu"] = round(stages["tiling"]["cpu_s"] / stages["raw"]["cpu_s"], 3)
    out["featurize_cpu_throughput_vs_raw_cpu"] = round(stages["raw"]["cpu_s"] / stages["featurize"]["cpu_s"], 3)
    out["encoder_throughput_vs_raw"] = round(stages["encoder"]["tiles_per_s"] / stages["raw"]["tiles_per_s"], 3)
    out["peak_rss_mb"] = {k: st["peak_rss_mb"] for k, st in stages.items()}
    out["graph_s"] = stages["graph"]["graph_s"]
    out["targets"] = BIG_TARGETS
    out["met"] = {
        "tiling_time_over_raw": out["tiling_time_over_raw"] <= BIG_TARGETS["tiling_time_over_raw"],
        "featurize_throughput_vs_raw": out["featurize_throughput_vs_raw"] >= BIG_TARGETS["featurize_throughput_vs_raw"],
        "peak_rss_mb": max(out["peak_rss_mb"].values()) < BIG_TARGETS["peak_rss_mb"],
        "graph_s": out["graph_s"] < BIG_TARGETS["graph_s"],
    }
    out["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pathology.json")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--big", action="store_true", help="the real-size slide bench (writes pathology_big.json)")
    ap.add_argument("--big-slide", type=Path, default=None, help="use this slide instead of generating one")
    ap.add_argument("--big-size", type=int, default=65536, help="side in px of the generated slide")
    ap.add_argument("--encoder-tiles", type=int, default=640)
    ap.add_argument("--stage", default=None, help=argparse.SUPPRESS)  # internal: one --big stage
    ap.add_argument("--work", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.big_slide, args.work, args.encoder_tiles)))
        return
    if args.big:
        out = args.out if args.out != ap.get_default("out") else Path(__file__).parent / "results" / "pathology_big.json"
        results = bench_big(args.big_slide, args.big_size, args.encoder_tiles)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        print(json.dumps(results, indent=2))
        return
    with tempfile.TemporaryDirectory() as tmp:
        synth = write_synthetic_slide(Path(tmp) / "synthetic.tiff", (4096, 4096), seed=0).path
        slides = [synth]
        cmu = shared_data_dir() / "pathology" / "cmu-1-small-region.svs"
        if cmu.exists():
            slides.insert(0, cmu)
        results = {"load_avg_1min_start": round(os.getloadavg()[0], 2), "slides": [bench_slide(p, args.repeat) for p in slides]}
        extra = [write_synthetic_slide(Path(tmp) / f"s{i}.tiff", (2048, 2048), seed=i).path for i in range(4)]
        results["worker_scaling"] = bench_workers(extra, max(1, args.repeat - 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
