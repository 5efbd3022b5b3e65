"""Kaplan-Meier plot of predicted risk groups (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def km_plot(time: np.ndarray, event: np.ndarray, high: np.ndarray, path: str | Path, title: str = "", p: float | None = None) -> Path:
    """Write a KM plot of high vs low predicted risk to ``path`` (PNG) and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from lifelines import KaplanMeierFitter

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, sel in (("low risk", ~high), ("high risk", high)):
        if sel.any():
            KaplanMeierFitter().fit(np.asarray(time)[sel], np.asarray(event)[sel], label=f"{name} (n={int(sel.sum())})").plot_survival_function(ax=ax)
    ax.set_xlabel("days")
    ax.set_ylabel("survival")
    ax.set_title(title + (f"  log-rank p={p:.3g}" if p is not None and np.isfinite(p) else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return Path(path)
