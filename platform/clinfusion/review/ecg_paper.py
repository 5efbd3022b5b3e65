"""The 12-lead ECG at true paper scale: mm on paper = mm on the rendered figure.

The figure is one axes spanning the whole canvas with data units of millimetres on both axes
(``figsize`` = paper size / 25.4 inches), so at ``dpi`` every millimetre is ``dpi / 25.4`` px in
both directions: the 1 mm and 5 mm boxes are square and the trace runs at ``speed`` mm/s and
``gain`` mm/mV. Shown at its natural pixel width in a browser at 100% zoom (CSS px = 1/96 inch),
``dpi = 96`` gives true size on a screen whose CSS px is 1/96 inch; the caption states the scale.

Layout: the standard 3 x 4 grid of 2.5 s lead segments and a 10 s lead II rhythm strip, each row
starting with a 1 mV calibration pulse 0.2 s wide; leads with quality flags are boxed in red with
their flags named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from clinfusion.review.plots import ECG_LAYOUT, STANDARD_LEADS, _pyplot

GAINS_MM_PER_MV = (5.0, 10.0, 20.0)
SPEEDS_MM_PER_S = (25.0, 50.0)
MARGIN_MM, TITLE_MM, CAL_S = 5.0, 8.0, 0.2
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class PaperScale:
    """Geometry of a rendered ECG.

    Attributes:
        speed_mm_s, gain_mm_mv: paper speed and gain; dpi: render resolution.
        width_mm, height_mm: paper size; row_mm: height of one row; trace_x0_mm: where t = 0 is.
    """

    speed_mm_s: float
    gain_mm_mv: float
    dpi: float
    width_mm: float
    height_mm: float
    row_mm: float
    trace_x0_mm: float

    @property
    def px_per_mm(self) -> float:
        """Rendered px per paper mm (same both ways)."""
        return self.dpi / MM_PER_INCH

    @property
    def size_px(self) -> tuple[int, int]:
        """(width, height) in px of the PNG matplotlib writes at ``dpi``."""
        return int(round(self.width_mm / MM_PER_INCH * self.dpi)), int(round(self.height_mm / MM_PER_INCH * self.dpi))

    def baseline_mm(self, row: int) -> float:
        """Paper y (mm from the bottom) of row ``row``'s 0 mV line (row 0 at the top)."""
        return self.height_mm - TITLE_MM - (row + 0.5) * self.row_mm

    def describe(self) -> str:
        """The scale as the caption states it."""
        return (f"{self.speed_mm_s:g} mm/s, {self.gain_mm_mv:g} mm/mV at {self.dpi:g} dpi "
                f"(1 mm = {self.px_per_mm:.2f} px; true size when shown at {self.size_px[0]} px wide with browser zoom 100%)")


def paper_scale(duration_s: float, speed_mm_s: float = 25.0, gain_mm_mv: float = 10.0, dpi: float = 96.0) -> PaperScale:
    """The paper geometry of a ``duration_s`` window.

    Raises:
        ValueError: a speed, gain or dpi outside the supported values / not positive.
    """
    if speed_mm_s not in SPEEDS_MM_PER_S:
        raise ValueError(f"speed must be one of {SPEEDS_MM_PER_S} mm/s, got {speed_mm_s}")
    if gain_mm_mv not in GAINS_MM_PER_MV:
        raise ValueError(f"gain must be one of {GAINS_MM_PER_MV} mm/mV, got {gain_mm_mv}")
    if dpi <= 0 or duration_s <= 0:
        raise ValueError(f"dpi and duration must be positive, got dpi={dpi}, duration_s={duration_s}")
    cal_mm = 3.0 + CAL_S * speed_mm_s + 2.0
    x0 = MARGIN_MM + cal_mm
    width = 5.0 * math.ceil((x0 + duration_s * speed_mm_s + MARGIN_MM) / 5.0)
    row = 5.0 * math.ceil(max(15.0, 3.5 * gain_mm_mv) / 5.0)
    height = 5.0 * math.ceil((TITLE_MM + 4 * row + MARGIN_MM) / 5.0)
    # whole pixels: the paper is cut to the px it covers, so 1 mm stays exactly dpi / 25.4 px both ways
    width, height = (round(v / MM_PER_INCH * dpi) * MM_PER_INCH / dpi for v in (width, height))
    return PaperScale(float(speed_mm_s), float(gain_mm_mv), float(dpi), width, height, row, x0)


def ecg_paper_figure(signal: np.ndarray, fs_hz: float, present: np.ndarray | None = None, *,
                     speed_mm_s: float = 25.0, gain_mm_mv: float = 10.0, dpi: float = 96.0,
                     quality: dict[str, list[str]] | None = None, title: str = ""):
    """The standard 12-lead layout of one window at true scale.

    Args:
        signal: ``[12, S]`` mV in ``STANDARD_LEADS`` order at ``fs_hz``.
        present: ``[12]`` bool, leads recorded (absent ones are labelled, not drawn).
        quality: lead name -> quality flags (e.g. ``{"V2": ["flat"]}``); flagged leads are boxed in red.

    Returns:
        ``(figure, PaperScale)``; save with ``dpi=scale.dpi`` and no ``bbox_inches`` to keep the scale.
    """
    plt = _pyplot()
    sig = np.asarray(signal, dtype=np.float64)
    if sig.ndim != 2 or sig.shape[0] != len(STANDARD_LEADS):
        raise ValueError(f"signal must be [12, samples] in {STANDARD_LEADS} order, got shape {sig.shape}")
    n = sig.shape[1]
    dur = n / float(fs_hz)
    sc = paper_scale(dur, speed_mm_s, gain_mm_mv, dpi)
    present = np.ones(12, bool) if present is None else np.asarray(present, bool)
    flags = {k: list(v) for k, v in (quality or {}).items() if v}
    w_px, h_px = sc.size_px
    fig = plt.figure(figsize=((w_px + 1e-3) / dpi, (h_px + 1e-3) / dpi), dpi=dpi)  # +1e-3 px: matplotlib truncates
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, sc.width_mm)
    ax.set_ylim(0, sc.height_mm)
    ax.set_axis_off()
    xs, ys = np.arange(0, sc.width_mm + 1e-9, 1.0), np.arange(0, sc.height_mm + 1e-9, 1.0)
    for bold, colour, lw in ((False, "#fbd5d5", 0.35), (True, "#f08a8a", 0.8)):
        ax.vlines(xs[(np.round(xs) % 5 == 0) == bold], 0, sc.height_mm, colors=colour, linewidth=lw, zorder=0)
        ax.hlines(ys[(np.round(ys) % 5 == 0) == bold], 0, sc.width_mm, colors=colour, linewidth=lw, zorder=0)
    slot = dur / 4
    for r, leads in enumerate((*ECG_LAYOUT, ("II",))):
        base = sc.baseline_mm(r)
        c0 = MARGIN_MM
        cal_w = CAL_S * sc.speed_mm_s
        ax.plot([c0, c0 + 3, c0 + 3, c0 + 3 + cal_w, c0 + 3 + cal_w, c0 + 5 + cal_w],
                [base, base, base + sc.gain_mm_mv, base + sc.gain_mm_mv, base, base], color="black", linewidth=0.8)
        for c, lead in enumerate(leads):
            li = STANDARD_LEADS.index(lead)
            a, b = (0, n) if len(leads) == 1 else (int(round(c * slot * fs_hz)), int(round((c + 1) * slot * fs_hz)))
            x = sc.trace_x0_mm + np.arange(a, b) / fs_hz * sc.speed_mm_s
            label = lead if present[li] else f"{lead} (absent)"
            if present[li]:
                ax.plot(x, base + sig[li, a:b] * sc.gain_mm_mv, color="black", linewidth=0.7)
            if lead in flags:
                x_a, x_b = sc.trace_x0_mm + a / fs_hz * sc.speed_mm_s, sc.trace_x0_mm + b / fs_hz * sc.speed_mm_s
                ax.add_patch(plt.Rectangle((x_a, base - sc.row_mm / 2 + 0.5), x_b - x_a, sc.row_mm - 1.0, fill=False,
                                           edgecolor="#d00000", linewidth=1.2, linestyle="--"))
                label += " [" + ", ".join(flags[lead]) + "]"
            ax.text(sc.trace_x0_mm + a / fs_hz * sc.speed_mm_s + 1.0, base + sc.row_mm / 2 - 4.0, label, fontsize=8,
                    color="#d00000" if lead in flags else "black")
    ax.text(MARGIN_MM, sc.height_mm - TITLE_MM / 2 - 1, (title + "; " if title else "") + sc.describe(), fontsize=8)
    return fig, sc


def figure_png(fig, dpi: float) -> bytes:
    """PNG bytes of a true-scale figure at ``dpi`` (no tight bbox: the size in px stays the paper's); closes it."""
    import io

    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
