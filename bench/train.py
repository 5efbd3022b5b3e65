"""Benchmark: fusion training epoch time vs cohort size, and inference latency per patient (CPU).

Synthetic token cohorts (clinfusion.testing.tokens) with all five token modalities. Reference in
the same run: the early-concatenation MLP baseline's epoch on the same patients, reported as a
ratio. Writes JSON to bench/results/train.json (or --out).

    python bench/train.py [--sizes 50 100 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def _epoch_time(n: int, reps: int = 3) -> dict[str, float]:
    import torch
    from clinfusion.graph import graph_loader
    from clinfusion.models.losses import cox_ph_loss
    from clinfusion.testing.tokens import MODALITY_SHAPES, make_token_cohort
    from clinfusion.training import cohort_from_frames, load_train_config
    from clinfusion.training.flat import FlatScaler, pooled_features
    from clinfusion.training.trainer import _graphs, predict_bundles, train_fusion

    torch.set_num_threads(1)
    c = make_token_cohort(n, tuple(MODALITY_SHAPES), seed=0)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"optim": {"epochs": 1}})
    fit = train_fusion(data, data.patient_ids, cfg)
    t0 = time.perf_counter()
    graphs = _graphs(fit, data, data.patient_ids)
    build_s = time.perf_counter() - t0
    batch = next(iter(graph_loader(graphs, fit.dims, 0)))
    opt = torch.optim.AdamW(fit.model.parameters(), lr=1e-3)
    fit.model.train()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fit.model(batch)
        loss = cox_ph_loss(out["risk"], batch["patient"].time, batch["patient"].event, on_no_events="zero")
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    x = FlatScaler.fit(pooled_features(data, data.patient_ids, data.modalities)).transform(
        pooled_features(data, data.patient_ids, data.modalities))
    mlp = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 32), torch.nn.GELU(), torch.nn.Linear(32, 1))
    xt = torch.as_tensor(x, dtype=torch.float32)
    ref = []
    for _ in range(reps):
        t0 = time.perf_counter()
        cox_ph_loss(mlp(xt).squeeze(-1), batch["patient"].time, batch["patient"].event).backward()
        ref.append(time.perf_counter() - t0)
    # inference latency: one patient with all five modalities, through the same path as the pyfunc
    bundle = {m: data.tokens[m][data.patient_ids[0]] for m in data.modalities}
    cov = data.covariates.iloc[:1]
    lat = []
    for _ in range(20):
        t0 = time.perf_counter()
        predict_bundles(fit, [bundle], cov)
        lat.append(time.perf_counter() - t0)
    fusion_epoch = float(np.median(times))
    mlp_epoch = float(np.median(ref))
    return {"patients": n, "fusion_epoch_s": fusion_epoch, "concat_mlp_epoch_s": mlp_epoch,
            "ratio_fusion_over_mlp": fusion_epoch / mlp_epoch, "graph_build_s": build_s,
            "inference_ms_per_patient_median": 1000 * float(np.median(lat)), "inference_target_ms": 50.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train.json")
    args = ap.parse_args()
    rows = [_epoch_time(n) for n in args.sizes]
    for r in rows:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "train", "device": "cpu, 1 torch thread", "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
