"""A growing synthetic ECG cohort: patients are released from a staged cohort in batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest


class GrowingCohort:
    """A live cohort directory that receives the staged cohort's patients in order."""

    def __init__(self, stage: Path, live: Path) -> None:
        self.stage, self.live = stage, live

    def release(self, n: int) -> list[str]:
        """Make the first ``n`` staged patients part of the live cohort; returns their raw ids."""
        self.live.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.stage / "cohort.yaml", self.live / "cohort.yaml")
        clin = pd.read_csv(self.stage / "clinical.csv").iloc[:n]
        clin.to_csv(self.live / "clinical.csv", index=False)
        for pid in clin["patient_id"]:
            src, dst = self.stage / "ecg" / pid, self.live / "ecg" / pid
            if src.exists() and not dst.exists():
                shutil.copytree(src, dst)
        return clin["patient_id"].tolist()


@pytest.fixture(scope="module")
def growing_cohort(tmp_path_factory) -> GrowingCohort:
    from clinfusion.synth import generate_cohort

    root = tmp_path_factory.mktemp("growing")
    generate_cohort(root / "stage", 30, seed=1, modalities=("ecg",))
    return GrowingCohort(root / "stage", root / "cohort")
