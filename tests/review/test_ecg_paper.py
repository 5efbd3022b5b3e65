"""True-scale ECG: the rendered PNG's pixel geometry equals the paper scale (mm/s, mm/mV, square boxes)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from clinfusion.review import ecg_paper
from PIL import Image

FS = 500.0


def _render(speed=25.0, gain=10.0, dpi=254.0, quality=None, signal=None):
    sig = np.zeros((12, int(10 * FS))) if signal is None else signal
    fig, sc = ecg_paper.ecg_paper_figure(sig, FS, speed_mm_s=speed, gain_mm_mv=gain, dpi=dpi, quality=quality)
    png = ecg_paper.figure_png(fig, dpi)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int), sc


def _runs(mask: np.ndarray) -> np.ndarray:
    """Centres of the runs of True in a 1-D mask."""
    idx = np.flatnonzero(mask)
    groups = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    return np.array([g.mean() for g in groups if len(g)])


def _bold(px: np.ndarray) -> np.ndarray:
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    return (abs(r - 0xF0) < 12) & (abs(g - 0x8A) < 25) & (abs(b - 0x8A) < 25)


@pytest.mark.parametrize(("speed", "gain"), [(25.0, 10.0), (50.0, 20.0), (25.0, 5.0)])
def test_figure_size_in_px_equals_paper_mm_at_dpi(speed, gain):
    img, sc = _render(speed, gain, dpi=96.0)
    assert (img.shape[1], img.shape[0]) == sc.size_px
    assert img.shape[1] == pytest.approx(sc.width_mm / 25.4 * 96, abs=1)
    assert sc.width_mm >= 10 * speed and sc.row_mm >= 3 * gain  # 10 s and +-1.5 mV fit the paper


def test_boxes_are_square_5_mm_and_the_grid_pitch_is_1_mm():
    img, sc = _render(dpi=254.0)  # 10 px per mm exactly
    assert sc.px_per_mm == pytest.approx(10.0)
    row = img[int(img.shape[0] * 0.97)]       # bottom margin: grid only
    col = img[:, int(img.shape[1] * 0.995)]   # right margin: grid only
    xs, ys = _runs(_bold(row[None])[0]), _runs(_bold(col[:, None])[:, 0])
    assert np.diff(xs) == pytest.approx(50.0, abs=1.0) and np.diff(ys) == pytest.approx(50.0, abs=1.0)
    fine = _runs((row.sum(axis=1) < 3 * 250) & ~_bold(row[None])[0])
    assert np.median(np.diff(fine)) == pytest.approx(10.0, abs=1.0)


def test_trace_runs_at_the_paper_speed_and_gain_with_a_1_mv_calibration_pulse():
    sig = np.zeros((12, int(10 * FS)))
    sig[1, int(2.0 * FS):int(2.0 * FS) + 2] = 1.0  # lead II spike of 1 mV at t = 2.0 s (rhythm strip)
    img, sc = _render(25.0, 10.0, dpi=254.0, signal=sig)
    dark = img.sum(axis=2) < 200
    base_px = (sc.height_mm - sc.baseline_mm(3)) * 10  # rhythm strip baseline, px from the top
    band = dark[int(base_px - 12 * 10):int(base_px + 3)]  # 12 mm above the baseline
    spike_x = np.flatnonzero(band[: int(5 * 10)].any(axis=0))  # pixels reaching >= 7 mm above the baseline
    top = [x for x in spike_x if x > sc.trace_x0_mm * 10]
    assert np.mean(top) / 10 == pytest.approx(sc.trace_x0_mm + 2.0 * 25.0, abs=0.6)  # 2 s * 25 mm/s
    cal_cols = np.flatnonzero(dark[int(base_px - 10 * 10)])  # exactly 1 mV = 10 mm above the baseline
    cal_cols = cal_cols[cal_cols < sc.trace_x0_mm * 10]
    assert (cal_cols.max() - cal_cols.min()) / 10 == pytest.approx(0.2 * 25.0, abs=0.5)  # 0.2 s wide pulse
    tall = np.flatnonzero(dark[int(base_px - sc.row_mm / 2 * 10):int(base_px + 3), int(cal_cols.min()) + 1])
    assert (sc.row_mm / 2 * 10 - tall.min()) / 10 == pytest.approx(10.0, abs=0.5)  # 1 mV = 10 mm


def test_quality_flags_are_drawn_in_red_and_bad_settings_refused():
    clean, _ = _render(dpi=96.0)
    flagged, _ = _render(dpi=96.0, quality={"V2": ["flat"]})
    red = lambda im: ((im[..., 0] > 180) & (im[..., 1] < 60) & (im[..., 2] < 60)).sum()  # noqa: E731
    assert red(flagged) > red(clean) + 100
    with pytest.raises(ValueError, match="speed"):
        ecg_paper.paper_scale(10, speed_mm_s=30)
    with pytest.raises(ValueError, match="gain"):
        ecg_paper.paper_scale(10, gain_mm_mv=7)
    with pytest.raises(ValueError, match=r"\[12, samples\]"):
        ecg_paper.ecg_paper_figure(np.zeros((3, 10)), FS)
    assert "25 mm/s, 10 mm/mV at 96 dpi" in ecg_paper.paper_scale(10).describe()
