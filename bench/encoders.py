"""Pathology tile-encoder throughput: timm ViT-S/16 and ViT-B/16 shapes vs the handcrafted default.

Same run, same slide: ``read`` (raw 256 px tile reading from a synthetic pyramidal TIFF, the
reference), ``handcrafted`` (the default encoder's features, computed at ingest) and the ``timm``
encoder with random weights (``random_init``: the speed of a ViT-S/16 / ViT-B/16 shape does not
depend on the weights) at batch 32 and 64, on the CPU with ``--threads`` torch threads, plus the
same on CUDA (fp16 autocast) when a GPU is present. Reports tiles/s and the ratio to reading.

Reports, same run: reports/s of the real IU chest X-ray reports (../shared/data) through the
``hf_encoder`` path (:class:`WindowedHFBackend`, whole report, 512-token windows) for the
packaged MiniLM (6 layers, 384 hidden; the reference) and a BERT-base shape (12 layers, 768
hidden: BioClinicalBERT/PubMedBERT's size, random weights, the same tokenizer), plus the default
``minilm`` sentence encoder (sentence-transformers, one embedding per sentence).

    python bench/encoders.py [--tiles 64] [--reports 64] [--threads 1] [--out bench/results/encoders.json]
"""

from __future__ import annotations

import argparse
import json
import os
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


def _report_texts(n: int) -> list[str]:
    import pandas as pd
    from clinfusion.testing.data import shared_data_dir

    df = pd.read_csv(shared_data_dir() / "reports" / "iu_xray" / "indiana_reports.csv")
    cols = [c for c in ("indication", "comparison", "findings", "impression") if c in df.columns]
    texts = df[cols].fillna("").astype(str).agg(" ".join, axis=1).str.strip()
    return [t for t in texts if t][:n]


def _bert_base_dir(root: Path) -> Path:
    """A BERT-base-shaped directory (config + MiniLM's uncased BERT tokenizer; weights random)."""
    import shutil

    from clinfusion.modalities.reports.embed import minilm_path
    from transformers import BertConfig

    out = root / "bert-base"
    out.mkdir()
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (minilm_path() / name).is_file():
            shutil.copy(minilm_path() / name, out / name)
    BertConfig().save_pretrained(str(out))  # 12 layers, 768 hidden, 512 positions, vocab 30522
    return out


def _report_rates(n: int, threads: int) -> dict:
    import torch
    from clinfusion.modalities.reports.embed import SentenceTransformerBackend, minilm_path
    from clinfusion.modalities.reports.hf_encoder import WindowedHFBackend
    from clinfusion.modalities.reports.sentences import split_sentences

    torch.set_num_threads(threads)
    texts = _report_texts(n)
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        models = {"minilm_hf_window": (minilm_path(), False), "bert_base_hf_window": (_bert_base_dir(Path(tmp)), True)}
        for name, (path, random_init) in models.items():
            be = WindowedHFBackend(path, batch_size=16, random_init=random_init)
            be.embed(texts[:2])  # warm-up
            t0 = time.perf_counter()
            be.embed(texts)
            rates[name] = len(texts) / (time.perf_counter() - t0)
    st = SentenceTransformerBackend()
    sentences = [s for t in texts for s in split_sentences(t)]
    st.embed(sentences[:4])
    t0 = time.perf_counter()
    st.embed(sentences)
    rates["minilm_sentences_default"] = len(texts) / (time.perf_counter() - t0)
    return {"reports": len(texts), "sentences": len(sentences),
            "reports_per_s": {k: round(v, 2) for k, v in rates.items()},
            "ratio_to_minilm_hf_window": {k: round(v / rates["minilm_hf_window"], 3) for k, v in rates.items()}}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=64)
    ap.add_argument("--reports", type=int, default=64, help="IU X-ray reports for the text encoders (0: skip)")
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
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "tiles": args.tiles, "threads": args.threads, "torch": torch.__version__, "machine": platform.machine(),
        "tiles_per_s": {k: round(v, 2) for k, v in rates.items()},
        "ratio_to_read": {k: round(v / rates["read"], 4) for k, v in rates.items()},
    }
    if args.reports:
        result["text"] = {"what": "reports/s, IU X-ray reports (real), CPU; reference = packaged MiniLM, same path",
                          **_report_rates(args.reports, args.threads)}
    if "cuda" in devices:
        result["cuda_speedup"] = {k.replace("_cuda", ""): round(v / rates[k.replace("_cuda", "_cpu")], 2)
                                  for k, v in rates.items() if k.endswith("_cuda")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
