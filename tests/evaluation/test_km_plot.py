"""The one Kaplan-Meier figure: groups, drawing order, log-rank p, and the PNG writer on top of it."""

from __future__ import annotations

import numpy as np
from clinfusion.evaluation.plots import km_figure, km_plot
from PIL import Image

T = np.array([10, 20, 30, 40, 200, 300, 400, 500.0])
E = np.ones(8, int)


def test_km_figure_reports_logrank_p_and_nan_for_one_group():
    _, p = km_figure(T, E, np.array(["a"] * 4 + ["b"] * 4))
    assert 0 < p < 0.05
    _, p1 = km_figure(T, E, np.array(["a"] * 8))
    assert np.isnan(p1)


def test_km_figure_draws_groups_in_the_given_order_and_keeps_a_given_p():
    fig, p = km_figure(T, E, np.array(["x"] * 4 + ["y"] * 4), "t", p=0.25, order=("y", "missing", "x"))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["y (n=4)", "x (n=4)"]
    assert p == 0.25 and "p = 0.25" in fig.axes[0].get_title()


def test_km_plot_writes_a_png_of_low_then_high_risk(tmp_path):
    high = np.array([True] * 4 + [False] * 4)
    out = km_plot(T, E, high, tmp_path / "km.png", "fusion", 0.01)
    assert out.exists() and Image.open(out).format == "PNG"
