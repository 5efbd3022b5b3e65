"""A cohort that grows: patients of a staged synthetic cohort are released into a live cohort in order,
so a test can train, then ingest patients the model never saw (the clinical loop of the review app)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd


class GrowingCohort:
    """A live cohort directory (``live``) that receives the staged cohort's patients in order.

    Only the clinical table and per-patient modality folders (``<modality>/<patient_id>/``) are
    copied; the staged cohort must have been generated with such modalities (e.g. ``("ecg",)``).
    """

    def __init__(self, stage: Path, live: Path) -> None:
        self.stage, self.live = Path(stage), Path(live)

    @classmethod
    def generate(cls, root: str | Path, n_patients: int, seed: int = 1, modalities: tuple[str, ...] = ("ecg",)) -> GrowingCohort:
        """Generate the staged cohort under ``root/stage`` (live cohort: ``root/cohort``, empty until released)."""
        from clinfusion.synth import generate_cohort

        root = Path(root)
        generate_cohort(root / "stage", n_patients, seed=seed, modalities=modalities)
        return cls(root / "stage", root / "cohort")

    def release(self, n: int) -> list[str]:
        """Make the first ``n`` staged patients part of the live cohort; returns their raw ids."""
        self.live.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.stage / "cohort.yaml", self.live / "cohort.yaml")
        clin = pd.read_csv(self.stage / "clinical.csv").iloc[:n]
        clin.to_csv(self.live / "clinical.csv", index=False)
        for pid in clin["patient_id"]:
            for src in self.stage.glob(f"*/{pid}"):
                dst = self.live / src.relative_to(self.stage)
                if src.is_dir() and not dst.exists():
                    shutil.copytree(src, dst)
        return clin["patient_id"].tolist()
