"""The promotion gate: is the challenger proven better than the champion on the same patients?

Pure functions over per-patient risks; no files, no MLflow (``cycle.py`` gathers the inputs and
``clinfusion.tracking.registry`` records the outcome).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.evaluation.survival import harrell_c
from clinfusion.retrain.config import GateConfig, SubgroupSpec


@dataclass(frozen=True, kw_only=True)
class Scores:
    """Both models' risks on the evaluation patients (higher risk = earlier event).

    Shapes:
        every array ``[N]``, aligned on ``patient_ids``.
    """

    patient_ids: list[str]
    time: np.ndarray
    event: np.ndarray
    champion: np.ndarray
    challenger: np.ndarray


@dataclass
class GateDecision:
    """The gate's verdict and every number behind it.

    Attributes:
        promote: True when every rule passed.
        reasons: one line per failed rule (empty when promoted).
        checks: ``{rule: {"passed": bool, ...numbers}}``.
        subgroups: one row per subgroup (``n``, ``cindex_champion``, ``cindex_challenger``, ``delta``, ``gated``).
    """

    promote: bool
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    subgroups: list[dict[str, Any]] = field(default_factory=list)
    n_patients: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        c = self.checks.get("cindex", {})
        head = "PROMOTE challenger" if self.promote else "KEEP champion"
        nums = (f"C {c.get('champion', float('nan')):.3f} -> {c.get('challenger', float('nan')):.3f} "
                f"(diff {c.get('diff', float('nan')):+.3f}, CI [{c.get('ci_low', float('nan')):+.3f}, "
                f"{c.get('ci_high', float('nan')):+.3f}]) on {self.n_patients} patients") if c else ""
        return "; ".join([head, nums, *self.reasons]).strip("; ")


def paired_bootstrap_cdiff(s: Scores, n_boot: int, level: float, seed: int) -> tuple[float, float, float]:
    """Paired bootstrap of ``C(challenger) - C(champion)``: both models are scored on the same
    resample of patients, so their shared patient-level noise cancels in the difference.

    Returns:
        (point difference, lower, upper) of the percentile ``level`` interval; resamples without a
        comparable pair are skipped.
    """
    rng = np.random.default_rng(seed)
    n = len(s.time)
    point = harrell_c(s.time, s.event, s.challenger) - harrell_c(s.time, s.event, s.champion)
    diffs = []
    for _ in range(n_boot):
        ix = rng.integers(0, n, n)
        d = harrell_c(s.time[ix], s.event[ix], s.challenger[ix]) - harrell_c(s.time[ix], s.event[ix], s.champion[ix])
        if np.isfinite(d):
            diffs.append(d)
    if not diffs:
        return point, float("nan"), float("nan")
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    return float(point), float(lo), float(hi)


def integrated_brier(s: Scores, risk: np.ndarray) -> float:
    """IBS of survival curves from a one-covariate Cox of ``risk`` fitted on the evaluation patients.

    Both models get the same recalibration, so the comparison is of how well their risks order
    *and* separate patients, not of the absolute scale of each model's score.
    """
    from clinfusion.evaluation.survival import eval_times, ibs, risk_to_survival

    times = eval_times(s.time, s.event, s.time)
    if len(times) < 2:
        return float("nan")
    surv = risk_to_survival(risk, s.time, s.event, risk, times)
    return ibs(s.time, s.event, s.time, s.event, surv, times)


def subgroup_labels(clinical: pd.DataFrame, spec: SubgroupSpec, patient_ids: list[str]) -> pd.Series:
    """Subgroup label per evaluation patient (``"sex=F"``, ``"age=[60,70)"``; NaN when unknown).

    Args:
        clinical: the workspace clinical table (``patient_id`` pseudonyms).
    """
    col = clinical.set_index("patient_id")[spec.column].reindex(patient_ids) if spec.column in clinical else None
    if col is None:
        return pd.Series([np.nan] * len(patient_ids), index=patient_ids, dtype=object)
    if spec.bins is None:
        return col.map(lambda v: f"{spec.column}={v}" if pd.notna(v) else np.nan)
    edges = list(spec.bins)
    cut = pd.cut(pd.to_numeric(col, errors="coerce"), edges, right=False)
    return cut.map(lambda iv: f"{spec.column}=[{iv.left:g},{iv.right:g})" if pd.notna(iv) else np.nan).astype(object)


def _subgroups(s: Scores, groups: Mapping[str, pd.Series], cfg: GateConfig) -> list[dict[str, Any]]:
    rows = []
    for labels in groups.values():
        lab = labels.reindex(s.patient_ids).to_numpy()
        for g in sorted({x for x in lab if isinstance(x, str)}):
            m = lab == g
            c0, c1 = harrell_c(s.time[m], s.event[m], s.champion[m]), harrell_c(s.time[m], s.event[m], s.challenger[m])
            gated = bool(m.sum() >= cfg.min_subgroup_patients and np.isfinite(c0) and np.isfinite(c1))
            rows.append({"subgroup": g, "n": int(m.sum()), "events": int(s.event[m].sum()), "cindex_champion": c0,
                         "cindex_challenger": c1, "delta": c1 - c0, "gated": gated,
                         "passed": (not gated) or (c1 - c0 >= -cfg.subgroup_tolerance)})
    return rows


def decide(s: Scores, cfg: GateConfig, groups: Mapping[str, pd.Series] | None = None) -> GateDecision:
    """Apply the gate rules (docs/retrain.md):

    1. at least ``min_common_patients`` evaluation patients;
    2. ``C(challenger) - C(champion) >= cindex_margin`` and the lower paired-bootstrap bound > 0;
    3. ``IBS(challenger) - IBS(champion) <= ibs_tolerance``;
    4. no gated subgroup loses more than ``subgroup_tolerance`` of Harrell C.

    Args:
        s: both models' risks on the same patients.
        cfg: thresholds.
        groups: ``{column: label per patient}`` (:func:`subgroup_labels`).

    Returns:
        The decision; ``promote`` only when every rule passed.
    """
    n = len(s.patient_ids)
    if n < cfg.min_common_patients:
        return GateDecision(False, [f"only {n} patients scored by both models (< min_common_patients "
                                    f"{cfg.min_common_patients})"], n_patients=n)
    reasons: list[str] = []
    c0, c1 = harrell_c(s.time, s.event, s.champion), harrell_c(s.time, s.event, s.challenger)
    diff, lo, hi = paired_bootstrap_cdiff(s, cfg.n_bootstrap, cfg.ci_level, cfg.seed)
    c_ok = bool(diff >= cfg.cindex_margin and lo > 0)
    if diff < cfg.cindex_margin:
        reasons.append(f"C-index gain {diff:+.3f} below the margin {cfg.cindex_margin:.3f}")
    if not lo > 0:
        reasons.append(f"{cfg.ci_level:.0%} CI of the C-index difference [{lo:+.3f}, {hi:+.3f}] is not above zero")
    b0, b1 = integrated_brier(s, s.champion), integrated_brier(s, s.challenger)
    b_ok = bool(np.isfinite(b0) and np.isfinite(b1) and b1 - b0 <= cfg.ibs_tolerance)
    if not b_ok:
        reasons.append(f"integrated Brier score {b0:.4f} -> {b1:.4f} worse than the tolerance {cfg.ibs_tolerance:.4f}"
                       if np.isfinite(b0 + b1) else "integrated Brier score could not be computed")
    sub = _subgroups(s, groups or {}, cfg)
    for r in sub:
        if not r["passed"]:
            reasons.append(f"subgroup {r['subgroup']} (n={r['n']}) loses {-r['delta']:.3f} C-index "
                           f"(> tolerance {cfg.subgroup_tolerance:.3f})")
    checks = {
        "cindex": {"passed": c_ok, "champion": c0, "challenger": c1, "diff": diff, "ci_low": lo, "ci_high": hi,
                   "margin": cfg.cindex_margin},
        "ibs": {"passed": b_ok, "champion": b0, "challenger": b1, "diff": b1 - b0, "tolerance": cfg.ibs_tolerance},
        "subgroups": {"passed": all(r["passed"] for r in sub), "tolerance": cfg.subgroup_tolerance,
                      "gated": sum(r["gated"] for r in sub)},
    }
    return GateDecision(not reasons, reasons, checks, sub, n)


def disagreements(reviews: pd.DataFrame, model_name: str, version: str) -> dict[str, Any]:
    """How often clinicians disagreed with a model version's risk groups (reported, never gated).

    Args:
        reviews: the latest accept/override per (patient, version) of the ``risk_group`` target
            (:func:`clinfusion.retrain.overrides.risk_group_reviews`).
        model_name, version: the champion; reviews of other versions (or, when recorded, other
            models) are left out.

    Returns:
        ``{"version", "reviewed", "overridden", "rate", "groups": [{"predicted", "reviewed",
        "overridden", "rate", "corrected_to": {group: n}}]}``; rates are NaN without reviews.
    """
    mine = reviews[(reviews["model_version"].astype(str) == str(version))
                   & reviews["model_name"].fillna("").isin(["", model_name])]
    groups = []
    for g, part in mine.groupby("predicted", sort=True):
        over = part[part["decision"] == "override"]
        groups.append({"predicted": str(g), "reviewed": len(part), "overridden": len(over),
                       "rate": len(over) / len(part), "corrected_to": {str(k): int(v) for k, v in
                                                                       over["corrected"].value_counts().items()}})
    n, k = len(mine), int((mine["decision"] == "override").sum())
    return {"version": str(version), "reviewed": n, "overridden": k, "rate": k / n if n else float("nan"),
            "groups": groups}
