"""Kaplan-Meier plots of survival groups (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def km_figure(time_days: np.ndarray, event: np.ndarray, groups: np.ndarray, title: str = "", *,
              p: float | None = None, order: tuple[str, ...] | None = None) -> tuple[Any, float]:
    """Kaplan-Meier curves per group with the multivariate log-rank p-value (lifelines).

    The one KM figure of the package: the training report (:func:`km_plot`) and the review app's
    cohort page (``clinfusion.review.plots.km_figure``) both draw with it.

    Args:
        time_days: follow-up in days ``[N]``; event: 1 = event, 0 = censored ``[N]``;
            groups: a label per patient ``[N]``.
        title: figure title; the p-value is appended when finite.
        p: a p-value computed by the caller (drawn as given); None computes the log-rank test here.
        order: the labels in drawing order (labels absent from ``groups`` are skipped); default sorted.

    Returns:
        ``(figure, p_value)``; p is NaN with fewer than two groups.
    """
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    plt = _pyplot()
    t, e, g = np.asarray(time_days, float), np.asarray(event, int), np.asarray(groups).astype(str)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    labels = [lab for lab in (order or sorted(set(g))) if (g == lab).any()]
    for label in labels:
        sel = g == label
        KaplanMeierFitter().fit(t[sel], e[sel], label=f"{label} (n={int(sel.sum())})").plot_survival_function(
            ax=ax, ci_show=bool(sel.sum() > 2))
    if p is None:
        p = float(multivariate_logrank_test(t, g, e).p_value) if len(set(g)) > 1 else float("nan")
    ax.set_xlabel("days")
    ax.set_ylabel("survival probability")
    ax.set_title(f"{title}  (log-rank p = {p:.3g})" if np.isfinite(p) else title, fontsize=10)
    fig.tight_layout()
    return fig, float(p)


def km_plot(time: np.ndarray, event: np.ndarray, high: np.ndarray, path: str | Path, title: str = "", p: float | None = None) -> Path:
    """Write a KM plot of high vs low predicted risk to ``path`` (PNG) and return the path.

    Args:
        high: ``[N]`` bool, True for the high-risk group.
        p: the log-rank p-value to show (None: computed by :func:`km_figure`).
    """
    groups = np.where(np.asarray(high, bool), "high risk", "low risk")
    fig, _ = km_figure(time, event, groups, title, p=p, order=("low risk", "high risk"))
    fig.savefig(path, dpi=80)
    _pyplot().close(fig)
    return Path(path)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
