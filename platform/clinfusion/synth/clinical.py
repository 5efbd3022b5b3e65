"""clinical.csv and cohort.yaml of the synthetic cohort (default layout: only name + covariate types)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from clinfusion.synth.latent import STAGE_LEVELS

COHORT_YAML_MARKER = "# synthetic cohort written by `clinfusion synth`"
CLINICAL_COLUMNS: tuple[str, ...] = ("patient_id", "age", "sex", "stage", "survival_time", "event", "diagnosis")


def write_clinical(root: Path, frame: pd.DataFrame) -> Path:
    """Write ``clinical.csv``: id, age (years), sex, stage (``Stage IIA``...), survival_time (days), event, diagnosis."""
    path = root / "clinical.csv"
    frame.loc[:, list(CLINICAL_COLUMNS)].to_csv(path, index=False)
    return path


def write_cohort_yaml(root: Path, name: str) -> Path:
    """Write ``cohort.yaml`` with the cohort name and the covariate types (all paths default)."""
    data = {
        "name": name,
        "clinical": {"covariates": {
            "age": {"type": "numeric"},
            "sex": {"type": "categorical"},
            "stage": {"type": "ordinal", "levels": list(STAGE_LEVELS)},
        }},
    }
    path = root / "cohort.yaml"
    path.write_text(f"{COHORT_YAML_MARKER}; ground truth in truth/\n"
                    + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
