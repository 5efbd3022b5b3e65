"""Synthetic-cohort targets of the fusion model: oracle ratio, baselines, and 30% MNAR missingness.

One run, one JSON (default bench/results/fusion_synthetic.json):
1. ``clinfusion synth`` (all five modalities, no missing data, 200 patients by default) -> ingest ->
   featurize every modality (skipped when ``--work`` already holds the token caches);
2. cross-validation (the same patient-level folds for every model) of the fusion model and the
   baselines (clinical Cox, CoxNet, RSF, early-concatenation MLP, late fusion, each unimodal
   model) on the complete cohort, next to the oracle C-index (the true linear predictor);
3. the same on the same patients with 30% missing-not-at-random modalities, drawn by the
   generator's own MNAR mechanism (each non-clinical modality's log-odds of missing rise 1.5 per SD
   of the *true* risk; mean rate 30%), removed for training and test alike, and each model's drop
   in C-index. Missingness then carries risk information that a model may learn to use.

Bars (issue #8): (C_fusion - 0.5) >= 0.9 (C_oracle - 0.5); fusion beats the best unimodal model and
the early-concatenation MLP; under MNAR fusion loses at most 0.02 and less than the MLP.

    python bench/fusion_synthetic.py [--patients 200] [--work /tmp/cf_fusion_synth] [--config CFG.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEEP = ("clinical",)  # the clinical table is always there; only the other modalities go missing


def prepare(work: Path, n: int, seed: int) -> tuple[Path, Path, dict[str, float]]:
    """Generate, ingest and featurize (cached). Returns cohort dir, workspace and timings."""
    from clinfusion.cli.app import main as cli
    from clinfusion.ingest.runner import ingest
    from clinfusion.synth import generate_cohort

    cohort, ws = work / "cohort", work / "workspace"
    timings: dict[str, float] = {}
    if (ws / "tokens").is_dir() and len(list((ws / "tokens").iterdir())) >= 6:
        return cohort, ws, timings
    t0 = time.perf_counter()
    generate_cohort(cohort, n, seed=seed, missing_rate=0.0, name="bench-fusion", workers=2)
    timings["synth_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ingest(cohort, ws, demo=True, workers=2)
    timings["ingest_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if cli(["featurize", "--workspace", str(ws)]) != 0:
        raise SystemExit("featurize failed")
    timings["featurize_s"] = time.perf_counter() - t0
    return cohort, ws, timings


def mnar(data, cohort: Path, ws_root: Path, rate: float, seed: int):
    """The cohort with each non-clinical modality removed MNAR by the generator's own mechanism
    (``clinfusion.synth.latent.missing_mask``: log-odds of missing rise by ``MNAR_STRENGTH`` per SD of
    the *true* linear predictor, mean rate ``rate``), as if ``clinfusion synth --missing mnar`` had
    not written those files. Returns the masked cohort and the share of present items hidden."""
    import pandas as pd
    from clinfusion.privacy import Pseudonymizer, load_key
    from clinfusion.synth.config import SynthConfig
    from clinfusion.synth.latent import missing_mask

    truth = pd.read_csv(cohort / "truth" / "linear_predictor.csv")
    pz = Pseudonymizer(load_key(ws_root, demo=True))
    mods = [m for m in data.modalities if m not in KEEP]
    cfg = SynthConfig(n_patients=len(truth), seed=seed + 1, missing_rate=rate, missing="mnar", modalities=tuple(mods))
    masks = missing_mask(truth["linear_predictor"].to_numpy(float), cfg)
    pseudo = [pz.patient(str(p)) for p in truth["patient_id"]]
    tokens = {m: dict(per) for m, per in data.tokens.items()}
    hidden = present = 0
    for m in mods:
        present += len(tokens[m])
        for pid, gone in zip(pseudo, masks[m], strict=True):
            if gone and tokens[m].pop(pid, None) is not None:
                hidden += 1
    return replace(data, tokens=tokens), hidden / max(present, 1)


def evaluate(data, splits, config) -> tuple[dict[str, float], float, dict]:
    """Mean fold C-index per model, the training time, and the default model and fusion vs the best
    classical baseline (paired t over folds + paired bootstrap over patients, ``vs_best_classical``)."""
    from clinfusion.evaluation import summarize
    from clinfusion.evaluation.paired import vs_best_classical
    from clinfusion.training.cv import run_cv

    t0 = time.perf_counter()
    run = run_cv(data, splits, config)
    seconds = time.perf_counter() - t0

    def outcomes(ids):
        ix = data.index(ids)
        return data.time[ix], data.event[ix], data.diagnosis[ix]

    models = summarize(run.predictions, outcomes, config.bootstrap, config.seed, default_model=config.default_model)
    paired = vs_best_classical(run.predictions, models, config.default_model, outcomes, config.bootstrap, config.seed)
    return {k: round(float(v["cindex_mean"]), 4) for k, v in models.items()}, seconds, paired


def bars(full: dict[str, float], miss: dict[str, float], oracle: float) -> dict[str, object]:
    uni = {k: v for k, v in full.items() if k.startswith("unimodal_")}
    best_uni = max(uni, key=uni.get) if uni else None
    drop_f = full["fusion"] - miss["fusion"]
    drop_c = full["concat_mlp"] - miss["concat_mlp"] if "concat_mlp" in full else float("nan")
    ratio = (full["fusion"] - 0.5) / (oracle - 0.5)
    return {
        "oracle_ratio": round(ratio, 4), "oracle_ratio_ge_0.9": bool(ratio >= 0.9),
        "best_unimodal": best_uni, "fusion_gt_best_unimodal": bool(best_uni is None or full["fusion"] > uni[best_uni]),
        "fusion_gt_concat_mlp": bool(full["fusion"] > full.get("concat_mlp", -1)),
        "mnar_drop_fusion": round(drop_f, 4), "mnar_drop_concat_mlp": round(drop_c, 4),
        "mnar_drop_le_0.02": bool(drop_f <= 0.02), "mnar_drop_lt_concat": bool(drop_f < drop_c),
    }


def default_bars(full: dict[str, float], miss: dict[str, float], oracle: float, default: str) -> dict[str, object]:
    """Issue #16: (C_default - 0.5) >= 0.9 (C_oracle - 0.5); under MNAR the default model loses at most 0.02 and
    less than early concatenation."""
    if default not in full:
        return {}
    ratio = (full[default] - 0.5) / (oracle - 0.5)
    drop = full[default] - miss.get(default, float("nan"))
    drop_c = full["concat_mlp"] - miss["concat_mlp"] if "concat_mlp" in full else float("nan")
    return {"default_oracle_ratio": round(ratio, 4), "default_oracle_ratio_ge_0.9": bool(ratio >= 0.9),
            "mnar_drop_default": round(drop, 4), "mnar_drop_default_le_0.02": bool(drop <= 0.02),
            "mnar_drop_default_lt_concat": bool(drop < drop_c)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--rate", type=float, default=0.3, help="mean MNAR missingness per modality")
    ap.add_argument("--config", type=Path, default=None, help="training YAML (default: the shipped one)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/cf_fusion_synth"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fusion_synthetic.json")
    args = ap.parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    from clinfusion.training.config import load_train_config
    from clinfusion.training.cv import default_splits
    from clinfusion.training.dataset import load_cohort
    from clinfusion.training.experiment_parts import oracle
    from clinfusion.workspace import Workspace

    cohort, ws_dir, timings = prepare(args.work, args.patients, args.seed)
    config = load_train_config(args.config, bootstrap=200)  # paired bootstrap of the default model vs the best classical
    data = load_cohort(Workspace(ws_dir), config.modalities, config.encoders, config.covariates)
    splits = default_splits(data, args.folds, config.seed)
    full, timings["cv_complete_s"], paired_full = evaluate(data, splits, config)
    missing, share = mnar(data, cohort, ws_dir, args.rate, args.seed)
    miss, timings["cv_mnar_s"], paired_mnar = evaluate(missing, splits, config)
    orc = oracle(cohort)["cindex"]
    result = {
        "patients": len(data.patient_ids), "folds": args.folds, "modalities": data.modalities,
        "config": str(args.config or "default_train.yaml"), "oracle_cindex": round(orc, 4),
        "complete": full, "mnar": {"rate": args.rate, "hidden_share": round(share, 4), "cindex": miss},
        "bars": {**bars(full, miss, orc), **default_bars(full, miss, orc, config.default_model)},
        "default_model": config.default_model, "paired": {"complete": paired_full, "mnar": paired_mnar}, "seconds": {k: round(v, 1) for k, v in timings.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
