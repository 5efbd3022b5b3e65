"""Drift of new patients against the champion's training cohort, per modality.

Three kinds of shift, each with a threshold that marks a warning (``DriftConfig``):

* availability: share of patients that have the modality;
* feature distributions: population stability index (PSI, quantile bins of the reference) and
  the two-sample Kolmogorov-Smirnov test (a warning needs both: a large shift that is also
  significant, since PSI alone is noisy on a few dozen new patients), on interpretable features: the numeric fields a reader
  stores in the catalog (ECG ``hr_bpm``, ``qtc_ms``...) and per-patient token means (named by the
  encoder's ``feature_names`` when it has them);
* outcomes: event rate and the share of each diagnosis class.

Pure functions over frames; :func:`workspace_drift` reads them from a workspace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clinfusion.retrain.config import DriftConfig

if TYPE_CHECKING:
    from clinfusion.featurize.tokens import TokenSet


@dataclass
class DriftReport:
    """Per modality and outcome: one row per tested quantity.

    Attributes:
        rows: columns ``modality, kind (availability|feature|outcome), name, reference, new, psi,
            ks_p, warning`` (``reference``/``new`` are shares or means).
        n_reference, n_new: patients compared.
    """

    rows: pd.DataFrame
    n_reference: int
    n_new: int
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> pd.DataFrame:
        return self.rows[self.rows["warning"]] if len(self.rows) else self.rows

    def markdown(self) -> str:
        """The report as Markdown (logged to MLflow as ``drift.md``)."""
        lines = [f"# Drift report: {self.n_new} new patients vs {self.n_reference} training patients", ""]
        lines += [f"- {n}" for n in self.notes]
        lines += [f"**{len(self.warnings)} warning(s)**", ""]
        if len(self.rows):
            cols = ["modality", "kind", "name", "reference", "new", "psi", "ks_p", "warning"]
            lines.append("| " + " | ".join(cols) + " |")
            lines.append("|" + "---|" * len(cols))
            for r in self.rows[cols].itertuples(index=False):
                cells = ["WARN" if v is True else "" if v is False else (f"{v:.3g}" if isinstance(v, float) else str(v))
                         for v in r]
                lines.append("| " + " | ".join(c if c != "nan" else "" for c in cells) + " |")
        return "\n".join(lines) + "\n"


def psi(reference: np.ndarray, new: np.ndarray, bins: int = 10) -> float:
    """Population stability index ``sum((q - p) * ln(q / p))`` over quantile bins of the reference.

    Small samples make PSI explode (an empty bin has share 0), so the bin count shrinks to about
    one bin per 5 patients of the smaller group and shares are smoothed by half a patient per bin
    ((count + 0.5) / (n + 0.5 * bins)).
    """
    ref, cur = np.asarray(reference, float), np.asarray(new, float)
    k = int(min(bins, max(2, min(len(ref), len(cur)) // 5)))
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, k + 1)))
    if len(edges) < 2:  # constant reference: one bin for that value and one for the rest
        pc = np.array([np.sum(ref == ref[0]), np.sum(ref != ref[0])])
        qc = np.array([np.sum(cur == ref[0]), np.sum(cur != ref[0])])
    else:
        edges[0], edges[-1] = -np.inf, np.inf
        pc, qc = np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]
    p = (pc + 0.5) / (len(ref) + 0.5 * len(pc))
    q = (qc + 0.5) / (len(cur) + 0.5 * len(qc))
    return float(np.sum((q - p) * np.log(q / p)))


def _feature_rows(modality: str, ref: pd.DataFrame, new: pd.DataFrame, cfg: DriftConfig) -> list[dict]:
    from scipy.stats import ks_2samp

    rows = []
    for col in ref.columns:
        a, b = ref[col].dropna().to_numpy(float), new[col].dropna().to_numpy(float) if col in new else np.array([])
        if len(a) < cfg.min_patients or len(b) < cfg.min_patients:
            continue
        p, ks = psi(a, b, cfg.bins), float(ks_2samp(a, b).pvalue)
        rows.append({"modality": modality, "kind": "feature", "name": col, "reference": float(a.mean()), "new": float(b.mean()),
                     "psi": p, "ks_p": ks, "warning": bool(p > cfg.psi_warn and ks < cfg.ks_p_warn)})
    return rows


def drift_report(reference: Sequence[str], new: Sequence[str], availability: Mapping[str, set[str]],
                 features: Mapping[str, pd.DataFrame], outcomes: pd.DataFrame, cfg: DriftConfig) -> DriftReport:
    """Compare new patients with the reference (training) patients.

    Args:
        reference, new: pseudonyms of the two groups.
        availability: ``{modality: patients that have it}``.
        features: ``{modality: frame indexed by patient, one numeric column per feature}``.
        outcomes: clinical table (``patient_id``, ``event``, optional ``diagnosis``).
        cfg: thresholds.
    """
    ref, cur = list(reference), list(new)
    rows: list[dict] = []
    for m, have in sorted(availability.items()):
        a = float(np.mean([p in have for p in ref])) if ref else np.nan
        b = float(np.mean([p in have for p in cur])) if cur else np.nan
        rows.append({"modality": m, "kind": "availability", "name": "share of patients", "reference": float(a), "new": float(b),
                     "psi": np.nan, "ks_p": np.nan, "warning": bool(abs(b - a) > cfg.availability_warn)})
    for m, frame in sorted(features.items()):
        rows += _feature_rows(m, frame.reindex([p for p in ref if p in frame.index]),
                              frame.reindex([p for p in cur if p in frame.index]), cfg)
    out = outcomes.set_index("patient_id")
    r_out, n_out = out.reindex([p for p in ref if p in out.index]), out.reindex([p for p in cur if p in out.index])
    if "event" in out and len(r_out) and len(n_out):
        a, b = float(r_out["event"].mean()), float(n_out["event"].mean())
        rows.append({"modality": "outcome", "kind": "outcome", "name": "event rate", "reference": a, "new": b,
                     "psi": np.nan, "ks_p": np.nan, "warning": bool(abs(b - a) > cfg.outcome_rate_warn)})
    if "diagnosis" in out and len(r_out) and len(n_out):
        for cls in sorted(out["diagnosis"].dropna().astype(str).unique()):
            a, b = float((r_out["diagnosis"] == cls).mean()), float((n_out["diagnosis"] == cls).mean())
            rows.append({"modality": "outcome", "kind": "outcome", "name": f"diagnosis={cls}", "reference": a, "new": b,
                         "psi": np.nan, "ks_p": np.nan, "warning": bool(abs(b - a) > cfg.outcome_rate_warn)})
    frame = pd.DataFrame(rows, columns=["modality", "kind", "name", "reference", "new", "psi", "ks_p", "warning"])
    notes = [] if len(cur) >= cfg.min_patients else [f"only {len(cur)} new patients: feature tests skipped below "
                                                      f"{cfg.min_patients}"]
    return DriftReport(frame, len(ref), len(cur), notes)


def catalog_features(catalog: pd.DataFrame) -> tuple[dict[str, set[str]], dict[str, pd.DataFrame]]:
    """Availability and numeric reader metadata (per-patient mean over items) from a catalog.

    Returns:
        ``({modality: patients}, {modality: features frame})``; the clinical table is not a modality here.
    """
    from clinfusion.workspace.catalog import row_patients

    rows = catalog[(catalog["status"] == "ingested") & (catalog["modality"] != "clinical")]
    have: dict[str, set[str]] = {}
    values: dict[str, list[dict]] = {}
    for r in rows.to_dict(orient="records"):
        pids = row_patients(r)
        have.setdefault(r["modality"], set()).update(pids)
        meta = json.loads(r["meta_json"] or "{}")
        nums = {k: float(v) for k, v in meta.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        if r["patient_id"] and nums:  # cohort-level items describe many patients: no per-patient metadata
            values.setdefault(r["modality"], []).append({"patient_id": r["patient_id"], **nums})
    feats = {m: pd.DataFrame(v).groupby("patient_id").mean() for m, v in values.items()}
    return have, feats


def token_features(tokens: Mapping[str, TokenSet], modality: str, limit: int) -> pd.DataFrame:
    """Per-patient mean over tokens of each token feature (the first ``limit`` dimensions)."""
    rows = {}
    names: list[str] | None = None
    for pid, ts in tokens.items():
        t = np.asarray(ts.tokens, float)
        if t.size == 0:
            continue
        rows[pid] = t.mean(0)[:limit]
        names = names or list(getattr(ts, "feature_names", None) or [])
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame.from_dict(rows, orient="index")
    labels = names[:frame.shape[1]] if names and len(names) >= frame.shape[1] else [f"dim{j}" for j in range(frame.shape[1])]
    frame.columns = [f"token_mean:{n}" for n in labels]
    return frame


def workspace_drift(ws, reference: Sequence[str], cfg: DriftConfig) -> DriftReport:
    """Drift of the workspace's patients outside ``reference`` (the champion's training patients)."""
    from clinfusion.featurize.cache import load_tokens
    from clinfusion.training.dataset import available_modalities, clinical_table
    from clinfusion.workspace.catalog import read_catalog

    clinical = clinical_table(ws)
    ref = set(reference)
    new = [p for p in clinical["patient_id"].astype(str) if p not in ref]
    have, feats = catalog_features(read_catalog(ws))
    for m, enc in available_modalities(ws).items():
        tok = token_features(load_tokens(ws, m, enc), m, cfg.max_token_features) if cfg.max_token_features else pd.DataFrame()
        if len(tok):
            feats[m] = pd.concat([feats[m], tok], axis=1) if m in feats else tok
    return drift_report(sorted(ref), new, have, feats, clinical, cfg)
