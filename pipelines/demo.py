"""The main job on the embedded default: build an example cohort, validate, ingest, summarise.

Run with ``make demo`` (or ``python -m pipelines.demo --out demo``). Idempotent: a second run
reuses the cohort and the workspace, so ingest reports every item unchanged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clinfusion.cli.console import console, print_frame
from clinfusion.cohort.validate import validate_cohort
from clinfusion.ingest import ingest
from clinfusion.testing.cohorts import write_tiny_cohort


def run(out: Path, n_patients: int = 24) -> int:
    """Build (once), validate and ingest the example cohort under ``out``; returns an exit code."""
    cohort, ws = out / "cohort", out / "workspace"
    if not (cohort / "cohort.yaml").exists():
        console.print(f"[bold]1. example cohort[/] -> {cohort}")
        write_tiny_cohort(cohort, n_patients, name="demo")
    report = validate_cohort(cohort)
    console.print(f"[bold]2. validate[/]: {'ok' if report.ok else report.problems}")
    if not report.ok:
        return 1
    console.print(f"[bold]3. ingest[/] -> {ws} (demo key generated under {ws}/.secrets if none is configured)")
    result = ingest(cohort, ws, demo=True)
    console.print(f"   {result.processed} item(s) read, {result.reused} unchanged, {result.n_quarantined} quarantined")
    print_frame(result.summary, title="catalog summary")
    console.print(f"Next: `clinfusion catalog {ws}` and `clinfusion export {ws} --modality clinical --out clinical.csv`")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo"), help="demo folder (cohort + workspace)")
    parser.add_argument("--patients", type=int, default=24)
    args = parser.parse_args(argv)
    return run(args.out, args.patients)


if __name__ == "__main__":
    sys.exit(main())
