"""Figures of the prediction panel: the survival curve in days (or months, years) with its fold-model
interval and the 1/3/5-year marks, and the cohort's risk distribution with the patient marked.

Both return matplotlib figures (the app turns them into PNG); tests read the axes.
"""

from __future__ import annotations

import numpy as np

from clinfusion.review.survival import DAYS_PER_YEAR, HORIZON_YEARS, TIME_UNITS, PatientSurvival


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def survival_figure(ps: PatientSurvival, unit: str = "days", title: str = ""):
    """The shown survival curve, the envelope of the fold models' curves, dotted 1/3/5-year marks and
    the median when reached; x in ``unit`` (``days``, ``months``, ``years``: :data:`TIME_UNITS`)."""
    if unit not in TIME_UNITS:
        raise ValueError(f"time unit {unit!r}: expected one of {list(TIME_UNITS)}")
    plt = _pyplot()
    per = TIME_UNITS[unit]
    fig, ax = plt.subplots(figsize=(5.6, 3.2))
    x = ps.days / per
    if ps.n_models > 1:
        ax.fill_between(x, ps.lower, ps.upper, alpha=0.25, label=f"range of {ps.n_models - 1} CV fold models")
    ax.plot(x, ps.survival, label="shown prediction")
    ax.plot(ps.bin_days / per, ps.bin_surv, "o", ms=3, color="C0")
    for y in HORIZON_YEARS:
        if y * DAYS_PER_YEAR <= ps.days[-1]:
            ax.axvline(y * DAYS_PER_YEAR / per, color="grey", lw=0.6, ls=":")
    med = ps.median_days()
    if np.isfinite(med):
        ax.axhline(0.5, color="grey", lw=0.6, ls="--")
        ax.plot([med / per], [0.5], "kx")
    ax.set(xlabel=unit, ylabel="survival probability", ylim=(0, 1.02), xlim=(0, ps.days[-1] / per), title=title)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def risk_distribution_figure(reference: np.ndarray, risk: float, thresholds: tuple[float, float], title: str = ""):
    """Histogram of the training cohort's risks (the ones the patient is ranked among), the patient's
    risk as a red line and the low/intermediate and intermediate/high thresholds as dashed lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 2.4))
    ref = np.asarray(reference, float)
    ax.hist(ref, bins=min(30, max(5, len(ref) // 4)), color="#9ca3af")
    for t, name in zip(thresholds, ("low | intermediate", "intermediate | high"), strict=True):
        if np.isfinite(t):
            ax.axvline(t, color="black", ls="--", lw=0.8)
            ax.text(t, ax.get_ylim()[1] * 0.92, f" {name}", fontsize=7, rotation=90, va="top")
    ax.axvline(risk, color="#dc2626", lw=2, label="this patient")
    ax.set(xlabel="predicted risk (log hazard)", ylabel="patients", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
