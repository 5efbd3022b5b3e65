"""The predictions the review app serves: those of the registered version holding an alias.

The app never shows "the newest run": :func:`load_predictions` resolves the registry alias
(default ``champion``; ``clinfusion app --alias challenger`` for a shadow view) through MLflow's
registry (:func:`clinfusion.tracking.registry.resolve_alias`) and reads that version's training
run. Without a version holding the alias it returns no predictions and says how to get one.

Per patient (:mod:`clinfusion.review.serving`): training patients get their out-of-fold
prediction from ``fold_predictions.csv``, patients ingested after training the final model's
(the registered pyfunc, :mod:`clinfusion.review.unseen`). The run also logged
``contributions.csv`` (out-of-fold per-modality contributions), ``embeddings.csv`` (fused
embeddings) and ``token_attention.parquet`` (per-token attention, read per patient by
:mod:`clinfusion.review.attention`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.review import serving

DEFAULT_ALIAS = "champion"


def _surv_cols(frame: pd.DataFrame) -> list[str]:
    return sorted((c for c in frame.columns if c.startswith("surv_")), key=lambda c: int(c.split("_")[1]))


@dataclass(frozen=True)
class ServedModel:
    """The registered version being shown and its cross-validated C-index.

    ``cindex`` is the pooled out-of-fold Harrell C of the registered model (the run's
    ``default_model``: the stack by default; fusion for runs before it existed), ``cindex_ci95`` its
    bootstrap interval (None when trained with ``bootstrap: 0``), ``cindex_sd`` the spread over folds.
    """

    name: str
    version: str
    alias: str
    run_id: str
    trained_at: str
    fingerprint: str
    cindex: float = float("nan")
    cindex_ci95: tuple[float, float] | None = None
    cindex_sd: float = float("nan")
    folds: int = 0

    @property
    def label(self) -> str:
        """``<name> v<version> (alias: <alias>)``."""
        return f"{self.name} v{self.version} (alias: {self.alias})"

    def cindex_text(self) -> str:
        """``0.712 (95% CI 0.650-0.770, 5-fold CV)`` or, without a bootstrap, the fold spread."""
        if not np.isfinite(self.cindex):
            return "not recorded"
        if self.cindex_ci95 is not None:
            return f"{self.cindex:.3f} (95% CI {self.cindex_ci95[0]:.3f}-{self.cindex_ci95[1]:.3f}, {self.folds}-fold CV)"
        return f"{self.cindex:.3f} (no bootstrap CI: trained with bootstrap 0; fold sd {self.cindex_sd:.3f}, {self.folds}-fold CV)"

    def describe(self) -> str:
        """One line naming everything a clinician needs to know about the model shown."""
        return (f"model: {self.label}; trained {self.trained_at}; cohort fingerprint {self.fingerprint[:12] or 'unknown'}; "
                f"cross-validated C-index {self.cindex_text()}; MLflow run {self.run_id[:8]}")


@dataclass(frozen=True)
class Predictions:
    """What the app shows for each patient under one served version.

    ``table`` (indexed by pseudonym) is :func:`clinfusion.review.serving.served_table`; the
    other frames are the run's optional per-patient tables (None when it logged none).
    ``bin_days`` (``[K]`` days of the final model's ``surv_<k>``) and ``fold_bin_days`` (per fold)
    come from :func:`clinfusion.review.survival.bin_end_days` (None when the clinical table lacks
    the training patients' outcomes); ``metrics`` is the run's ``metrics.json``.
    """

    table: pd.DataFrame
    model: ServedModel
    fold_table: pd.DataFrame | None = None
    contributions_table: pd.DataFrame | None = None
    embeddings: pd.DataFrame | None = None
    artifact_dir: Path = Path()
    bin_days: np.ndarray | None = None
    fold_bin_days: dict[int, np.ndarray] | None = None
    metrics: dict[str, Any] | None = None
    final_risks: np.ndarray | None = None

    @property
    def run_id(self) -> str:
        return self.model.run_id

    @property
    def model_version(self) -> str:
        """The served version's label (recorded with a review)."""
        return self.model.label

    def risk_group(self) -> pd.Series:
        """``low`` / ``intermediate`` / ``high``: tertile of each patient's risk percentile."""
        return self.table["risk_group"]

    def percentile(self, pid: str) -> float:
        """The patient's risk percentile (0-100) among the training cohort's risks under the same model."""
        return float(self.table.loc[pid, "percentile"])

    def source(self, pid: str) -> str:
        """``out-of-fold (fold k model, which did not see this patient)``, ``final model (...)`` and so on."""
        src = self.table.loc[pid, "source"]
        if src == serving.OUT_OF_FOLD:
            return f"out-of-fold (fold {int(self.table.loc[pid, 'fold'])} model, which did not see this patient)"
        if src == serving.FINAL:
            return "final model (patient not in its training set: ingested after training)"
        return "final model (in-sample: this run logged no out-of-fold predictions)"

    def survival_curve(self, pid: str) -> pd.Series:
        """Survival probability at the end of each discrete time bin (``surv_<k>`` columns)."""
        return self.table.loc[pid, _surv_cols(self.table)].astype(float)

    def survival_band(self, pid: str) -> pd.DataFrame:
        """The shown survival curve with the envelope of the CV fold models' curves and the curve
        itself (columns ``survival``, ``lower``, ``upper``; one row per time bin): the spread due to
        the training data, not a calibrated interval. Without fold curves it collapses onto the curve."""
        curve = self.survival_curve(pid).to_numpy()
        out = pd.DataFrame({"survival": curve, "lower": curve, "upper": curve})
        if self.fold_table is not None:
            folds = self.fold_table[self.fold_table["patient_id"] == pid]
            if len(folds):
                vals = np.vstack([folds[_surv_cols(folds)].to_numpy(float), curve])
                out["lower"], out["upper"] = vals.min(0), vals.max(0)
        return out

    def risk(self, pid: str) -> float:
        """The shown risk (log-hazard scale of the model that made the prediction)."""
        return float(self.table.loc[pid, "risk"])

    def reference_risks(self, pid: str) -> np.ndarray:
        """The training cohort's risks the patient's percentile is ranked among: those of the fold
        model that held the patient out, else the final model's (:mod:`clinfusion.review.serving`)."""
        trained = self.table.index[self.table["source"] != serving.FINAL]
        if self.table.loc[pid, "source"] == serving.OUT_OF_FOLD and self.fold_table is not None:
            f = self.fold_table
            return f.loc[(f["fold"] == int(self.table.loc[pid, "fold"])) & f["patient_id"].isin(trained), "risk"].to_numpy(float)
        if self.final_risks is not None:
            return np.asarray(self.final_risks, float)
        return self.table.loc[trained, "risk"].to_numpy(float)

    def shown_bin_days(self, pid: str) -> np.ndarray | None:
        """Days of the shown prediction's ``surv_<k>`` (its fold model's bin ends for out-of-fold)."""
        if self.table.loc[pid, "source"] == serving.OUT_OF_FOLD and self.fold_bin_days:
            return self.fold_bin_days.get(int(self.table.loc[pid, "fold"]))
        return self.bin_days

    def patient_survival(self, pid: str):
        """The patient's :class:`~clinfusion.review.survival.PatientSurvival` in days, with the envelope of
        every fold model's curve; None when the bin ends in days are unknown."""
        from clinfusion.review.survival import patient_survival

        days = self.shown_bin_days(pid)
        if days is None:
            return None
        folds: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if self.fold_table is not None and self.fold_bin_days:
            rows = self.fold_table[self.fold_table["patient_id"] == pid]
            for _, r in rows.iterrows():
                f = int(r["fold"])
                if f in self.fold_bin_days:
                    folds[f] = (self.fold_bin_days[f], r[_surv_cols(self.fold_table)].to_numpy(float))
        return patient_survival(days, self.survival_curve(pid).to_numpy(float), folds)

    def diagnosis(self, pid: str) -> pd.Series:
        """Diagnosis probabilities (``p_<class>`` columns), highest first; empty without a diagnosis head."""
        cols = [c for c in self.table.columns if c.startswith("p_")]
        return self.table.loc[pid, cols].astype(float).rename(lambda c: c[2:]).sort_values(ascending=False)

    def classes(self) -> list[str]:
        """The diagnosis head's class names (empty without one)."""
        return [c[2:] for c in self.table.columns if c.startswith("p_")]

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
        :func:`clinfusion.graph.cohort_similarity_graph`) with their risk percentile.

        Args:
            features: used when the run logged no fused embedding of ``pid`` (older runs, patients
                ingested after training): a ``patient_id`` column plus numeric columns (e.g.
                :func:`clinfusion.review.similarity.workspace_token_features`).
        """
        from clinfusion.graph import cohort_similarity_graph

        source = self.embeddings if self.embeddings is not None and pid in set(self.embeddings["patient_id"]) else features
        if source is None or pid not in set(source["patient_id"]):
            return pd.DataFrame(columns=["patient_id", "similarity", "risk percentile"])
        emb = source.drop(columns="patient_id").to_numpy(float)
        graph = cohort_similarity_graph(emb, source["patient_id"].tolist(), k=k)
        rows = [(p, round(w, 3), self.percentile(p) if p in self.table.index else np.nan) for p, w in graph.neighbours(pid)]
        return pd.DataFrame(rows, columns=["patient_id", "similarity", "risk percentile"])

    def has_embedding(self, pid: str) -> bool:
        return self.embeddings is not None and pid in set(self.embeddings["patient_id"])


def _optional(directory: Path, name: str) -> pd.DataFrame | None:
    path = directory / name
    return pd.read_csv(path) if path.exists() else None


def _read_json(path: Path) -> dict[str, Any]:
    """A run artifact's JSON object, ``{}`` when the run did not log it."""
    return json.loads(path.read_text()) if path.exists() else {}


def _cv_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The registered model's cross-validated C-index fields of a run's ``metrics.json`` (``{}``: none)."""
    if not summary:
        return {}
    fusion = summary.get("models", {}).get(summary.get("default_model", "fusion"), {})  # the registered model
    ci = fusion.get("cindex_pooled_ci95")
    return {"cindex": float(fusion.get("cindex_pooled", fusion.get("cindex_mean", float("nan")))),
            "cindex_ci95": (float(ci[0]), float(ci[1])) if ci and all(np.isfinite(ci)) else None,
            "cindex_sd": float(fusion.get("cindex_sd", float("nan"))), "folds": int(summary.get("folds", 0))}


def resolve(ws_root: str | Path, alias: str = DEFAULT_ALIAS, name: str | None = None,
            uri: str | None = None) -> tuple[dict[str, Any] | None, str]:
    """The registered version holding ``alias`` (see :func:`clinfusion.tracking.registry.resolve_alias`)
    and ``""``, or ``(None, why and how to get one)``. Cheap: the app calls it on every rerun."""
    from clinfusion.review.experiments import list_versions
    from clinfusion.tracking.registry import default_model_name, resolve_alias

    name = name or default_model_name(ws_root)
    served = resolve_alias(ws_root, name, alias, uri)
    if served is not None:
        return served, ""
    versions = list_versions(ws_root, uri)
    versions = versions[versions["name"] == name] if len(versions) else versions
    if not len(versions):
        return None, (f"no model is registered as {name!r} in this workspace, so there are no predictions to show: "
                      "run `clinfusion train --workspace WS` (its first version becomes the champion)")
    listed = ", ".join(f"v{v.version}" + (f" ({v.aliases})" if v.aliases else "") for v in versions.itertuples())
    return None, (f"no version of {name!r} holds the alias {alias!r} ({listed}); the app shows no unpromoted model. "
                  f"Promote one: `clinfusion registry promote --workspace WS --version N --reason \"...\"`"
                  + ("" if alias == DEFAULT_ALIAS else f", or choose another alias than {alias!r}"))


def load_served(ws_root: str | Path, served: dict[str, Any], uri: str | None = None) -> tuple[Predictions | None, str]:
    """The predictions of a resolved version (:func:`resolve`), or ``(None, why)`` when its run
    logged no ``predictions.csv`` with a ``patient_id`` column."""
    from clinfusion.review.unseen import predict_unseen
    from clinfusion.tracking.registry import artifact_dir

    directory = artifact_dir(served["artifact_uri"])
    final = _optional(directory, "predictions.csv")
    label = f"{served['name']} v{served['version']} (alias: {served['alias']})"
    if final is None or not {"patient_id", "risk"} <= set(final.columns):
        return None, (f"{label}: its MLflow run {served['run_id'][:8]} has no predictions.csv with a patient_id column "
                      "(trained before it was added): train again and promote the new version")
    final = final.set_index("patient_id")
    folds = _optional(directory, "fold_predictions.csv")
    config = _read_json(directory / "config.json")
    metrics = _read_json(directory / "metrics.json")  # read once: encoders used and CV C-index
    used = metrics.get("encoders", {})
    recorded = {m: c["encoder"] for m, c in used.items() if isinstance(c, dict) and c.get("encoder")}
    new = predict_unseen(ws_root, served, set(final.index), config, uri, recorded or None)
    model = ServedModel(served["name"], served["version"], served["alias"], served["run_id"], served["trained_at"],
                        served["fingerprint"], **_cv_metrics(metrics))
    bin_days, fold_days = _bin_days(ws_root, final, folds, config)
    return Predictions(serving.served_table(final, folds, new), model, folds, _optional(directory, "contributions.csv"),
                       _optional(directory, "embeddings.csv"), directory, bin_days, fold_days, metrics,
                       final["risk"].to_numpy(float)), ""


def _bin_days(ws_root: str | Path, final: pd.DataFrame, folds: pd.DataFrame | None,
              config: dict[str, Any]) -> tuple[np.ndarray | None, dict[int, np.ndarray] | None]:
    """Days of ``surv_<k>`` for the final model and each fold model (:func:`clinfusion.review.survival.bin_end_days`
    on the patients each was trained on); ``(None, None)`` when they cannot be recovered."""
    from clinfusion.review.survival import bin_end_days
    from clinfusion.review.workspace_data import clinical_table
    from clinfusion.workspace import Workspace

    k = len(_surv_cols(final))
    n_bins = int((config.get("model") or {}).get("n_bins", k))
    if not k or n_bins != k:
        return None, None
    try:
        clinical = clinical_table(Workspace.open(ws_root))
        if not {"patient_id", "survival_time", "event"} <= set(clinical.columns):
            return None, None
        days = bin_end_days(clinical, list(final.index), n_bins)
        per_fold = {}
        if folds is not None and len(folds):
            for f, g in folds.groupby("fold"):
                per_fold[int(f)] = bin_end_days(clinical, g.loc[~g["held_out"].astype(bool), "patient_id"].tolist(), n_bins)
    except ValueError:
        return None, None
    return days, per_fold


def load_predictions(ws_root: str | Path, alias: str = DEFAULT_ALIAS, name: str | None = None,
                     uri: str | None = None) -> tuple[Predictions | None, str]:
    """:func:`resolve` then :func:`load_served`: ``(Predictions, "")`` or ``(None, why)``."""
    served, why = resolve(ws_root, alias, name, uri)
    return load_served(ws_root, served, uri) if served is not None else (None, why)
