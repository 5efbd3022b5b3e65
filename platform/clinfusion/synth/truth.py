"""Ground-truth files under ``truth/`` and the oracle metrics of ``truth/summary.json``.

The oracle C-index is lifelines' ``concordance_index(survival_time, -linear_predictor, event)``:
how well the TRUE risk orders the OBSERVED outcomes, the ceiling any model can approach on this
cohort. The oracle AUROC is the macro one-vs-rest AUROC of the true class probabilities against
the sampled labels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.synth.config import SynthConfig
from clinfusion.synth.latent import (
    DIAGNOSES,
    LATENTS,
    LP_WEIGHTS,
    MNAR_STRENGTH,
    MODALITY_LATENTS,
    WEIBULL_SCALE_DAYS,
    WEIBULL_SHAPE,
)

TRUTH_FILES = ("latents.csv", "linear_predictor.csv", "diagnosis_probs.csv", "modalities.csv",
               "phenotypes.csv", "phi.csv", "summary.json")


def oracle_cindex(frame: pd.DataFrame) -> float:
    """Harrell's C of the true linear predictor against the observed outcomes (lifelines)."""
    from lifelines.utils import concordance_index

    return float(concordance_index(frame["survival_time"], -frame["linear_predictor"], frame["event"]))


def oracle_auroc(frame: pd.DataFrame) -> float | None:
    """Macro one-vs-rest AUROC of the true diagnosis probabilities; ``None`` if a class is absent."""
    from sklearn.metrics import roc_auc_score

    if frame["diagnosis"].nunique() < len(DIAGNOSES):
        return None
    return float(np.mean([roc_auc_score(frame["diagnosis"] == d, frame[f"p_{d}"]) for d in DIAGNOSES]))


def missingness(frame: pd.DataFrame, modalities: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per modality: fraction missing and the correlation of the missing flag with the true risk."""
    out = {}
    lp = frame["linear_predictor"].to_numpy()
    for m in modalities:
        miss = frame[f"missing_{m}"].to_numpy().astype(float)
        corr = float(np.corrcoef(miss, lp)[0, 1]) if 0 < miss.mean() < 1 else 0.0
        out[m] = {"fraction_missing": round(float(miss.mean()), 6), "corr_with_linear_predictor": round(corr, 6)}
    return out


def build_summary(frame: pd.DataFrame, cfg: SynthConfig) -> dict[str, Any]:
    """The content of ``truth/summary.json``."""
    auroc = oracle_auroc(frame)
    return {
        "n_patients": len(frame),
        "n_events": int(frame["event"].sum()),
        "censoring_rate": round(float(1 - frame["event"].mean()), 6),
        "oracle_cindex": round(oracle_cindex(frame), 6),
        "oracle_diagnosis_auroc": None if auroc is None else round(auroc, 6),
        "diagnosis_counts": {d: int((frame["diagnosis"] == d).sum()) for d in DIAGNOSES},
        "missingness": missingness(frame, cfg.active_modalities),
        "modality_latents": {m: list(v) for m, v in MODALITY_LATENTS.items()},
        "latents": list(LATENTS),
        "survival_model": {"linear_predictor_weights": LP_WEIGHTS, "baseline": "Weibull",
                           "scale_days": WEIBULL_SCALE_DAYS, "shape": WEIBULL_SHAPE},
        "mnar_log_odds_per_sd_of_risk": MNAR_STRENGTH,
        "config": cfg.model_dump(mode="json"),
    }


def write_truth(truth_dir: Path, frame: pd.DataFrame, phenotypes: pd.DataFrame, phi: pd.DataFrame,
                cfg: SynthConfig) -> dict[str, Any]:
    """Write every truth file; returns the summary.

    Files: ``latents.csv`` (latents + covariates), ``linear_predictor.csv`` (lp, true event and
    censoring times, observed outcome), ``diagnosis_probs.csv``, ``modalities.csv`` (1 = present),
    ``phenotypes.csv`` (what each modality's files encode: lesion size, nuclei density, heart
    rate, ...), ``phi.csv`` and ``summary.json``.
    """
    truth_dir.mkdir(parents=True, exist_ok=True)
    pid = ["patient_id"]
    frame[pid + list(LATENTS) + ["age", "sex", "stage", "stage_group"]].to_csv(truth_dir / "latents.csv", index=False)
    frame[pid + ["linear_predictor", "event_time", "censor_time", "survival_time", "event"]].to_csv(
        truth_dir / "linear_predictor.csv", index=False)
    frame[pid + [f"p_{d}" for d in DIAGNOSES] + ["diagnosis"]].to_csv(truth_dir / "diagnosis_probs.csv", index=False)
    present = pd.DataFrame({"patient_id": frame["patient_id"]})
    for m in cfg.active_modalities:
        present[m] = (~frame[f"missing_{m}"]).astype(int)
    present.to_csv(truth_dir / "modalities.csv", index=False)
    phenotypes.to_csv(truth_dir / "phenotypes.csv", index=False)
    phi.to_csv(truth_dir / "phi.csv", index=False)
    summary = build_summary(frame, cfg)
    (truth_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
