"""Benchmark how the whole pipeline's cost grows with the number of patients (issue 20).

One synthetic cohort of ``max(sizes) + incremental`` patients (all modalities, ``--scale small``,
``clinfusion synth``) is generated once; the cohort of size N is its first N patients (per-patient
files hard-linked, ``clinical.csv`` rows and the genomics tables' columns/rows subset), so every
size reuses the same files instead of generating its own. Each size then runs, each stage as its
own ``clinfusion`` subprocess (1 thread: ``OMP/MKL/OPENBLAS_NUM_THREADS=1`` and torch ``threads: 1``):

- ``ingest COHORT -w WS --demo`` (1 worker)
- ``featurize -w WS`` (every modality's default encoder, 1 worker)
- ``train -w WS --folds 5 --no-mlflow`` (fusion + the default baselines; see ``--stack``)
- ``retrain -w WS`` with nothing changed (ingest re-scan + token-cache check, no training)

and records seconds, seconds per patient, peak RSS (``ru_maxrss`` of that subprocess, from
``os.wait4``) and workspace bytes per patient. On the largest size the incremental cost is measured
too: ``incremental`` new patients are added to its cohort, then ``ingest`` and ``featurize`` again
(only the new patients should be read and encoded), next to that size's full featurize time; this
runs after every size, so a run stopped early still has it on its largest completed size.

Headline: ``max_per_patient_cost_ratio`` = max over stages of (s/patient at the largest size) /
(s/patient at the smallest size); target <= 1.3 (no stage super-linear). Writes JSON
(``bench/results/scale.json``) and a log-log plot (``bench/results/scale.png``).

Usage::

    nice -n 10 python bench/scale.py --sizes 100,200            # quick: find super-linear stages
    nice -n 10 python bench/scale.py                            # 100, 200, 400, 800 (+10 incremental)
    python bench/scale.py --sizes 100 --profile featurize       # cProfile a stage (WORK/profile_*.prof)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STAGES = ("ingest", "featurize", "train", "retrain")
TARGET_RATIO = 1.3
TARGET_RETRAIN_S = 60.0
TARGET_INCREMENTAL_FRACTION = 0.10
PER_PATIENT_DIRS = ("radiology", "pathology", "ecg", "reports")

_RUNNER = (
    "import sys\n"
    "from clinfusion.cli import main\n"
    "prof = sys.argv.pop(1)\n"
    "sys.argv[0] = 'clinfusion'\n"
    "if prof:\n"
    "    import cProfile\n"
    "    p = cProfile.Profile()\n"
    "    p.enable()\n"
    "    try:\n"
    "        rc = main()\n"
    "    except SystemExit as e:\n"
    "        rc = e.code\n"
    "    p.disable()\n"
    "    p.dump_stats(prof)\n"
    "    sys.exit(rc)\n"
    "sys.exit(main())\n"
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[k] = "1"
    env["CLINFUSION_DEMO"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    return env


def run_stage(args: list[str], log: Path, profile: Path | None = None,
              ok_codes: tuple[int, ...] = (0, 2)) -> dict[str, Any]:
    """Run ``clinfusion ARGS`` as a subprocess.

    Returns:
        ``{"seconds": wall s, "peak_rss_mb": ru_maxrss of that process in MiB, "rc": exit code}``.

    Raises:
        RuntimeError: the exit code is not in ``ok_codes`` (the log file is named).
    """
    cmd = [sys.executable, "-c", _RUNNER, str(profile) if profile else "", *args]
    with log.open("w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=_env())
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    if rc not in ok_codes:
        raise RuntimeError(f"clinfusion {' '.join(args)} exited {rc}; see {log}")
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "rc": rc}


def _tree_bytes(root: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            top = p.relative_to(root).parts[0]
            out[top] = out.get(top, 0) + p.stat().st_size
    return out


def _read_tsv(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh, delimiter="\t"))


def _write_rows(path: Path, rows: list[list[str]], delimiter: str) -> None:
    with path.open("w", newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)


def subset_cohort(master: Path, out: Path, patients: list[str]) -> None:
    """Write the cohort of ``patients`` (a prefix of the master's) at ``out``, in place if it exists.

    Per-patient folders are hard-linked (same bytes, no copy); ``clinical.csv`` keeps those rows,
    ``genomics/expression.tsv`` those columns and ``genomics/mutations.tsv`` those rows, in the
    master's order. Re-running with more patients adds the new ones (the incremental step).
    """
    keep = set(patients)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(master / "cohort.yaml", out / "cohort.yaml")
    with (master / "clinical.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    _write_rows(out / "clinical.csv", [rows[0]] + [r for r in rows[1:] if r[0] in keep], ",")
    if (master / "genomics").is_dir():
        (out / "genomics").mkdir(exist_ok=True)
        expr = _read_tsv(master / "genomics" / "expression.tsv")
        cols = [0] + [i for i, c in enumerate(expr[0]) if c in keep]
        _write_rows(out / "genomics" / "expression.tsv", [[r[i] for i in cols] for r in expr], "\t")
        mut = _read_tsv(master / "genomics" / "mutations.tsv")
        _write_rows(out / "genomics" / "mutations.tsv", [mut[0]] + [r for r in mut[1:] if r[0] in keep], "\t")
        for extra in (master / "genomics").iterdir():  # gene sets and any other cohort-level file, as they are
            if extra.name not in ("expression.tsv", "mutations.tsv") and not (out / "genomics" / extra.name).exists():
                (shutil.copytree if extra.is_dir() else shutil.copy2)(extra, out / "genomics" / extra.name)
    for mod in PER_PATIENT_DIRS:
        for pid in patients:
            src = master / mod / pid
            dst = out / mod / pid
            if src.is_dir() and not dst.exists():
                shutil.copytree(src, dst, copy_function=os.link)


def _write_configs(work: Path, stack: bool) -> tuple[Path, Path]:
    train_cfg = work / "scale_train.yaml"
    lines = ["# bench/scale.py: the packaged defaults (fusion + default baselines, 1 thread), 5 folds\n",
             "folds: 5\n", "optim: {threads: 1}\n"]
    if not stack:
        lines += ["stack: {enabled: false}\n", "default_model: fusion\n"]
    train_cfg.write_text("".join(lines))
    retrain_cfg = work / "scale_retrain.yaml"
    retrain_cfg.write_text(f"demo_key: true\ntrain_config: {train_cfg}\n")
    return train_cfg, retrain_cfg


def _master(work: Path, n: int, seed: int) -> Path:
    """A master cohort of at least ``n`` patients: an existing complete one is reused, else one is generated."""
    for old in sorted(work.glob(f"master_*_seed{seed}"), key=lambda p: int(p.name.split("_")[1])):
        if int(old.name.split("_")[1]) >= n and (old / ".complete").exists():
            return old
    root = work / f"master_{n}_seed{seed}"
    stamp = root / ".complete"
    if not stamp.exists():
        from clinfusion.synth import generate_cohort

        t0 = time.perf_counter()
        generate_cohort(root, n, seed=seed, scale="small", overwrite=True)
        stamp.write_text(json.dumps({"seconds": round(time.perf_counter() - t0, 1)}))
    return root


def bench_size(n: int, master: Path, work: Path, patients: list[str], train_cfg: Path, retrain_cfg: Path,
               profile: set[str]) -> dict[str, Any]:
    """All four stages on the first ``n`` patients of the master; returns one result row."""
    cohort, ws = work / f"cohort_{n}", work / f"ws_{n}"
    for p in (cohort, ws):
        if p.exists():
            shutil.rmtree(p)
    subset_cohort(master, cohort, patients[:n])
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    cmds = {
        "ingest": ["ingest", str(cohort), "-w", str(ws), "--demo"],
        "featurize": ["featurize", "-w", str(ws)],
        "train": ["train", "-w", str(ws), "--config", str(train_cfg), "--folds", "5", "--no-mlflow",
                  "--json", str(work / f"train_{n}.json")],
        "retrain": ["retrain", "-w", str(ws), "--config", str(retrain_cfg)],
    }
    stages: dict[str, Any] = {}
    for st in STAGES:
        prof = work / f"profile_{st}_{n}.prof" if st in profile else None
        r = run_stage(cmds[st], logs / f"{st}_{n}.log", prof)
        r["seconds_per_patient"] = round(r["seconds"] / n, 5)
        stages[st] = r
        print(f"  {n:4d} {st:9s} {r['seconds']:8.1f} s  {r['seconds_per_patient']:.4f} s/patient  "
              f"{r['peak_rss_mb']:7.1f} MB  (load {os.getloadavg()[0]:.1f})", flush=True)
    last = json.loads(sorted((ws / "retrain").glob("*.json"))[-1].read_text()) if (ws / "retrain").is_dir() else {}
    sizes = _tree_bytes(ws)
    return {"patients": n, "stages": stages, "workspace_bytes": sum(sizes.values()),
            "workspace_bytes_per_patient": round(sum(sizes.values()) / n),
            "workspace_bytes_by_folder": sizes, "retrain_status": last.get("status"),
            "load_avg_after": [round(x, 2) for x in os.getloadavg()]}


def incremental(n: int, k: int, master: Path, work: Path, patients: list[str]) -> dict[str, Any]:
    """Add ``k`` new patients to the size-``n`` cohort; time ingest and featurize of only them."""
    cohort, ws = work / f"cohort_{n}", work / f"ws_{n}"
    subset_cohort(master, cohort, patients[:n + k])
    logs = work / "logs"
    ing = run_stage(["ingest", str(cohort), "-w", str(ws), "--demo"], logs / f"ingest_{n}+{k}.log")
    feat = run_stage(["featurize", "-w", str(ws)], logs / f"featurize_{n}+{k}.log")
    return {"base_patients": n, "new_patients": k, "ingest": ing, "featurize": feat,
            "featurize_log_tail": (logs / f"featurize_{n}+{k}.log").read_text()[-1500:]}


def _plot(result: dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["sizes"]
    ns = [r["patients"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for st in STAGES:
        a.loglog(ns, [r["stages"][st]["seconds"] for r in rows], "o-", label=st)
        b.semilogx(ns, [r["stages"][st]["seconds_per_patient"] for r in rows], "o-", label=st)
    lin = [rows[0]["stages"]["featurize"]["seconds"] * n / ns[0] for n in ns]
    a.loglog(ns, lin, "k:", label="linear (featurize at smallest)")
    a.set_xlabel("patients")
    a.set_ylabel("stage wall time (s)")
    a.set_title("cost vs cohort size (log-log)")
    a.legend(fontsize=8)
    b.set_xlabel("patients")
    b.set_ylabel("seconds per patient")
    b.set_yscale("log")
    b.set_title("per-patient cost (flat = linear)")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def summarize(rows: list[dict[str, Any]], incr: dict[str, Any] | None) -> dict[str, Any]:
    """Ratios and targets from the per-size rows (smallest vs largest size)."""
    lo, hi = rows[0], rows[-1]
    ratios = {st: round(hi["stages"][st]["seconds_per_patient"] / lo["stages"][st]["seconds_per_patient"], 3)
              for st in STAGES}
    rss = {st: {str(r["patients"]): r["stages"][st]["peak_rss_mb"] for r in rows} for st in STAGES}
    rss_ratio = {st: round(hi["stages"][st]["peak_rss_mb"] / lo["stages"][st]["peak_rss_mb"], 3) for st in STAGES}
    # marginal cost (s per added patient between consecutive sizes): fixed start-up costs (imports,
    # model loads) cancel, so a rising marginal cost is what super-linear looks like
    marginal = {st: [round((b["stages"][st]["seconds"] - a["stages"][st]["seconds"]) / (b["patients"] - a["patients"]), 4)
                     for a, b in zip(rows, rows[1:], strict=False)] for st in STAGES}
    out: dict[str, Any] = {
        "max_per_patient_cost_ratio": max(ratios.values()),
        "worst_stage": max(ratios, key=lambda s: ratios[s]),
        "per_patient_cost_ratio": ratios, "ratio_sizes": [lo["patients"], hi["patients"]],
        "target_per_patient_cost_ratio": TARGET_RATIO,
        "marginal_seconds_per_added_patient": marginal,
        "marginal_between_sizes": [[a["patients"], b["patients"]] for a, b in zip(rows, rows[1:], strict=False)],
        "peak_rss_mb": rss, "peak_rss_ratio_largest_over_smallest": rss_ratio,
        "retrain_no_change_seconds_largest": hi["stages"]["retrain"]["seconds"],
        "target_retrain_no_change_seconds": TARGET_RETRAIN_S,
    }
    if incr:
        full = hi["stages"]["featurize"]["seconds"]
        out["incremental_featurize"] = {"base_patients": hi["patients"], "new_patients": incr["new_patients"],
                                        "seconds": incr["featurize"]["seconds"], "full_featurize_seconds": full}
        out["incremental_featurize_fraction_of_full"] = round(incr["featurize"]["seconds"] / full, 4)
        out["target_incremental_featurize_fraction"] = TARGET_INCREMENTAL_FRACTION
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,200,400,800", help="comma-separated cohort sizes (ascending)")
    ap.add_argument("--incremental", type=int, default=10, help="new patients added to the largest cohort (0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/clinfusion_scale"),
                    help="work folder (master cohort reused across runs)")
    ap.add_argument("--stack", action="store_true", help="also fit the default stack (5 inner folds x every "
                    "candidate per fold; off by default to keep the bench to fusion + baselines)")
    ap.add_argument("--profile", default="", help="comma-separated stages to run under cProfile")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scale.json")
    ap.add_argument("--png", type=Path, default=None, help="plot (default: --out with .png)")
    ap.add_argument("--resume", action="store_true", help="keep the sizes already in --out (same master cohort "
                    "and settings; each row keeps its own measured_at and load) and run only the missing ones")
    args = ap.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    if not sizes or sizes[0] < 10:
        ap.error("--sizes: give one or more cohort sizes >= 10, e.g. 100,200")
    profile = {s for s in args.profile.split(",") if s}
    if profile - set(STAGES):
        ap.error(f"--profile: stages are {', '.join(STAGES)}")
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    n_master = sizes[-1] + args.incremental
    t0 = time.perf_counter()
    master = _master(args.work, n_master, args.seed)
    from clinfusion.synth.latent import patient_ids

    n_master = int(master.name.split("_")[1])
    patients = patient_ids(n_master)
    train_cfg, retrain_cfg = _write_configs(args.work, args.stack)
    print(f"master cohort {master} ({n_master} patients) ready in {time.perf_counter() - t0:.0f} s", flush=True)
    rows: list[dict[str, Any]] = []
    if args.resume and args.out.exists():
        old = json.loads(args.out.read_text())
        if old.get("master_cohort", {}).get("path") != str(master) or old.get("train", {}).get("models", "").endswith(
                "+ stack") != args.stack:
            ap.error(f"--resume: {args.out} was measured on another master cohort or train setting")
        rows = [r for r in old.get("sizes", []) if r["patients"] in sizes]
        for r in rows:
            r.setdefault("measured_in", "an earlier run (--resume)")
        load_before = old.get("load_avg_before", load_before)
    result: dict[str, Any] = {}
    for n in sizes:
        if any(r["patients"] == n for r in rows):
            continue
        rows.append(bench_size(n, master, args.work, patients, train_cfg, retrain_cfg, profile))
        rows[-1]["measured_at_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rows.sort(key=lambda r: r["patients"])
        row = next(r for r in rows if r["patients"] == n)
        if args.incremental:  # after every size, so a run stopped early still has it on its largest size
            incr = incremental(n, args.incremental, master, args.work, patients)
            row["incremental"] = incr
            print(f"  {n:4d} +{args.incremental} new: ingest {incr['ingest']['seconds']:.1f} s, featurize "
                  f"{incr['featurize']['seconds']:.1f} s (full featurize {row['stages']['featurize']['seconds']:.1f} s)",
                  flush=True)
        result = {
            "benchmark": "scale", "issue": 20, "cpu_count": os.cpu_count(),
            "threads": 1, "scale": "small", "modalities": "all (radiology, pathology, ecg, genomics, reports, clinical)",
            "train": {"folds": 5, "models": "fusion + default baselines" + (" + stack" if args.stack else
                                                                            " (stack disabled: --stack adds it)"),
                      "mlflow": False},
            "sizes_requested": sizes, "sizes_completed": [r["patients"] for r in rows],
            "complete": len(rows) == len(sizes),
            "master_cohort": {"patients": n_master, "path": str(master), "generate": json.loads((master / ".complete").read_text())},
            "load_avg_before": load_before, "load_avg_after": [round(x, 2) for x in os.getloadavg()],
            "resumed": bool(args.resume) and any("measured_in" in r for r in rows),
            "reference": "the smallest size in the same run (per-patient cost ratio); the largest size's full "
                         "featurize time (incremental)",
            **(summarize(rows, rows[-1].get("incremental")) if len(rows) > 1 else {}),
            "sizes": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")  # after every size: partial runs stay honest
        if len(rows) > 1:
            _plot(result, args.png or args.out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in result.items() if k != "sizes"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
