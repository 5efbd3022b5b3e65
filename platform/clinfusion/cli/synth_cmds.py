"""`clinfusion synth`: write a synthetic multimodal cohort with ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from clinfusion.cli.console import console


def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Cohort directory to write (empty or absent)."),
    patients: int = typer.Option(40, "--patients", "-n", help="Number of patients."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same bytes)."),
    missing_rate: float = typer.Option(0.0, "--missing-rate", help="Mean probability a patient lacks each modality."),
    missing: str = typer.Option("mcar", "--missing", help="Missingness mechanism: mcar or mnar."),
    scale: str = typer.Option("small", "--scale", help="File sizes: small, medium or large."),
    modalities: str = typer.Option("", "--modalities", help="Comma-separated subset (default: all five)."),
    workers: int = typer.Option(1, "--workers", help="Processes writing patients in parallel."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing synthetic cohort at --out."),
) -> int:
    """Write a synthetic cohort (CT DICOM, TIFF slides, WFDB ECG, expression, reports) with truth/."""
    from clinfusion.synth import generate_cohort

    mods = tuple(m.strip() for m in modalities.split(",") if m.strip()) or None
    res = generate_cohort(out, n_patients=patients, seed=seed, scale=scale, missing_rate=missing_rate,
                          missing=missing, modalities=mods, workers=workers, overwrite=overwrite)
    s = res.summary
    miss = ", ".join(f"{m} {v['fraction_missing']:.0%}" for m, v in s["missingness"].items())
    console.print(f"[green]wrote[/] {s['n_patients']} patients to {res.root} in {res.seconds:.1f} s; "
                  f"censored {s['censoring_rate']:.0%}; missing: {miss}")
    console.print(f"oracle C-index {s['oracle_cindex']:.3f}, oracle diagnosis AUROC "
                  f"{s['oracle_diagnosis_auroc'] if s['oracle_diagnosis_auroc'] is None else round(s['oracle_diagnosis_auroc'], 3)}; "
                  f"truth in {res.truth_dir}")
    return 0


COMMANDS = {"synth": synth}
