"""The seed's fusion architectures side by side on the synthetic cohort, complete and 30% MNAR.

One run, one JSON (default bench/results/architectures.json). The same patient-level folds and
the same inner early-stopping split (``candidates.inner_mask``) for every model:

- ``fusion`` (GNN + modality transformer), ``multimodn``, ``tensor_fusion``, ``coattention``
  (``clinfusion.training.architectures``) and the early-concatenation MLP ``concat_mlp``, all
  through the candidate registry (``clinfusion.training.candidates.registry()``), i.e. exactly
  what ``clinfusion train`` fits;
- on the complete cohort, then on the same patients with each non-clinical token modality removed
  missing-not-at-random for training *and* test (``--mnar generator``: the synthetic generator's
  own mechanism, log-odds of missing rising 1.5 per SD of the true risk, as
  ``bench/fusion_synthetic.py``; ``--mnar outcome``: ``clinfusion.training.missingness``, early
  events lose modalities more often);
- per model: per-fold Harrell C; paired differences (per fold, t interval over folds, paired
  bootstrap over patients of the pooled out-of-fold risks) vs fusion and vs concat_mlp; the MNAR
  drop (complete - MNAR on the same test patients) with its paired intervals, and that drop
  minus concat_mlp's (the issue's "loses less than early concatenation"), paired the same way.

The reference for every number is in the same run: fusion and concat_mlp on the same folds, and
the oracle C-index (the generator's true linear predictor).

``--tcga blca luad ...`` instead runs the architectures on TCGA workspaces already prepared by
``bench/tcga.py`` (``--tcga-work``, ``ws_<cohort>``: genomics + clinical tokens, the published
5-fold splits; no slides, so co-attention is its summary head) next to concat_mlp and the classical
baselines that win some cohort (``TCGA_REFERENCES``), with paired differences vs the best of those
(chosen in hindsight) and vs concat_mlp; fusion is left out there (its cost; see bench/tcga.py).

    nice -n 10 python bench/architectures.py [--patients 200] [--work /tmp/cf_arch_synth]
    nice -n 10 python bench/architectures.py --tcga blca brca coadread kirc luad --out bench/results/architectures_tcga.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
MODELS = ("fusion", "multimodn", "tensor_fusion", "coattention", "concat_mlp")
REFERENCES = ("fusion", "concat_mlp")
ARCHS = ("multimodn", "tensor_fusion", "coattention")
TCGA_REFERENCES = ("clinical_cox", "coxnet", "coxnet_genomics_clinical", "rsf_clinical", "concat_mlp")
"""Per-cohort winners of bench/tcga.py (CoxNet genomics + clinical, a forest on the clinical covariates,
the clinical Cox) plus CoxNet on all features and early concatenation."""


def cross_validate(data, splits, config, names) -> tuple[dict[str, list[Any]], dict[str, float]]:
    """Fold predictions per model and the training seconds per model (all folds)."""
    from clinfusion.training.candidates import get, inner_mask
    from clinfusion.training.cv import FoldPredictions

    preds: dict[str, list[Any]] = {n: [] for n in names}
    seconds = dict.fromkeys(names, 0.0)
    for split in splits:
        tr, te = list(split.train), list(split.val)
        iv = inner_mask(data, tr, config)
        for name in names:
            t0 = time.perf_counter()
            fit = get(name).fit(data, tr, config, iv)
            seconds[name] += time.perf_counter() - t0
            preds[name].append(FoldPredictions(name, split.fold, tr, te, fit.risk(data, tr), fit.risk(data, te)))
        print(f"fold {split.fold} done", flush=True)
    return preds, seconds


def scores(data, preds: dict[str, list[Any]], n_boot: int, seed: int) -> dict[str, Any]:
    """Per-fold C, pooled out-of-fold C and the shared bootstrap resamples of every model."""
    from clinfusion.evaluation.paired import bootstrap_cindex, fold_cindex
    from clinfusion.evaluation.summary import pooled_risk
    from clinfusion.evaluation.survival import harrell_c

    def outcomes(ids):
        ix = data.index(ids)
        return data.time[ix], data.event[ix], data.diagnosis[ix]

    fold_c = {m: fold_cindex(p, outcomes) for m, p in preds.items()}
    pooled = {m: pooled_risk(sorted(p, key=lambda q: q.fold)) for m, p in preds.items()}
    ids = pooled[next(iter(pooled))][0]
    if any(v[0] != ids for v in pooled.values()):
        raise ValueError("models were scored on different out-of-fold patients; expected the same folds")
    t, e, _ = outcomes(ids)
    risks = {m: v[1] for m, v in pooled.items()}
    return {"fold_c": fold_c, "pooled_c": {m: harrell_c(t, e, r) for m, r in risks.items()},
            "boot": bootstrap_cindex(t, e, risks, n_boot=n_boot, seed=seed)}


def comparisons(s: dict[str, Any], references=REFERENCES) -> dict[str, dict[str, Any]]:
    """``{model: {"cindex": [per fold], "cindex_mean", "cindex_pooled", "paired_vs_<ref>": ...}}``."""
    from clinfusion.evaluation.paired import paired_comparison

    out = {}
    for m, per in s["fold_c"].items():
        row: dict[str, Any] = {"cindex": [round(per[k], 4) for k in sorted(per)],
                               "cindex_mean": round(float(np.mean(list(per.values()))), 4),
                               "cindex_pooled": round(float(s["pooled_c"][m]), 4)}
        for ref in references:
            if ref != m and ref in s["fold_c"]:
                row[f"paired_vs_{ref}"] = _rounded(paired_comparison(m, ref, s["fold_c"], s["boot"], s["pooled_c"]))
        out[m] = row
    return out


def mnar_drops(full: dict[str, Any], miss: dict[str, Any], reference: str = "concat_mlp") -> dict[str, dict[str, Any]]:
    """Per model: complete - MNAR C on the same test folds (positive = the model lost C), paired,
    and ``vs_<reference>``: this drop minus the reference's drop (negative = it loses less)."""
    from clinfusion.evaluation.paired import paired_t

    def interval(diffs: list[float], boot: np.ndarray) -> dict[str, Any]:
        t, b = paired_t(diffs), boot[np.isfinite(boot)]
        return {"mean": t["mean"], "per_fold": diffs, "t_ci95": [t["low"], t["high"]],
                "bootstrap_ci95": [float(np.quantile(b, 0.025)), float(np.quantile(b, 0.975))] if len(b) >= 10 else None}

    # the same resampled patients in both conditions (same seed, same pooled order), so the
    # bootstrap drop of resample r is C_complete,r - C_mnar,r
    folds = sorted(full["fold_c"][next(iter(full["fold_c"]))])
    drop = {m: [full["fold_c"][m][k] - miss["fold_c"][m][k] for k in folds] for m in full["fold_c"]}
    boot = {m: full["boot"][m] - miss["boot"][m] for m in full["fold_c"]}
    out = {}
    for m in full["fold_c"]:
        row = interval(drop[m], boot[m])
        row["pooled"] = full["pooled_c"][m] - miss["pooled_c"][m]
        if reference in drop and m != reference:
            row[f"vs_{reference}"] = interval([a - b for a, b in zip(drop[m], drop[reference], strict=True)],
                                              boot[m] - boot[reference])
        out[m] = _rounded(row)
    return out


def _rounded(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_rounded(v) for v in obj]
    return round(float(obj), 4) if isinstance(obj, float | np.floating) else obj


def masked(data, cohort: Path, ws: Path, how: str, rate: float, seed: int):
    """The cohort with 30% MNAR token modalities (``how``: generator or outcome) and the share hidden."""
    if how == "generator":
        from fusion_synthetic import mnar

        return mnar(data, cohort, ws, rate, seed)
    from clinfusion.training.missingness import mask_modalities

    out, hidden = mask_modalities(data, rate, "mnar", seed)
    present = sum(len(data.tokens[m]) for m in hidden.columns)
    return out, float(hidden.to_numpy().sum()) / max(present, 1)


def run_tcga(cohorts: list[str], work: Path, config, n_boot: int, seed: int) -> dict[str, Any]:
    """The architectures and :data:`TCGA_REFERENCES` on each prepared TCGA workspace (published splits)."""
    from clinfusion.training.dataset import load_cohort
    from clinfusion.training.experiment_parts import choose_splits
    from clinfusion.workspace import Workspace

    out: dict[str, Any] = {}
    for cohort in cohorts:
        ws_dir = work / f"ws_{cohort}"
        if not (ws_dir / "tokens").is_dir():
            raise SystemExit(f"{ws_dir}: no token caches; run bench/tcga.py --cohorts {cohort} --work {work} first")
        ws = Workspace(ws_dir)
        data = load_cohort(ws, config.modalities, config.encoders, config.covariates)
        splits, source = choose_splits(ws, data, config, None, None)
        names = [*ARCHS, *TCGA_REFERENCES]
        preds, seconds = cross_validate(data, splits, config, names)
        s = scores(data, preds, n_boot, seed)
        classical = [m for m in TCGA_REFERENCES if m != "concat_mlp"]
        best = max(classical, key=lambda m: float(np.mean(list(s["fold_c"][m].values()))))
        out[cohort] = {"n_patients": len(data.patient_ids), "splits": source, "modalities": data.modalities,
                       "best_classical": best, "models": comparisons(s, (best, "concat_mlp")),
                       "seconds": {k: round(v, 1) for k, v in seconds.items()}}
        print(f"{cohort} done", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--rate", type=float, default=0.3, help="mean MNAR missingness per token modality")
    ap.add_argument("--mnar", choices=("generator", "outcome"), default="generator")
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--bootstrap", type=int, default=200, help="paired bootstrap resamples of patients")
    ap.add_argument("--config", type=Path, default=None, help="training YAML (default: the shipped one)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/cf_arch_synth"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "architectures.json")
    ap.add_argument("--tcga", nargs="+", default=None, help="TCGA cohorts (prepared workspaces) instead of the synthetic one")
    ap.add_argument("--tcga-work", type=Path, default=Path("/tmp/clinfusion-tcga"))
    args = ap.parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if args.tcga:
        from clinfusion.training.config import load_train_config

        os.environ.setdefault("CLINFUSION_PSEUDONYM_KEY", "clinfusion-bench-tcga-key")  # bench/tcga.py's key

        result = {"config": str(args.config or "default_train.yaml"),
                  "cohorts": run_tcga(args.tcga, args.tcga_work, load_train_config(args.config, bootstrap=0),
                                      args.bootstrap, args.seed)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
        return 0

    from clinfusion.training.config import load_train_config
    from clinfusion.training.cv import default_splits
    from clinfusion.training.dataset import load_cohort
    from clinfusion.training.experiment_parts import oracle
    from clinfusion.workspace import Workspace

    cohort, ws_dir = args.work / "cohort", args.work / "workspace"
    timings: dict[str, float] = {}
    if not (ws_dir / "tokens").is_dir():  # generate, ingest and featurize once (bench/fusion_synthetic.py)
        from fusion_synthetic import prepare

        cohort, ws_dir, timings = prepare(args.work, args.patients, args.seed)
    config = load_train_config(args.config, bootstrap=0)
    data = load_cohort(Workspace(ws_dir), config.modalities, config.encoders, config.covariates)
    splits = default_splits(data, args.folds, config.seed)
    full_preds, secs_full = cross_validate(data, splits, config, args.models)
    missing, share = masked(data, cohort, ws_dir, args.mnar, args.rate, args.seed)
    miss_preds, secs_miss = cross_validate(missing, splits, config, args.models)
    full, miss = scores(data, full_preds, args.bootstrap, args.seed), scores(missing, miss_preds, args.bootstrap, args.seed)
    result = {
        "patients": len(data.patient_ids), "folds": args.folds, "modalities": data.modalities,
        "config": str(args.config or "default_train.yaml"), "oracle_cindex": round(oracle(cohort)["cindex"], 4),
        "complete": comparisons(full),
        "mnar": {"mechanism": args.mnar, "rate": args.rate, "hidden_share": round(share, 4), "models": comparisons(miss)},
        "mnar_drop": mnar_drops(full, miss),
        "seconds": {"prepare": {k: round(v, 1) for k, v in timings.items()},
                    "train_complete": {k: round(v, 1) for k, v in secs_full.items()},
                    "train_mnar": {k: round(v, 1) for k, v in secs_miss.items()}},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
