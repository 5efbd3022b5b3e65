"""The main job on the embedded default, end to end on a synthetic cohort.

synthetic cohort -> validate -> ingest (de-identify) -> featurize (tokens per modality) ->
train the default model (stack), the fusion model and the baselines with cross-validation -> an
evaluation table next to the oracle, with paired differences (default model and fusion vs the best
baseline) and calibration -> the MLflow run id and how to look at it.

Run with ``make demo`` (or ``python -m pipelines.demo --out demo``). A second run reuses the
cohort, the workspace and the token cache (ingest and featurize report everything unchanged)
and trains again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clinfusion.cli import main as cli
from clinfusion.cli.console import console, print_frame
from clinfusion.ingest import ingest
from clinfusion.ingest.validate import validate_cohort
from clinfusion.synth import generate_cohort


def run(out: Path, n_patients: int = 120, seed: int = 0, folds: int = 5) -> int:
    """Build (once), validate and ingest the example cohort under ``out``; returns an exit code.

    The cohort is synthetic (``clinfusion.synth``): every modality in real file formats, about
    15% of each modality missing not at random, ground truth under ``cohort/truth``.
    """
    cohort, ws = out / "cohort", out / "workspace"
    if not (cohort / "cohort.yaml").exists():
        console.print(f"[bold]1. synthetic cohort[/] -> {cohort} ({n_patients} patients, all modalities)")
        res = generate_cohort(cohort, n_patients, seed=seed, missing_rate=0.15, missing="mnar", name="demo", workers=2)
        console.print(f"   written in {res.seconds:.0f} s; oracle C-index {res.summary['oracle_cindex']:.3f} "
                      f"(truth in {res.truth_dir})")
    report = validate_cohort(cohort)
    console.print(f"[bold]2. validate[/]: {'ok' if report.ok else report.problems}")
    if not report.ok:
        return 1
    console.print(f"[bold]3. ingest[/] -> {ws} (demo key generated under {ws}/.secrets if none is configured)")
    result = ingest(cohort, ws, demo=True, workers=2)
    console.print(f"   {result.processed} item(s) read, {result.reused} unchanged, {result.n_quarantined} quarantined")
    print_frame(result.summary, title="catalog summary")
    console.print("[bold]4. featurize[/]: tokens per (patient, modality), cached by content hash")
    rc = cli(["featurize", "--workspace", str(ws)])
    if rc not in (0, 2):
        return rc
    console.print(f"[bold]5. train[/]: fusion model and baselines, {folds}-fold patient-level cross-validation; "
                  "survival and diagnosis heads (loss.diagnosis 0.3 in the shipped default_train.yaml), so a "
                  "clinician's diagnosis override changes the next retrained model")
    results = out / "results.json"
    rc = cli(["train", "--workspace", str(ws), "--folds", str(folds), "--json", str(results)])
    if rc != 0:
        return rc
    print_paired(json.loads(results.read_text()))
    console.print(
        f"\nResults: {results} (the MLflow command above opens the run; use .venv/bin/mlflow)\n"
        f"Explore: clinfusion catalog {ws}; clinfusion export {ws} --modality ecg --out ecg.csv\n"
        "Review:  make app   (starts the clinician app on http://127.0.0.1:8501; login demo / demo-review)\n"
        f"Loop:    override a diagnosis in the app, then CLINFUSION_DEMO=1 clinfusion retrain -w {ws} --force\n"
        "         (the override becomes that patient's training label; the gate report lists risk-group disagreements)"
    )
    return 0


def print_paired(result: dict) -> None:
    """The paired differences next to the table (``make demo``)."""
    from clinfusion.evaluation.summary import paired_sentences

    console.print("[bold]paired differences[/] (same folds, same patients):")
    for line in paired_sentences(result):
        console.print(f"   {line}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo"), help="demo folder (cohort + workspace)")
    parser.add_argument("--patients", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    return run(args.out, args.patients, args.seed, args.folds)


if __name__ == "__main__":
    sys.exit(main())
