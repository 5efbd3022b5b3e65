"""Figures and highlights of the review app, on hand-built inputs."""

from __future__ import annotations

import numpy as np
from clinfusion.review import plots


def test_highlight_marks_mentions_by_assertion_and_escapes():
    s = "No effusion <b> but cardiomegaly."
    html = plots.highlight_sentence(s, [((3, 11), "effusion", "absent"), ((20, 32), "cardiomegaly", "present")])
    assert '<mark style="background:#bfdbfe" title="effusion: absent">effusion</mark>' in html
    assert 'title="cardiomegaly: present">cardiomegaly</mark>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_report_html_uses_negation_aware_findings():
    rec = {"sections": [{"name": "IMPRESSION", "sentences": ["No pleural effusion.", "Mild cardiomegaly."]}]}
    body, findings = plots.report_html(rec)
    assert dict(zip(findings["finding"], findings["assertion"], strict=True)) == {"effusion": "absent", "cardiomegaly": "present"}
    assert "<b>IMPRESSION</b>" in body and body.count("<mark") == 2


def test_ct_slice_applies_window_presets():
    vol = np.full((3, 4, 4), -600.0, dtype=np.float32)  # lung window centre
    assert plots.ct_slice(vol, 1, "lung").max() in (127, 128)
    assert plots.ct_slice(vol, 99, "bone").max() == 0  # clipped index, below the bone window


def test_ecg_figure_has_standard_layout():
    fs, sig = 100.0, np.zeros((12, 1000), dtype=np.float32)
    present = np.ones(12, bool)
    present[7] = False
    fig = plots.ecg_figure(sig, fs, present)
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert labels[:4] == ["I", "aVR", "V1", "V4"] and labels[-1] == "II" and "V2 (absent)" in labels
    assert len(fig.axes) == 4 and fig.axes[-1].get_xlim() == (0.0, 10.0)


def test_km_figure_reports_logrank_p():
    t = np.array([10, 20, 30, 40, 200, 300, 400, 500.0])
    e = np.ones(8, int)
    _, p = plots.km_figure(t, e, np.array(["a"] * 4 + ["b"] * 4))
    assert 0 < p < 0.05
    _, p1 = plots.km_figure(t, e, np.array(["a"] * 8))
    assert np.isnan(p1)


def test_ecg_intervals_table():
    tab = plots.ecg_intervals({"hr_bpm": 60.04, "qrs_ms": 96})
    assert tab.loc["heart rate (bpm)", "value"] == 60.0 and tab.loc["QRS (ms)", "value"] == 96.0
    assert np.isnan(tab.loc["PR (ms)", "value"])
