"""Benchmark: the default model (stack) vs the fusion model vs the best baseline, same folds (CPU).

A synthetic token cohort (clinfusion.testing.tokens, all five modalities, demo size 120 by default),
stratified 5-fold CV with the default training config. References in the same run: the fusion
model and every baseline on the same folds; the best baseline is chosen in hindsight (the harder
target). Paired per-fold differences of Harrell's C with a 95% t interval over folds. Writes JSON
to bench/results/stack.json (or --out).

    python bench/stack.py [--patients 120] [--folds 5] [--seed 0] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def _paired(a: list[float], b: list[float]) -> dict[str, float]:
    from scipy import stats

    d = np.asarray(a) - np.asarray(b)
    half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    return {"mean": float(d.mean()), "ci95": [float(d.mean() - half), float(d.mean() + half)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=120)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "stack.json")
    args = ap.parse_args()

    import torch
    from clinfusion.evaluation import summarize
    from clinfusion.testing.tokens import MODALITY_SHAPES, make_token_cohort
    from clinfusion.training import cohort_from_frames, load_train_config
    from clinfusion.training.cv import default_splits, run_cv

    torch.set_num_threads(1)
    c = make_token_cohort(args.patients, tuple(MODALITY_SHAPES), seed=args.seed)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"bootstrap": 0, "seed": args.seed})
    t0 = time.perf_counter()
    run = run_cv(data, default_splits(data, args.folds, args.seed), cfg)
    wall = time.perf_counter() - t0

    def outcomes(ids):
        ix = data.index(ids)
        return data.time[ix], data.event[ix], data.diagnosis[ix]

    models = summarize(run.predictions, outcomes, 0, args.seed)
    c_of = {m: r["cindex"] for m, r in models.items()}
    baselines = [m for m in c_of if m not in ("stack", "fusion") and not m.startswith("unimodal_")]
    best = max(baselines, key=lambda m: np.nanmean(c_of[m]))
    from clinfusion.evaluation import harrell_c

    oracle = float(harrell_c(c.clinical["survival_time"].to_numpy(float), c.clinical["event"].to_numpy(int), c.risk))
    out = {
        "benchmark": "stack", "device": "cpu, 1 torch thread", "patients": args.patients, "folds": args.folds,
        "seed": args.seed, "cv_wall_s": wall, "oracle_cindex": oracle,
        "cindex_mean": {m: float(np.nanmean(v)) for m, v in c_of.items()},
        "best_baseline": best,
        "stack_minus_fusion": _paired(c_of["stack"], c_of["fusion"]),
        "stack_minus_best_baseline": _paired(c_of["stack"], c_of[best]),
        "weights_per_fold": [s.shares() for s in run.stacks],
    }
    print(json.dumps({k: out[k] for k in ("cindex_mean", "best_baseline", "stack_minus_fusion",
                                          "stack_minus_best_baseline", "cv_wall_s")}, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
