"""The fusion model's predictions for the patients of a workspace, from ``clinfusion train``'s MLflow run.

``clinfusion train`` logs ``predictions.csv`` (``risk``, ``surv_<k>``, ``p_<class>``) as an
artifact of its run. The panel needs to know which row is which patient, so it uses the newest
run whose ``predictions.csv`` has a ``patient_id`` column; :func:`load_predictions` says why when
there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.review import experiments


@dataclass(frozen=True)
class Predictions:
    """Predictions of one run: ``table`` indexed by pseudonym, the run id and the model version label."""

    table: pd.DataFrame
    run_id: str
    model_version: str

    def risk_group(self) -> pd.Series:
        """``high`` / ``low`` predicted risk (above / at or below the cohort median risk)."""
        r = self.table["risk"].astype(float)
        return pd.Series(np.where(r > r.median(), "high risk", "low risk"), index=r.index)

    def percentile(self, pid: str) -> float:
        """The patient's risk percentile in the cohort (0-100)."""
        r = self.table["risk"].astype(float)
        return float((r <= r.loc[pid]).mean() * 100)

    def survival_curve(self, pid: str) -> pd.Series:
        """Survival probability at the end of each discrete time bin (``surv_<k>`` columns)."""
        cols = sorted((c for c in self.table.columns if c.startswith("surv_")), key=lambda c: int(c.split("_")[1]))
        return self.table.loc[pid, cols].astype(float)

    def diagnosis(self, pid: str) -> pd.Series:
        """Diagnosis probabilities (``p_<class>`` columns), highest first; empty without a diagnosis head."""
        cols = [c for c in self.table.columns if c.startswith("p_")]
        return self.table.loc[pid, cols].astype(float).rename(lambda c: c[2:]).sort_values(ascending=False)


def load_predictions(ws_root: str | Path) -> tuple[Predictions | None, str]:
    """The newest usable predictions and a status message.

    Returns:
        ``(Predictions, "")`` or ``(None, why)``: no MLflow run in the workspace, or no run's
        ``predictions.csv`` names its patients.
    """
    runs = experiments.list_runs(ws_root)
    if runs.empty:
        return None, "no model has been trained for this workspace: run `clinfusion train --workspace WS`"
    versions = experiments.list_versions(ws_root)
    for _, run in runs.iterrows():
        path = experiments.artifact_file(run["artifact_uri"], "predictions.csv")
        if not path.exists():
            continue
        table = pd.read_csv(path)
        if "patient_id" not in table.columns or "risk" not in table.columns:
            continue
        mv = versions[versions["run_id"] == run["run_id"]] if len(versions) else versions
        label = (f"{mv.iloc[0]['name']} v{mv.iloc[0]['version']}" + (f" ({mv.iloc[0]['aliases']})" if mv.iloc[0]["aliases"] else "")
                 if len(mv) else f"run {run['run_id'][:8]}")
        return Predictions(table.set_index("patient_id"), str(run["run_id"]), label), ""
    return None, (f"{len(runs)} MLflow run(s) found, but no run's predictions.csv has a patient_id column, so "
                  "predictions cannot be matched to patients")
