"""A patient's predicted survival in days: curve with its fold-model interval, 1/3/5-year survival,
median survival, and the cohort's risk distribution with the risk-group thresholds.

A served model reports survival ``surv_<k>`` at the end of each of its ``K`` discrete time bins
(``predictions.csv``, ``fold_predictions.csv``). The bin ends are the training patients' event-time
quantiles with the open last bin closed at the longest follow-up
(:func:`clinfusion.training.servable.report_times`): the same function is applied here to the
survival times and events of the patients each model was trained on (the final model: every
training patient; fold ``f``: the rows of ``fold_predictions.csv`` with ``held_out`` False), so
``surv_<k>`` maps to a day exactly as at training time.

Between bin ends the survival is interpolated log-linearly (a constant hazard within a bin, which
is linear in the cumulative hazard of the stack's proportional-hazards form
``S(t|x) = exp(-H0(t) exp(risk))``); at a bin end the value is the model's own. Beyond the last bin
end (the longest training follow-up) nothing is extrapolated: the value is NaN.

The interval is the envelope of the curves of every cross-validation fold model applied to the
patient, together with the shown curve: the spread due to the training data (each fold model saw
a different 80%), not a calibrated confidence interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
HORIZON_YEARS = (1, 3, 5)
TIME_UNITS = {"days": 1.0, "months": DAYS_PER_MONTH, "years": DAYS_PER_YEAR}
"""Time unit -> days per unit (the curve is computed in days and only relabelled)."""


def bin_end_days(clinical: pd.DataFrame, patient_ids: Sequence[str], n_bins: int) -> np.ndarray:
    """Days of ``surv_0 .. surv_<K-1>`` of a model trained on ``patient_ids``: ``[K]``.

    Args:
        clinical: the workspace clinical table (``patient_id``, ``survival_time`` in days, ``event``).
        patient_ids: the model's training patients; n_bins: the training config's ``model.n_bins``.

    Raises:
        ValueError: no training patient has a survival time and event in ``clinical``.
    """
    from clinfusion.training.servable import report_times

    c = clinical.drop_duplicates("patient_id").set_index("patient_id")
    c = c.reindex([p for p in patient_ids if p in c.index])[["survival_time", "event"]].dropna()
    if c.empty:
        raise ValueError("clinical table: none of the model's training patients has survival_time and event")
    return np.asarray(report_times(c["survival_time"].to_numpy(float), c["event"].to_numpy(float), int(n_bins)), float)


def interpolate(days: np.ndarray, surv: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Survival at ``at`` days from the values ``surv [K]`` at bin ends ``days [K]`` (log-linear
    between ``(0, 1)`` and the bin ends; NaN past the last bin end)."""
    d = np.r_[0.0, np.asarray(days, float)]
    log_s = np.log(np.clip(np.r_[1.0, np.asarray(surv, float)], 1e-12, 1.0))
    at = np.asarray(at, float)
    out = np.exp(np.interp(at, d, log_s))
    out[(at > d[-1] + 1e-9) | (at < 0)] = np.nan
    return out


@dataclass(frozen=True)
class PatientSurvival:
    """One patient's survival under the served model.

    Attributes:
        days: ``[T]`` day grid (0 to the longest bin end); survival, lower, upper: ``[T]``.
        bin_days: ``[K]`` bin ends of the shown model; bin_surv: ``[K]`` its ``surv_<k>`` values.
        n_models: curves in the interval (fold models plus the shown one).
    """

    days: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    bin_days: np.ndarray
    bin_surv: np.ndarray
    n_models: int
    curves: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    def at(self, day: float) -> tuple[float, float, float]:
        """``(survival, lower, upper)`` at ``day`` (NaN beyond the follow-up of a curve)."""
        grid = np.array([float(day)])
        vals = [interpolate(d, s, grid)[0] for d, s in self.curves] or [np.nan]
        shown = float(interpolate(self.bin_days, self.bin_surv, grid)[0])
        finite = [v for v in vals if np.isfinite(v)] + ([shown] if np.isfinite(shown) else [])
        if not np.isfinite(shown):
            return float("nan"), float("nan"), float("nan")
        return shown, float(min(finite)), float(max(finite))

    def horizons(self, years: Sequence[int] = HORIZON_YEARS) -> pd.DataFrame:
        """Survival at each horizon: columns ``horizon``, ``days``, ``survival``, ``lower``, ``upper``."""
        rows = []
        for y in years:
            s, lo, hi = self.at(y * DAYS_PER_YEAR)
            rows.append({"horizon": f"{y}-year", "days": round(y * DAYS_PER_YEAR, 2), "survival": s, "lower": lo,
                         "upper": hi})
        return pd.DataFrame(rows)

    def median_days(self) -> float:
        """First day the shown curve reaches 0.5 (log-linear within the bin); NaN when not reached
        within the follow-up."""
        d = np.r_[0.0, self.bin_days]
        s = np.r_[1.0, self.bin_surv]
        below = np.nonzero(s <= 0.5)[0]
        if not len(below):
            return float("nan")
        k = int(below[0])
        a, b = np.log(max(s[k - 1], 1e-12)), np.log(max(s[k], 1e-12))
        if a == b:
            return float(d[k - 1])
        return float(d[k - 1] + (np.log(0.5) - a) / (b - a) * (d[k] - d[k - 1]))

    def frame(self, unit: str = "days") -> pd.DataFrame:
        """The curve and its interval on the day grid, time in ``unit`` (:data:`TIME_UNITS`)."""
        per = TIME_UNITS[unit]
        return pd.DataFrame({unit: self.days / per, "survival": self.survival, "lower": self.lower, "upper": self.upper})


def patient_survival(bin_days: np.ndarray, bin_surv: np.ndarray,
                     fold_curves: Mapping[int, tuple[np.ndarray, np.ndarray]] | None = None,
                     points: int = 200) -> PatientSurvival:
    """The shown curve (bin ends ``bin_days``, values ``bin_surv``) on a day grid with the envelope of
    ``fold_curves`` (``{fold: (bin end days, surv values)}``) and the shown curve."""
    curves = tuple((np.asarray(d, float), np.asarray(s, float)) for d, s in (fold_curves or {}).values())
    end = float(np.max(bin_days))
    days = np.unique(np.r_[np.linspace(0.0, end, points), bin_days])
    shown = interpolate(bin_days, bin_surv, days)
    stack = np.vstack([shown] + [interpolate(d, s, days) for d, s in curves])
    with np.errstate(all="ignore"):
        lower, upper = np.nanmin(stack, 0), np.nanmax(stack, 0)
    return PatientSurvival(days, shown, lower, upper, np.asarray(bin_days, float), np.asarray(bin_surv, float),
                           1 + len(curves), curves)


def risk_thresholds(reference: np.ndarray) -> tuple[float, float]:
    """The risks at which the risk group changes, on the scale of ``reference`` (the risks the
    patient's percentile is ranked among): the largest risk with percentile <= 100/3 (low) and
    <= 200/3 (intermediate), as :func:`clinfusion.review.serving.risk_group` assigns them."""
    r = np.sort(np.asarray(reference, float))
    pct = np.searchsorted(r, r, side="right") / max(len(r), 1) * 100  # percent of reference risks <= r
    lo = r[pct <= 100 / 3].max() if (pct <= 100 / 3).any() else -np.inf
    hi = r[pct <= 200 / 3].max() if (pct <= 200 / 3).any() else -np.inf
    return float(lo), float(hi)
