"""Figures of the review app: Kaplan-Meier curves, the 12-lead ECG, CT windows, report highlights.

Figures are returned as matplotlib ``Figure`` objects (or HTML / uint8 arrays), so pages stay
thin and tests can check them without a browser.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

# The Kaplan-Meier figure is the evaluation package's (one implementation); pages import it from here.
from clinfusion.evaluation.plots import km_figure as km_figure

# The standard 12-lead print layout: 3 rows x 4 columns of 2.5 s, then a 10 s lead II rhythm strip.
ECG_LAYOUT: tuple[tuple[str, ...], ...] = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
STANDARD_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
ASSERTION_COLOURS = {"present": "#f8b4b4", "uncertain": "#fde68a", "absent": "#bfdbfe"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _ecg_grid(ax, x_max: float, y_min: float, y_max: float) -> None:
    """ECG paper: 1 mm = 0.04 s horizontally, 0.1 mV vertically; bold lines every 5 mm.

    Drawn as two line collections (hundreds of tick-based grid lines are ~20x slower to render).
    """
    xs = np.arange(0, x_max + 1e-9, 0.04)
    ys = np.arange(np.floor(y_min * 10) / 10, y_max + 1e-9, 0.1)
    bold_x, bold_y = np.isclose((xs / 0.2) % 1, 0) | np.isclose((xs / 0.2) % 1, 1), np.isclose(np.round(ys * 10) % 5, 0)
    for sel_x, sel_y, colour, width in ((~bold_x, ~bold_y, "#fbe0e0", 0.3), (bold_x, bold_y, "#f4a6a6", 0.6)):
        ax.vlines(xs[sel_x], y_min, y_max, colors=colour, linewidth=width, zorder=0)
        ax.hlines(ys[sel_y], 0, x_max, colors=colour, linewidth=width, zorder=0)
    ax.set_xticks([])
    ax.set_yticks([])


def ecg_figure(signal: np.ndarray, fs_hz: float, present: np.ndarray | None = None, title: str = ""):
    """The standard 12-lead layout of one 10 s window.

    Shapes:
        signal: ``[12, S]`` mV in ``STANDARD_LEADS`` order at ``fs_hz``.

    Returns:
        A matplotlib figure: a 3 x 4 grid of 2.5 s lead segments (each lead shown over its own
        time slot, as printed ECGs do) and a lead II rhythm strip over the whole window.
    """
    plt = _pyplot()
    sig = np.asarray(signal, dtype=np.float32)
    n = sig.shape[1]
    dur = n / fs_hz
    slot = dur / 4
    lo, hi = min(-1.5, float(np.nanmin(sig))), max(1.5, float(np.nanmax(sig)))
    present = np.ones(12, bool) if present is None else np.asarray(present, bool)
    fig = plt.figure(figsize=(12, 7.2))
    gs = fig.add_gridspec(4, 1, hspace=0.05)
    for r, leads in enumerate((*ECG_LAYOUT, ("II",))):
        ax = fig.add_subplot(gs[r])
        for c, lead in enumerate(leads):
            li = STANDARD_LEADS.index(lead)
            a, b = (0, n) if len(leads) == 1 else (int(c * slot * fs_hz), int((c + 1) * slot * fs_hz))
            if present[li]:
                ax.plot(np.arange(a, b) / fs_hz, sig[li, a:b], color="black", linewidth=0.7)
            ax.text(a / fs_hz + 0.05, hi - 0.35, lead if present[li] else f"{lead} (absent)", fontsize=9)
        _ecg_grid(ax, dur, lo, hi)
        ax.set_xlim(0, dur)
        ax.set_ylim(lo, hi)
    fig.suptitle(title or "25 mm/s, 10 mm/mV", fontsize=10)
    return fig


def ecg_intervals(meta: dict[str, Any]) -> pd.DataFrame:
    """Measured intervals and rate of an ECG's catalog metadata as a one-column table."""
    keys = [("heart rate (bpm)", "hr_bpm"), ("PR (ms)", "pr_ms"), ("QRS (ms)", "qrs_ms"), ("QT (ms)", "qt_ms"),
            ("QTc Bazett (ms)", "qtc_ms"), ("QTc Fridericia (ms)", "qtc_fridericia_ms"), ("axis (deg)", "axis_deg"),
            ("RR (ms)", "rr_ms"), ("SDNN (ms)", "sdnn_ms"), ("RMSSD (ms)", "rmssd_ms")]
    vals = [meta.get(k) for _, k in keys]
    return pd.DataFrame({"value": [round(float(v), 1) if isinstance(v, int | float) else None for v in vals]},
                        index=[name for name, _ in keys])


def ct_slice(volume: np.ndarray, k: int, preset: str) -> np.ndarray:
    """Slice ``k`` of ``[k, rows, cols]`` mapped to uint8 with a window preset (``lung``, ``mediastinum``,
    ``bone``, ``auto``; see :mod:`clinfusion.modalities.radiology.preview`)."""
    from clinfusion.modalities.radiology.preview import window

    return window(volume[int(np.clip(k, 0, volume.shape[0] - 1))], preset)


def highlight_sentence(sentence: str, mentions: list[tuple[tuple[int, int], str, str]]) -> str:
    """HTML of a sentence with each finding mention marked by its assertion.

    Args:
        mentions: ``((start, end), finding, assertion)`` character spans in ``sentence``.
    """
    out, pos = [], 0
    for (a, b), finding, assertion in sorted(mentions, key=lambda m: m[0]):
        if a < pos:
            continue  # overlapping synonyms: keep the first
        colour = ASSERTION_COLOURS.get(assertion, "#e5e7eb")
        out.append(html.escape(sentence[pos:a]))
        out.append(f'<mark style="background:{colour}" title="{html.escape(finding)}: {assertion}">'
                   f"{html.escape(sentence[a:b])}</mark>")
        pos = b
    out.append(html.escape(sentence[pos:]))
    return "".join(out)


def report_html(record: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    """One de-identified report as HTML with highlighted findings, and its findings table.

    Returns:
        ``(html, findings)``; findings has one row per mention: section, finding, assertion, sentence.
    """
    from clinfusion.modalities.reports.findings import find_mentions

    parts, rows = [], []
    for sec in record.get("sections", []):
        sents = list(sec.get("sentences", []))
        by_sentence: dict[int, list] = {}
        for m in find_mentions(sents):
            by_sentence.setdefault(m.sentence_index, []).append((m.span, m.finding, m.assertion))
            rows.append({"section": sec.get("name", ""), "finding": m.finding, "assertion": m.assertion,
                         "sentence": sents[m.sentence_index]})
        body = " ".join(highlight_sentence(s, by_sentence.get(i, [])) for i, s in enumerate(sents))
        parts.append(f"<p><b>{html.escape(sec.get('name', ''))}</b><br>{body}</p>")
    return "".join(parts), pd.DataFrame(rows, columns=["section", "finding", "assertion", "sentence"])


def survival_band_figure(band: pd.DataFrame, title: str = ""):
    """The patient's survival curve (step at the end of each time bin) with the fold-model band.

    Args:
        band: columns ``survival``, ``lower``, ``upper``, one row per discrete time bin.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    x = np.arange(len(band) + 1)
    step = {c: np.r_[1.0, band[c].to_numpy(float)] for c in ("survival", "lower", "upper")}
    ax.fill_between(x, step["lower"], step["upper"], step="post", alpha=0.3, label="range of the CV fold models")
    ax.step(x, step["survival"], where="post", label="final model")
    ax.set(xlabel="end of time bin", ylabel="survival probability", ylim=(0, 1.02), title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
