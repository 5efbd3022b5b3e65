"""Generate the whole synthetic cohort: latent model -> per-patient files -> truth.

Each patient's files come from generators keyed by (seed, modality, patient index), so the
output is byte-identical for a given config whatever the number of worker processes.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.errors import ConfigError
from clinfusion.synth.clinical import COHORT_YAML_MARKER, write_clinical, write_cohort_yaml
from clinfusion.synth.config import SynthConfig, make_config
from clinfusion.synth.latent import LATENTS, rng_for, sample_latent_cohort
from clinfusion.synth.phi import PhiLedger, make_patient_phi
from clinfusion.synth.truth import write_truth


@dataclass
class SynthResult:
    """What :func:`generate_cohort` wrote.

    Attributes:
        root: the cohort directory.
        patients: raw patient ids (``SYN0001`` ...).
        truth_dir: ``root / "truth"``.
        config: the config used.
        summary: the content of ``truth/summary.json``.
        truth: the full truth table (one row per patient; see ``sample_latent_cohort``).
        seconds: wall-clock time of the generation.
    """

    root: Path
    patients: list[str]
    truth_dir: Path
    config: SynthConfig
    summary: dict[str, Any] = field(default_factory=dict)
    truth: pd.DataFrame | None = None
    seconds: float = 0.0


def _write_patient(root: Path, row: dict[str, Any], index: int, cfg: SynthConfig) -> tuple[dict[str, Any], list]:
    """Write one patient's per-patient files; returns (phenotype, ledger rows)."""
    pid = row["patient_id"]
    latents = {k: row[k] for k in LATENTS}
    phi = make_patient_phi(cfg.seed, index, int(row["age"]))
    ledger = PhiLedger()
    pheno: dict[str, Any] = {"patient_id": pid}
    mods = cfg.active_modalities

    def present(m: str) -> bool:
        return m in mods and not row[f"missing_{m}"]

    if present("radiology"):
        from clinfusion.synth.radiology import write_ct_series

        pheno |= write_ct_series(root / "radiology" / pid, pid, latents, int(row["age"]), row["sex"], phi,
                                 cfg.sizes, rng_for(cfg.seed, "radiology", index), cfg.seed, ledger,
                                 extension=index % 5 != 4)
    if present("pathology"):
        from clinfusion.synth.pathology import write_slide

        pheno |= write_slide(root / "pathology" / pid / f"{pid}-A1-HE.tiff", pid, latents, phi, cfg.sizes,
                             rng_for(cfg.seed, "pathology", index), ledger)
    if present("ecg"):
        from clinfusion.synth.ecg import write_ecg

        pheno |= write_ecg(root / "ecg" / pid, pid, latents, int(row["age"]), row["sex"], phi,
                           rng_for(cfg.seed, "ecg", index), ledger)
    if present("reports"):
        from clinfusion.synth.reports import write_reports

        pheno |= write_reports(root / "reports" / pid, pid, latents, int(row["age"]), row["sex"], pheno, phi,
                               rng_for(cfg.seed, "reports", index), ledger)
    return pheno, ledger.rows


def _prepare(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise ConfigError("output directory is not empty (pass overwrite=True / --overwrite)", file=out_dir, field="out")
        yaml_path = out_dir / "cohort.yaml"
        ours = yaml_path.is_file() and yaml_path.read_text(encoding="utf-8").startswith(COHORT_YAML_MARKER)
        if not ours:
            raise ConfigError("refusing to overwrite a directory that is not a synthetic cohort "
                              "(its cohort.yaml was not written by clinfusion synth)", file=out_dir, field="out")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def generate_cohort(out_dir: str | Path, n_patients: int = 40, seed: int = 0, scale: str = "small",
                    missing_rate: float = 0.0, missing: str = "mcar", modalities: tuple[str, ...] | list[str] | None = None,
                    *, censoring_rate: float = 0.35, name: str = "synthetic", workers: int = 1,
                    overwrite: bool = False) -> SynthResult:
    """Write a synthetic cohort directory with ground truth.

    Args:
        out_dir: directory to create (must be empty or absent, unless ``overwrite``).
        n_patients: number of patients.
        seed: random seed; the same arguments give byte-identical files.
        scale: ``small`` (CT 16x128x128, slides 2048 px, 3 levels), ``medium`` or ``large``.
        missing_rate: mean probability that a patient lacks each file modality.
        missing: ``mcar`` or ``mnar`` (missingness rises with the true risk).
        modalities: subset of ``("radiology", "pathology", "ecg", "genomics", "reports")``; None = all.
        censoring_rate: target fraction censored.
        name: cohort name in cohort.yaml.
        workers: processes writing patients in parallel (the output does not depend on it).
        overwrite: replace an existing synthetic cohort at ``out_dir``.

    Returns:
        The :class:`SynthResult`.

    Raises:
        ConfigError: invalid arguments, or a non-empty ``out_dir`` without ``overwrite``.
    """
    t0 = time.perf_counter()
    cfg = make_config(n_patients=n_patients, seed=seed, scale=scale, missing_rate=missing_rate, missing=missing,
                      modalities=None if modalities is None else tuple(modalities),
                      censoring_rate=censoring_rate, name=name)
    root = Path(out_dir)
    _prepare(root, overwrite)
    frame = sample_latent_cohort(cfg)
    write_cohort_yaml(root, cfg.name)
    write_clinical(root, frame)
    rows = frame.to_dict(orient="records")
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_write_patient, [root] * len(rows), rows, range(len(rows)), [cfg] * len(rows)))
    else:
        results = [_write_patient(root, row, i, cfg) for i, row in enumerate(rows)]
    ledger = PhiLedger()
    for _, led in results:
        ledger.rows.extend(led)
    phenotypes = pd.DataFrame([p for p, _ in results])
    truth_dir = root / "truth"
    if "genomics" in cfg.active_modalities:
        from clinfusion.synth.genomics import write_genomics

        have = frame[~frame["missing_genomics"]]
        activity = write_genomics(root / "genomics", have, cfg.seed)
        truth_dir.mkdir(parents=True, exist_ok=True)
        activity.rename_axis("patient_id").to_csv(truth_dir / "gene_set_activity.csv")
    summary = write_truth(truth_dir, frame, phenotypes, ledger.frame(), cfg)
    return SynthResult(root, frame["patient_id"].tolist(), truth_dir, cfg, summary, frame,
                       time.perf_counter() - t0)
