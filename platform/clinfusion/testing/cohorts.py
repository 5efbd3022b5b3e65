"""A tiny cohort builder for tests and the first demo: clinical table plus files per modality."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


@dataclass
class TinyCohort:
    """What :func:`write_tiny_cohort` wrote.

    Attributes:
        root: cohort directory.
        patients: patient ids.
        clinical: the clinical table as written.
    """

    root: Path
    patients: list[str]
    clinical: pd.DataFrame
    extra_files: list[Path] = field(default_factory=list)


def write_tiny_cohort(
    root: str | Path,
    n_patients: int = 8,
    *,
    seed: int = 0,
    name: str = "tiny",
    spec: dict | None = None,
    id_prefix: str = "PT",
) -> TinyCohort:
    """Write a minimal valid cohort: ``cohort.yaml`` and ``clinical.csv``.

    Args:
        root: directory to create.
        n_patients: number of patients.
        seed: random seed for covariates and outcomes.
        name: cohort name.
        spec: extra cohort.yaml keys (merged over ``{"name": name}``).
        id_prefix: patient ids are ``f"{id_prefix}{i:04d}"``.

    Returns:
        The cohort description.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = [f"{id_prefix}{i:04d}" for i in range(n_patients)]
    age = rng.integers(35, 85, n_patients)
    stage = rng.choice(["I", "II", "III", "IV"], n_patients)
    risk = 0.03 * (age - 60) + np.array([{"I": 0, "II": 0.5, "III": 1.0, "IV": 1.5}[s] for s in stage])
    t = rng.exponential(900 * np.exp(-risk))
    c = rng.exponential(1500, n_patients)
    clinical = pd.DataFrame(
        {
            "patient_id": ids,
            "age": age,
            "sex": rng.choice(["F", "M"], n_patients),
            "stage": stage,
            "survival_time": np.round(np.minimum(t, c), 1),
            "event": (t <= c).astype(int),
            "diagnosis": rng.choice(["adenocarcinoma", "squamous", "other"], n_patients),
        }
    )
    clinical.to_csv(root / "clinical.csv", index=False)
    data = {"name": name, **(spec or {})}
    (root / "cohort.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return TinyCohort(root, ids, clinical)
