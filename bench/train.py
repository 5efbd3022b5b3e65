"""Benchmark: fusion training epoch time vs cohort size, and inference latency per patient (CPU).

Synthetic token cohorts (clinfusion.testing.tokens) with all five token modalities. Reference in
the same run: the early-concatenation MLP baseline's epoch on the same patients, reported as a
ratio. Writes JSON to bench/results/train.json (or --out).

Also the default model's cost: one training fold's stack (inner folds, meta-learner) vs the
fusion model alone on the same fold (reference), and the stack's one-patient inference latency.

    python bench/train.py [--sizes 50 100 200] [--stack-sizes 120] [--out FILE]
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
    from clinfusion.training.flat import flat_encoder, pooled_frame
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
    x = flat_encoder(data, data.patient_ids, data.modalities).transform(
        pooled_frame(data, data.patient_ids, data.modalities))
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


def _stack_cost(n: int) -> dict[str, float]:
    """One training fold (4/5 of ``n`` patients, default config): the fusion model alone (the
    reference), every results row (fusion + baselines), and the stack on top (inner folds + meta;
    the refit reuses the rows' fits); and the stack's inference latency for one five-modality patient
    through the pyfunc path (bundle + covariates)."""
    import torch
    from clinfusion.testing.tokens import MODALITY_SHAPES, make_token_cohort
    from clinfusion.training import cohort_from_frames, load_train_config
    from clinfusion.training.candidates import fit_candidates, inner_mask
    from clinfusion.training.cv import default_splits, row_names
    from clinfusion.training.servable import make_servable
    from clinfusion.training.stacking import fit_stack, stack_names
    from clinfusion.training.trainer import train_fusion

    torch.set_num_threads(1)
    c = make_token_cohort(n, tuple(MODALITY_SHAPES), seed=0)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"bootstrap": 0})
    train = list(default_splits(data, 5, 0)[0].train)
    t0 = time.perf_counter()
    train_fusion(data, train, cfg)
    fusion_s = time.perf_counter() - t0
    rows = row_names(data, cfg)
    t0 = time.perf_counter()
    fitted = fit_candidates(data, train, cfg, inner_mask(data, train, cfg), rows)
    rows_s = time.perf_counter() - t0
    names = stack_names(data, cfg, rows)
    t0 = time.perf_counter()
    stack = fit_stack(data, train, cfg, names, fitted)
    stack_s = time.perf_counter() - t0
    served = make_servable("stack", stack, data, train, cfg, fitted["fusion"].fit)
    bundle = {m: data.tokens[m][data.patient_ids[0]] for m in data.modalities}
    lat = []
    for _ in range(10):
        t0 = time.perf_counter()
        served.predict_bundles([bundle], data.covariates.iloc[:1])
        lat.append(time.perf_counter() - t0)
    return {"patients": n, "train_patients": len(train), "candidates": len(names), "fusion_alone_s": fusion_s,
            "all_rows_s": rows_s, "stack_extra_s": stack_s, "ratio_stack_extra_over_fusion": stack_s / fusion_s,
            "ratio_rows_plus_stack_over_fusion": (rows_s + stack_s) / fusion_s,
            "stack_inference_ms_one_patient_median": 1000 * float(np.median(lat)), "stack_inference_target_ms": 100.0,
            "weights": stack.shares()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train.json")
    ap.add_argument("--stack-sizes", type=int, nargs="*", default=[120],
                    help="cohort sizes for the stack's training cost vs fusion alone (none: skip)")
    args = ap.parse_args()
    rows = [_epoch_time(n) for n in args.sizes]
    stack = [_stack_cost(n) for n in args.stack_sizes]
    for r in rows + stack:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "train", "device": "cpu, 1 torch thread", "rows": rows,
                                    "stack_cost": stack}, indent=2))


if __name__ == "__main__":
    main()
