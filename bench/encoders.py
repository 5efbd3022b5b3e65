"""Pathology tile-encoder throughput: timm ViT-S/16 and ViT-B/16 shapes vs the handcrafted default.

Same run, same slide: ``read`` (raw 256 px tile reading from a synthetic pyramidal TIFF, the
reference), ``handcrafted`` (the default encoder's features, computed at ingest) and the ``timm``
encoder with random weights (``random_init``: the speed of a ViT-S/16 / ViT-B/16 shape does not
depend on the weights) at batch 32 and 64, on the CPU with ``--threads`` torch threads, plus the
same on CUDA (fp16 autocast) when a GPU is present. Reports tiles/s and the ratio to reading.

    python bench/encoders.py [--tiles 64] [--threads 1] [--out bench/results/encoders.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def _read_tiles(n: int, root: Path) -> tuple[np.ndarray, float]:
    from clinfusion.modalities.pathology.backends import open_slide
    from clinfusion.testing.slides import write_synthetic_slide

    s = write_synthetic_slide(root / "s.tiff", (2048, 2048), seed=0)
    t0 = time.perf_counter()
    out = []
    with open_slide(s.path) as slide:
        for i in range(n):
            x, y = (i % 8) * 256, (i // 8 % 8) * 256
            out.append(slide.read_region((x, y), 0, (256, 256)))
    return np.stack(out).astype(np.uint8), time.perf_counter() - t0


def _timm_rate(arch: str, tiles: np.ndarray, batch: int, device: str, threads: int) -> float:
    import torch
    from clinfusion.modalities.pathology.timm_encoder import TimmConfig, TimmTileEmbedder

    e = TimmTileEmbedder(TimmConfig(random_init=True, arch=arch, device=device, batch_size=batch, threads=threads,
                                    precision="fp16" if device == "cuda" else "auto"))
    x = torch.from_numpy(tiles)
    e.embed(x[:2])  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for s in range(0, len(x), batch):
        e.embed(x[s:s + batch])
    if device == "cuda":
        torch.cuda.synchronize()
    return len(x) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/results/encoders.json"))
    args = ap.parse_args(argv)
    import torch
    from clinfusion.modalities.pathology.handcrafted import handcrafted_features

    with tempfile.TemporaryDirectory() as tmp:
        tiles, read_s = _read_tiles(args.tiles, Path(tmp))
    t0 = time.perf_counter()
    handcrafted_features(tiles)
    hand_s = time.perf_counter() - t0
    rates: dict[str, float] = {"read": args.tiles / read_s, "handcrafted": args.tiles / hand_s}
    devices = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    for device in devices:
        for arch, short in (("vit_small_patch16_224", "vit_s16"), ("vit_base_patch16_224", "vit_b16")):
            for batch in (32, 64):
                rates[f"timm_{short}_b{batch}_{device}"] = _timm_rate(arch, tiles, batch, device, args.threads)
    result = {
        "what": "pathology tiles/s (256 px tiles resized to 224 for the ViTs); reference = raw tile reading, same run",
        "tiles": args.tiles, "threads": args.threads, "torch": torch.__version__, "machine": platform.machine(),
        "tiles_per_s": {k: round(v, 2) for k, v in rates.items()},
        "ratio_to_read": {k: round(v / rates["read"], 4) for k, v in rates.items()},
    }
    if "cuda" in devices:
        result["cuda_speedup"] = {k.replace("_cuda", ""): round(v / rates[k.replace("_cuda", "_cpu")], 2)
                                  for k, v in rates.items() if k.endswith("_cuda")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
