"""The fusion model's predictions for the patients of a workspace, from ``clinfusion train``'s MLflow run.

``clinfusion train`` logs, per run, ``predictions.csv`` (``patient_id``, ``risk``, ``surv_<k>``
and ``p_<class>`` with a diagnosis head) of the final model, ``fold_survival.csv`` (each CV
fold's model on every patient), ``contributions.csv`` (out-of-fold per-modality contributions)
, ``embeddings.csv`` (fused embeddings) and ``token_attention.parquet`` (per-token attention,
read per patient by :mod:`clinfusion.review.attention`). The app uses the newest run whose
``predictions.csv`` has a ``patient_id`` column; :func:`load_predictions` says why when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.review import experiments


def _surv_cols(frame: pd.DataFrame) -> list[str]:
    return sorted((c for c in frame.columns if c.startswith("surv_")), key=lambda c: int(c.split("_")[1]))


@dataclass(frozen=True)
class Predictions:
    """Predictions of one run: ``table`` indexed by pseudonym, the run id, the model version label,
    the run's optional per-patient tables (None when the run did not log them) and its artifact URI."""

    table: pd.DataFrame
    run_id: str
    model_version: str
    fold_survival: pd.DataFrame | None = None
    contributions_table: pd.DataFrame | None = None
    embeddings: pd.DataFrame | None = None
    artifact_uri: str = ""

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
        return self.table.loc[pid, _surv_cols(self.table)].astype(float)

    def survival_band(self, pid: str) -> pd.DataFrame:
        """The final model's survival curve with the envelope of the CV fold models' curves and the
        final curve itself (columns ``survival``, ``lower``, ``upper``; one row per time bin): the
        spread due to the training data, not a calibrated interval. Without fold curves the band
        collapses onto the curve."""
        curve = self.survival_curve(pid).to_numpy()
        out = pd.DataFrame({"survival": curve, "lower": curve, "upper": curve})
        if self.fold_survival is not None:
            folds = self.fold_survival[self.fold_survival["patient_id"] == pid]
            if len(folds):
                vals = folds[_surv_cols(folds)].to_numpy(float)
                vals = np.vstack([vals, curve])  # the final model may lie outside every fold model
                out["lower"], out["upper"] = vals.min(0), vals.max(0)
        return out

    def diagnosis(self, pid: str) -> pd.Series:
        """Diagnosis probabilities (``p_<class>`` columns), highest first; empty without a diagnosis head."""
        cols = [c for c in self.table.columns if c.startswith("p_")]
        return self.table.loc[pid, cols].astype(float).rename(lambda c: c[2:]).sort_values(ascending=False)

    def contributions(self, pid: str) -> pd.DataFrame:
        """Per modality: ``delta_risk`` (risk with all modalities minus risk without this one, out-of-fold)
        and ``attention`` ([CLS] attention share); empty when the run logged none for this patient."""
        c = self.contributions_table
        if c is None or pid not in set(c["patient_id"]):
            return pd.DataFrame(columns=["delta_risk", "attention"])
        row = c[c["patient_id"] == pid].iloc[0]
        mods = [k[len("delta_"):] for k in c.columns if k.startswith("delta_")]
        out = pd.DataFrame({"delta_risk": [row[f"delta_{m}"] for m in mods],
                            "attention": [row.get(f"attention_{m}", np.nan) for m in mods]}, index=mods)
        return out.dropna(how="all").sort_values("delta_risk", key=abs, ascending=False)

    def similar(self, pid: str, k: int = 5, features: pd.DataFrame | None = None) -> pd.DataFrame:
        """The ``k`` most similar patients in the cohort similarity graph (cosine k-NN,
        :func:`clinfusion.graph.cohort_similarity_graph`) with their predicted risk.

        Args:
            features: used only when the run logged no fused embeddings: a ``patient_id`` column plus
                numeric columns (e.g. :func:`clinfusion.review.similarity.workspace_token_features`).
        """
        from clinfusion.graph import cohort_similarity_graph

        source = self.embeddings if self.embeddings is not None else features
        if source is None or pid not in set(source["patient_id"]):
            return pd.DataFrame(columns=["patient_id", "similarity", "risk percentile"])
        emb = source.drop(columns="patient_id").to_numpy(float)
        graph = cohort_similarity_graph(emb, source["patient_id"].tolist(), k=k)
        rows = [(p, round(w, 3), self.percentile(p) if p in self.table.index else np.nan) for p, w in graph.neighbours(pid)]
        return pd.DataFrame(rows, columns=["patient_id", "similarity", "risk percentile"])


def _optional(run, name: str) -> pd.DataFrame | None:
    path = experiments.artifact_file(run["artifact_uri"], name)
    return pd.read_csv(path) if path.exists() else None


def _version_label(versions: pd.DataFrame, run_id: str) -> str:
    mv = versions[versions["run_id"] == run_id] if len(versions) else versions
    if not len(mv):
        return f"run {run_id[:8]} (not registered)"
    v = mv.iloc[0]
    return f"{v['name']} v{v['version']} " + (f"(alias: {v['aliases']})" if v["aliases"] else "(no registry alias)")


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
        table = _optional(run, "predictions.csv")
        if table is None or "patient_id" not in table.columns or "risk" not in table.columns:
            continue
        return Predictions(table.set_index("patient_id"), str(run["run_id"]), _version_label(versions, run["run_id"]),
                           _optional(run, "fold_survival.csv"), _optional(run, "contributions.csv"),
                           _optional(run, "embeddings.csv"), str(run["artifact_uri"])), ""
    return None, (f"{len(runs)} MLflow run(s) found, but no run's predictions.csv has a patient_id column "
                  "(trained before it was added): run `clinfusion train --workspace WS` again")
