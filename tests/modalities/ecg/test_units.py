"""Pure functions: lead mapping/derivation, resampling, filters, windows, quality, de-identification, QTc."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.errors import IngestError
from clinfusion.modalities.ecg import quality
from clinfusion.modalities.ecg.deid import scrub_comments
from clinfusion.modalities.ecg.leads import STANDARD_LEADS, canonical_lead, map_leads
from clinfusion.modalities.ecg.measurements import frontal_axis, qtc
from clinfusion.modalities.ecg.options import EcgOptions
from clinfusion.modalities.ecg.record import mv_per_unit
from clinfusion.modalities.ecg.signal import notch, resample, windows
from clinfusion.testing.ecg import LEADS_12, synthetic_ecg


@pytest.mark.parametrize(("label", "std"), [("Lead I (Einthoven)", "I"), ("MLII", "II"), ("avf", "aVF"),
                                            ("AVR", "aVR"), ("v6", "V6"), ("Lead V1", "V1"), ("DIII", "III"),
                                            ("vx", None), ("resp", None)])
def test_canonical_lead_names(label, std):
    assert canonical_lead(label) == std


def test_limb_leads_are_derived_exactly_and_extras_kept_aside():
    x = synthetic_ecg(4, 250, noise_mv=0.0, seed=1)
    keep = [0, 1, 6, 7, 8, 9, 10, 11]  # I, II, V1-V6: III, aVR, aVL, aVF must be derived
    extra = np.random.default_rng(0).normal(size=(x.shape[0], 1))
    ls = map_leads(np.hstack([x[:, keep], extra]), [LEADS_12[k] for k in keep] + ["vx"])
    assert ls.present.all()
    assert sorted(ls.derived) == sorted(["III", "aVR", "aVL", "aVF"])
    np.testing.assert_allclose(ls.leads[2:6], x[:, 2:6].T, atol=1e-9)
    assert ls.extra_names == ["vx"]
    np.testing.assert_allclose(ls.extra[0], extra[:, 0])


def test_two_lead_holter_keeps_only_what_it_has():
    x = synthetic_ecg(4, 250)
    ls = map_leads(x[:, [1, 10]], ["MLII", "V5"])
    assert ls.present_names == ["II", "V5"] and ls.derived == []


def test_units_convert_to_mv_and_reject_non_voltage():
    assert mv_per_unit("uV") == pytest.approx(1e-3)
    assert mv_per_unit("") == 1.0 and mv_per_unit("V") == 1000.0
    with pytest.raises(IngestError, match="not a voltage"):
        mv_per_unit("mmHg", file="a.hea")


def test_resampling_is_anti_aliased():
    fs = 1000.0
    t = np.arange(int(fs * 4)) / fs
    slow, fast = np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 300 * t)  # 300 Hz would alias to 200 Hz
    y = resample(np.stack([slow, fast]), fs, 500.0)
    assert y.shape == (2, 2000)
    core = slice(200, -200)
    assert np.std(y[0, core]) == pytest.approx(np.std(slow), rel=0.02)
    assert np.std(y[1, core]) < 0.01 * np.std(fast)
    assert resample(np.ones((1, 360)), 360.0, 500.0).shape == (1, 500)


def test_notch_removes_mains():
    fs = 500.0
    t = np.arange(5000) / fs
    x = np.sin(2 * np.pi * 5 * t) + 0.5 * np.sin(2 * np.pi * 50 * t)
    y = notch(x[None], fs, 50.0)[0]
    resid = y - np.sin(2 * np.pi * 5 * t)
    assert np.std(resid[500:-500]) < 0.02


def test_windows_split_long_records_and_pad_short_ones():
    w, valid = windows(np.ones((12, 5000 * 3 + 3000)), 5000)
    assert w.shape == (4, 12, 5000) and valid.tolist() == [5000, 5000, 5000, 3000]
    assert w[3, 0, 3000:].sum() == 0
    w, valid = windows(np.ones((12, 5000 * 2 + 100)), 5000)
    assert w.shape[0] == 2
    w, valid = windows(np.ones((2, 1200)), 5000)
    assert w.shape == (1, 2, 5000) and valid.tolist() == [1200]
    assert windows(np.ones((1, 50000)), 5000, max_windows=3)[0].shape[0] == 3


def test_quality_flags_flat_clipped_noisy_and_clean():
    x = synthetic_ecg(10, 500, seed=2)[:, 1]
    assert quality.lead_flags(x, 500, 50) == []
    assert quality.lead_flags(np.zeros_like(x) + 0.3, 500, 50) == ["flat"]
    assert "clipped" in quality.lead_flags(np.clip(x, None, 0.6), 500, 50)
    noisy = x + np.random.default_rng(0).normal(0, 0.2, x.size)
    assert "noisy" in quality.lead_flags(noisy, 500, 50)
    assert quality.reversal_suspected({"I": -0.5, "aVR": 0.6})
    assert not quality.reversal_suspected({"I": 0.5, "aVR": -0.6})


def test_scrub_keeps_only_age_sex_and_dx_codes():
    comments = ["Age: 95", "Sex: Female", "Dx: 426783006,164934002, sinus", "Name: Octavia Quince",
                "MRN 4471029", "ECG date: 01/10/1990", "Referring: Dr. Barnaby Wolfe"]
    out = scrub_comments(comments)
    assert out["age"] == 90.0 and out["sex"] == "F"
    assert out["dx"] == ["426783006", "164934002"]
    assert out["comments_dropped"] == 4
    flat = repr(out)
    for phi in ("Octavia", "4471029", "1990", "Barnaby"):
        assert phi not in flat
    assert scrub_comments(["69 M 1085 1629 x1", "Aldomet, Inderal"])["age"] == 69.0


def test_qtc_formulas_and_axis():
    bazett, fridericia = qtc(400.0, 640.0)
    assert bazett == pytest.approx(400 / 0.8) and fridericia == pytest.approx(400 / 0.64 ** (1 / 3))
    assert np.isnan(qtc(float("nan"), 800.0)[0])
    assert frontal_axis(1.0, 0.0) == pytest.approx(0.0)
    assert frontal_axis(0.0, 1.0) == pytest.approx(90.0)
    assert frontal_axis(-1.0, 1.0) == pytest.approx(135.0)


def test_options_validate_band_and_names():
    assert EcgOptions().fs_hz == 500
    with pytest.raises(ValueError, match="bandpass_hz"):
        EcgOptions(bandpass_hz=(40, 0.5))
    with pytest.raises(ValueError, match="Extra inputs"):
        EcgOptions(fs=250)
    assert len(STANDARD_LEADS) == 12


def test_resnet1d_is_trainable():
    torch = pytest.importorskip("torch")
    from clinfusion.modalities.ecg.resnet1d import build_resnet1d

    torch.manual_seed(0)
    net = build_resnet1d(in_channels=12, dim=4, width=4, n_blocks=2)
    x, y = torch.randn(4, 12, 1000), torch.randn(4, 4)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert net(x).shape == (4, 4) and losses[-1] < losses[0]
