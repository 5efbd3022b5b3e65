"""Calibration plot: predicted vs Kaplan-Meier observed survival per risk decile (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def calibration_plot(calibration: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Write the calibration plot of one model to ``path`` (PNG) and return the path.

    Args:
        calibration: ``models.<name>.calibration`` of the results
            (:func:`clinfusion.evaluation.calibration.model_calibration`): one line per horizon
            (1, 3, 5 years), one point per decile of predicted survival; the diagonal is perfect.
        title: figure title (the model name); slope and D-calibration p are appended.
    """
    from clinfusion.evaluation.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect")
    for key, h in calibration.get("horizons", {}).items():
        pts = [(g["predicted"], g["observed"]) for g in h["groups"] if g["observed"] == g["observed"]]  # drop NaN
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o", ms=3, label=f"{key} ({h['horizon_days']:.0f} days)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted survival (decile mean, out of fold)")
    ax.set_ylabel("observed survival (Kaplan-Meier)")
    slope, p = calibration.get("slope", float("nan")), calibration.get("d_calibration", {}).get("p", float("nan"))
    ax.set_title(f"{title}  slope {slope:.2f}, D-cal p {p:.2g}".strip(), fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return Path(path)


def calibration_plots(models: dict[str, dict[str, Any]], names: list[str], folder: str | Path) -> list[Path]:
    """``calibration_<name>.png`` in ``folder`` for each of ``names`` that has a calibration."""
    return [calibration_plot(models[m]["calibration"], Path(folder) / f"calibration_{m}.png", m)
            for m in names if m in models and "calibration" in models[m]]
