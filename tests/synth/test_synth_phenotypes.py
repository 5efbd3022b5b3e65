"""Each modality's generator expresses its latents (pure functions, no files)."""

from __future__ import annotations

import numpy as np
from clinfusion.synth.config import SCALES, make_config
from clinfusion.synth.ecg import LEADS, ecg_params, simulate_12lead
from clinfusion.synth.genomics import SET_DRIVERS, expression_matrix, load_gene_sets, set_activities
from clinfusion.synth.latent import sample_latent_cohort
from clinfusion.synth.pathology import pyramid, slide_params
from clinfusion.synth.radiology import lesion_params, phantom_hu


def _corr(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def test_phenotypes_track_latents():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((400, 2))
    rad = [lesion_params(a, b, rng) for a, b in z]
    assert _corr(z[:, 0], [r["lesion_radius_mm"] for r in rad]) > 0.8
    assert _corr(z[:, 1], [r["lesion_hu"] for r in rad]) > 0.8
    path = [slide_params(a, b, rng) for a, b in z]
    assert _corr(z[:, 0], np.log([p["nuclei_per_mm2"] for p in path])) > 0.8
    assert _corr(z[:, 1], [p["lymphocyte_fraction"] for p in path]) > 0.8
    ecg = [ecg_params(a, rng) for a in z[:, 0]]
    assert _corr(z[:, 0], [e["heart_rate_bpm"] for e in ecg]) > 0.8
    assert _corr(z[:, 0], [e["qtc_ms"] for e in ecg]) > 0.8


def test_ct_phantom_tissues_and_lesion():
    rng = np.random.default_rng(1)
    lesion = {"lesion_radius_mm": 15.0, "lesion_hu": 60.0, "lesion_dx_mm": 0.0, "lesion_dy_mm": 0.0, "lesion_dz_mm": 0.0}
    vol, px, dz = phantom_hu(SCALES["medium"], lesion, rng)
    assert vol.shape == (32, 256, 256) and np.isclose(px * 256, 360) and np.isclose(dz * 32, 80)
    mid = vol[16]
    assert mid[0, 0] < -900  # air
    assert (mid > 500).sum() > 20  # bone
    assert ((mid > -950) & (mid < -700)).mean() > 0.1  # lung
    cx, cy = int(round((-70 + 180) / px)), int(round((-10 + 180) / px))
    assert abs(float(mid[cy - 2 : cy + 3, cx - 2 : cx + 3].mean()) - 60) < 15  # lesion density in HU


def test_ecg_morphology():
    rng = np.random.default_rng(2)
    p = {"heart_rate_bpm": 60.0, "qtc_ms": 420.0, "st_deviation_mv": 0.0}
    sig = simulate_12lead(p, rng)
    assert sig.shape == (5000, len(LEADS))
    lead = {n: sig[:, i] for i, n in enumerate(LEADS)}
    # Einthoven: III = II - I; Goldberger: aVR = -(I + II) / 2 (noise aside)
    assert np.abs(lead["III"] - (lead["II"] - lead["I"])).mean() < 0.15
    assert _corr(lead["aVR"], -(lead["I"] + lead["II"]) / 2) > 0.9
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(lead["II"], height=0.6, distance=150)
    assert 9 <= len(peaks) <= 11  # 60 bpm over 10 s


def test_expression_follows_gene_sets():
    cfg = make_config(n_patients=200, seed=4)
    f = sample_latent_cohort(cfg)
    act = set_activities(f, cfg.seed)
    expr = expression_matrix(act, cfg.seed)
    sets = load_gene_sets()
    assert len(sets) >= 30 and all(len(g) >= 8 for g in sets.values())
    assert {"MKI67", "CD8A", "VEGFA", "TP53"} <= set(expr.index)
    score = np.log(expr.loc[sets["CF_G2M_CHECKPOINT"]]).mean(axis=0)
    assert _corr(score, f["proliferation"]) > 0.7
    score = np.log(expr.loc[sets["CF_CYTOTOXIC_T_CELL"]]).mean(axis=0)
    assert _corr(score, f["immune"]) > 0.7
    assert set(SET_DRIVERS) <= set(sets)


def test_pyramid_halves():
    img = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    levels = pyramid(img, 3)
    assert [lv.shape for lv in levels] == [(64, 64, 3), (32, 32, 3), (16, 16, 3)]
    assert abs(float(levels[1].mean()) - float(img.mean())) < 1
