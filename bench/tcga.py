"""Real TCGA on the published MCAT/PORPOISE 5-fold splits: the default model (stack) vs the per-cohort best
classical baseline, with paired intervals, next to the fusion model and the published numbers.

Per cohort: ``clinfusion import tcga`` -> ``ingest`` -> ``featurize -m genomics -m clinical`` (CLI, cached),
then in this process the cross-validation of ``clinfusion train`` (the cohort's own ``splits/``, no MLflow:
:func:`clinfusion.training.cv.run_cv` + :func:`clinfusion.evaluation.summarize`) so that the paired bootstrap
of the default model against *any* baseline can use the out-of-fold risks. Reported per cohort:

- every model's mean fold C (``fusion``, ``stack``, ``unimodal_genomics``, each baseline) and per fold,
  next to the MCAT authors' per-fold validation C (SNN, AttnMIL, MCAT) where published;
- ``best_classical``: the classical baseline (Cox, CoxNet, forests, boosting) with the highest mean C,
  chosen in hindsight (the harder target); ``default_vs_best_classical`` and ``fusion_vs_best_classical``:
  paired difference, 95% t over folds and 95% paired bootstrap over patients;
- calibration of the default model (slope, D-calibration p, IBS).

Targets of issue #16 (``targets``): mean over the five cohorts of the default model's C >= mean of the
per-cohort best classical; on every cohort default >= best - 0.01; the CMTA anchor (slides + genomics,
BLCA 0.691, LUAD 0.686) and how far the default model is from it.

    nice -n 10 python bench/tcga.py --cohorts blca luad --work /tmp/clinfusion-tcga --out bench/results/tcga.json

Import/ingest/featurize are skipped when the workspace already has tokens (``--fresh`` redoes them).
Survival times are in days (TCGA months x 30.44 at import).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
COHORTS = ("blca", "brca", "luad", "coadread", "kirc")
PUBLISHED_MODELS = {"SNN (genomic only)": "snn", "AttnMIL (WSI only)": "amil", "MCAT (WSI + genomic)": "mcat"}
README_MEANS = {  # ../shared/data/README.md, MCAT authors' 5-fold means
    "blca": {"snn": 0.541, "amil": 0.536, "mcat": 0.624},
    "brca": {"snn": 0.466, "amil": 0.564, "mcat": 0.580},
    "luad": {"snn": 0.539, "amil": 0.559, "mcat": 0.620},
}
CMTA_ANCHOR = {"blca": 0.691, "luad": 0.686}  # CMTA (slides + genomics) on these splits, issue #16
BENCH_CONFIG = {  # small: a few hundred patients per cohort, 2 shared CPU cores; wide path = clinical + pooled tokens
    "baselines": ["clinical_cox", "coxnet", "coxnet_clinical", "coxnet_genomics_clinical", "rsf", "rsf_clinical",
                  "rsf_clinical_genes", "gb_survival", "unimodal"],  # the classical ones (evaluation.summary.CLASSICAL)
    "unimodal": ["genomics"],
    "default_model": "stack",
    "bootstrap": 200,
    "model": {"hidden": 16, "dropout": 0.1, "wide_tokens": True},  # wide_init "cox" measured worse (docs)
    "optim": {"epochs": 40, "patience": 8, "lr": 0.005, "weight_decay": 0.01},
    # no inner-fold `select` of the fusion net (it triples the fusion cost; the stack's inner folds already
    # multiply every candidate's cost by 1 + stack.inner_folds): fusion rows are not the earlier tuned ones
}


def published(path: Path = DATA / "published" / "mcat_family_val_cindex_per_fold.csv") -> dict:
    """``{cohort: {snn|amil|mcat: [per-fold C]}}`` from the MCAT authors' result file."""
    out: dict[str, dict[str, list[float]]] = {}
    with path.open() as fh:
        for row in csv.DictReader(fh):
            key = PUBLISHED_MODELS.get(row["model"])
            if key:
                per = out.setdefault(row["cohort"].lower(), {}).setdefault(key, [0.0] * 5)
                per[int(row["fold"])] = float(row["val_cindex"])
    return out


def _cli(*args: str, env: dict[str, str]) -> None:
    cmd = [str(Path(sys.executable).parent / "clinfusion"), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def prepare(cohort: str, work: Path, env: dict[str, str], fresh: bool) -> tuple[Path, dict[str, float]]:
    """Import, ingest and featurize one cohort (skipped when cached). Returns the workspace and timings."""
    src, ws = work / cohort, work / f"ws_{cohort}"
    timings: dict[str, float] = {}
    if not fresh and (ws / "tokens" / "genomics").is_dir() and (ws / "tokens" / "clinical").is_dir():
        return ws, timings
    for path in (src, ws):
        if path.exists():
            import shutil

            shutil.rmtree(path)
    tcga = DATA / "genomics" / "tcga"
    steps = {
        "import": ("import", "tcga", "--csv", str(tcga / f"tcga_{cohort}_all_clean.csv.zip"), "--splits",
                   str(tcga / "splits" / f"tcga_{cohort}"), "--clinical", str(DATA / "clinical" / "tcga_cdr_survival_subset.csv"),
                   "--out", str(src)),
        "ingest": ("ingest", str(src), "-w", str(ws)),
        "featurize": ("featurize", "-w", str(ws), "-m", "genomics", "-m", "clinical"),
    }
    for name, args in steps.items():
        t0 = time.perf_counter()
        _cli(*args, env=env)
        timings[name] = round(time.perf_counter() - t0, 1)
    return ws, timings


def _round(v: float) -> float:
    return round(float(v), 4)


def compare(cohort: str, models: dict, folds: int, pub: dict, paired: dict, default: str) -> dict:
    """Per-fold table and means of our models next to the published ones, plus the issue's bars."""
    ours = {m: r["cindex"] for m, r in models.items()}
    theirs = pub.get(cohort, {})
    means = {m: _round(sum(v) / len(v)) for m, v in {**ours, **theirs}.items()}
    means.update({f"{k}_readme": v for k, v in README_MEANS.get(cohort, {}).items()})
    best = paired["best_classical"]
    gap = means[default] - means[best]
    bars = {"best_classical": best, "default_model": default,
            "default_minus_best_classical": _round(gap), "default_ge_best_classical_minus_0.01": bool(gap >= -0.01),
            "fusion_minus_best_classical": _round(means["fusion"] - means[best]) if "fusion" in means else None}
    if cohort in CMTA_ANCHOR:
        bars["cmta_anchor"] = CMTA_ANCHOR[cohort]
        bars["default_minus_cmta"] = _round(means[default] - CMTA_ANCHOR[cohort])
    if "snn" in theirs and "unimodal_genomics" in means:
        bars["genomics_only_ge_snn"] = means["unimodal_genomics"] >= means["snn"]
        bars["default_gt_mcat"] = means[default] > means["mcat"]
    per_fold = [{"fold": k, **{m: _round(v[k]) for m, v in {**ours, **theirs}.items()}} for k in range(folds)]
    cal = models[default]
    calibration = {"slope": cal.get("calibration_slope"), "d_calibration_p": cal.get("d_calibration_p"),
                   "ibs": cal.get("ibs_mean"), **{k: v for k, v in cal.items() if k.startswith("calibration_error_")}}
    return {"mean": means, "sd": {m: r["cindex_sd"] for m, r in models.items()}, "per_fold": per_fold, "bars": bars,
            "paired": paired, "default_calibration": calibration,
            "stack_weights": models.get("stack", {}).get("weights"), "fusion_chosen": models.get("fusion", {}).get("chosen")}


def run_cohort(cohort: str, work: Path, config_path: Path, env: dict[str, str], fresh: bool, pub: dict) -> dict:
    """Prepare (CLI, cached) and cross-validate one cohort in this process."""
    from clinfusion.evaluation import summarize
    from clinfusion.evaluation.paired import vs_best_classical
    from clinfusion.training.config import load_train_config
    from clinfusion.training.cv import run_cv
    from clinfusion.training.dataset import load_cohort
    from clinfusion.training.experiment_parts import choose_splits
    from clinfusion.workspace import Workspace

    ws_dir, timings = prepare(cohort, work, env, fresh)
    config = load_train_config(config_path)
    ws = Workspace.open(ws_dir)
    data = load_cohort(ws, config.modalities, config.encoders, config.covariates)
    splits, source = choose_splits(ws, data, config, None, None)
    t0 = time.perf_counter()
    run = run_cv(data, splits, config, progress=lambda msg: print(f"[{cohort}] {msg}", flush=True))
    timings["train_cv"] = round(time.perf_counter() - t0, 1)

    def outcomes(ids):
        ix = data.index(ids)
        return data.time[ix], data.event[ix], data.diagnosis[ix]

    t0 = time.perf_counter()
    default = config.default_model
    models = summarize(run.predictions, outcomes, config.bootstrap, config.seed, default_model=default)
    if "stack" in models:
        from clinfusion.training.cv import row_names
        from clinfusion.training.experiment_parts import stack_summary
        from clinfusion.training.stacking import stack_names

        models["stack"].update(stack_summary(run, stack_names(data, config, row_names(data, config))))
    paired = vs_best_classical(run.predictions, models, default, outcomes, config.bootstrap, config.seed)
    timings["evaluate"] = round(time.perf_counter() - t0, 1)
    return {"n_patients": len(data.patient_ids), **compare(cohort, models, len(splits), pub, paired, default),
            "splits": source, "seconds": timings, "time_unit": "days"}


def targets(cohorts: dict) -> dict:
    """The issue's targets over the cohorts run so far (``complete`` says whether all five are in)."""
    from clinfusion.evaluation.paired import paired_t

    done = {c: r for c, r in cohorts.items() if "bars" in r and "default_model" in r["bars"]}
    if not done:
        return {}
    default = {c: r["mean"][r["bars"]["default_model"]] for c, r in done.items()}
    best = {c: r["mean"][r["bars"]["best_classical"]] for c, r in done.items()}
    gaps = [default[c] - best[c] for c in done]
    t = paired_t(gaps)
    return {"cohorts": sorted(done), "complete": len(done) == len(COHORTS),
            "mean_default": _round(sum(default.values()) / len(done)),
            "mean_best_classical": _round(sum(best.values()) / len(done)),
            "mean_default_ge_mean_best_classical": bool(sum(gaps) >= 0),
            "every_cohort_ge_best_minus_0.01": bool(all(g >= -0.01 for g in gaps)),
            "mean_gap_t_ci95_over_cohorts": [t["low"], t["high"]],
            "cmta_anchor_gap": {c: done[c]["bars"]["default_minus_cmta"] for c in done if "default_minus_cmta" in done[c]["bars"]}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohorts", nargs="+", default=list(COHORTS), choices=COHORTS)
    ap.add_argument("--work", type=Path, default=Path("/tmp/clinfusion-tcga"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tcga.json")
    ap.add_argument("--config", type=Path, help="training YAML (default: the bench's small regularised config)")
    ap.add_argument("--fresh", action="store_true", help="redo import/ingest/featurize")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    config = args.config
    if config is None:
        config = args.work / "bench_train.yaml"
        config.write_text(yaml.safe_dump(BENCH_CONFIG))
    os.environ.setdefault("CLINFUSION_PSEUDONYM_KEY", "clinfusion-bench-tcga-key")  # split files -> pseudonyms here too
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    env = dict(os.environ)
    pub = published()
    report = {"config": yaml.safe_load(config.read_text()), "cohorts": {}}
    if args.out.exists():  # keep cohorts of earlier runs that are not rerun now (their config may differ: see each)
        old = json.loads(args.out.read_text())
        report["cohorts"] = {c: r for c, r in old.get("cohorts", {}).items() if "default_model" in r.get("bars", {})}
        # results of the earlier fusion-only bench (before the default model): kept apart, never mixed into targets
        report["previous_fusion_only"] = old.get("previous_fusion_only") or {
            "config": old.get("config"), "cohorts": {c: r for c, r in old.get("cohorts", {}).items() if c not in report["cohorts"]}}
    for cohort in args.cohorts:
        print(f"[{cohort}] ...", flush=True)
        res = run_cohort(cohort, args.work, config, env, args.fresh, pub)
        res["config"] = report["config"]
        print(f"[{cohort}] bars {res['bars']} ({res['seconds']})", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.exists():  # another bench process may have added cohorts meanwhile
            report["cohorts"] = {c: r for c, r in json.loads(args.out.read_text()).get("cohorts", {}).items()
                                 if "default_model" in r.get("bars", {})}
        report["cohorts"][cohort] = res
        report["targets"] = targets(report["cohorts"])
        args.out.write_text(json.dumps(report, indent=2, default=float))
    print(json.dumps(report.get("targets", {}), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
