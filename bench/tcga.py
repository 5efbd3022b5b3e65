"""Real TCGA on the published MCAT/PORPOISE 5-fold splits: fusion and baselines vs the published numbers.

Per cohort: ``clinfusion import tcga`` -> ``ingest`` -> ``featurize -m genomics -m clinical`` ->
``train --json`` (the cohort's own ``splits/``, MLflow off), then one JSON comparing per fold and on
average: ``fusion`` (genomics + clinical), ``unimodal_genomics``, ``clinical_cox``, ``coxnet``,
``rsf`` with the MCAT authors' per-fold validation C-index (SNN, AttnMIL, MCAT) where published.

    python bench/tcga.py --cohorts blca luad --work /tmp/tcga --out bench/results/tcga.json

Import/ingest/featurize are skipped when the workspace already has tokens (``--fresh`` redoes them).
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
MODELS = ("fusion", "unimodal_genomics", "clinical_cox", "coxnet", "rsf")
BENCH_CONFIG = {  # small: a few hundred patients per cohort, 2 shared CPU cores; wide path = clinical + pooled tokens
    "baselines": ["clinical_cox", "coxnet", "rsf", "unimodal"],
    "unimodal": ["genomics"],
    "bootstrap": 0,
    "model": {"hidden": 16, "dropout": 0.1, "wide_tokens": True},  # wide_init "cox" measured worse (docs)
    "optim": {"epochs": 40, "patience": 8, "lr": 0.005, "weight_decay": 0.01},
    # inner-fold choice (training fold only): wide & deep / wide path only / harder regularisation
    "select": [{}, {"model": {"deep": False}}, {"optim": {"weight_decay": 0.1}, "model": {"dropout": 0.3}}],
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


def compare(cohort: str, result: dict, pub: dict) -> dict:
    """Per-fold table and means of our models next to the published ones, plus the issue's bars."""
    ours = {m: result["models"][m]["cindex"] for m in MODELS if m in result["models"]}
    theirs = pub.get(cohort, {})
    means = {m: round(sum(v) / len(v), 4) for m, v in {**ours, **theirs}.items()}
    means.update({f"{k}_readme": v for k, v in README_MEANS.get(cohort, {}).items()})
    sd = {m: result["models"][m]["cindex_sd"] for m in ours}
    best_classical = max(("clinical_cox", "coxnet", "rsf"), key=lambda m: means.get(m, -1.0))
    bars = {"best_classical": best_classical,
            "fusion_minus_best_classical": round(means["fusion"] - means[best_classical], 4),
            "fusion_within_0.01_of_best_classical": means["fusion"] >= means[best_classical] - 0.01}
    if "snn" in theirs:
        bars["genomics_only_ge_snn"] = means["unimodal_genomics"] >= means["snn"]
        bars["fusion_gt_mcat"] = means["fusion"] > means["mcat"]
    folds = [{"fold": k, **{m: round(v[k], 4) for m, v in {**ours, **theirs}.items()}} for k in range(result["folds"])]
    return {"n_patients": result["n_patients"], "mean": means, "sd": sd, "per_fold": folds, "bars": bars,
            "fusion_chosen": result["models"]["fusion"].get("chosen")}


def run_cohort(cohort: str, work: Path, config: Path, env: dict[str, str], fresh: bool, pub: dict) -> dict:
    ws, timings = prepare(cohort, work, env, fresh)
    out = work / f"{cohort}_results.json"
    t0 = time.perf_counter()
    _cli("train", "-w", str(ws), "-c", str(config), "--json", str(out), "--no-mlflow", env=env)
    timings["train_cv"] = round(time.perf_counter() - t0, 1)
    result = json.loads(out.read_text())
    return {**compare(cohort, result, pub), "splits": result["splits"], "seconds": timings,
            "robustness": result.get("robustness"), "contributions": result.get("contributions"),
            "config": yaml.safe_load(config.read_text())}


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
    env = {**os.environ, "CLINFUSION_PSEUDONYM_KEY": os.environ.get("CLINFUSION_PSEUDONYM_KEY", "clinfusion-bench-tcga-key")}
    pub = published()
    report = {"config": yaml.safe_load(config.read_text()), "cohorts": {}}
    if args.out.exists():  # keep cohorts of earlier runs that are not rerun now
        report["cohorts"] = json.loads(args.out.read_text()).get("cohorts", {})
    for cohort in args.cohorts:
        print(f"[{cohort}] ...", flush=True)
        report["cohorts"][cohort] = res = run_cohort(cohort, args.work, config, env, args.fresh, pub)
        print(f"[{cohort}] means {res['mean']} bars {res['bars']} ({res['seconds']})", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.exists():  # another bench process may have added cohorts meanwhile
            report["cohorts"] = {**json.loads(args.out.read_text()).get("cohorts", {}), cohort: res}
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
