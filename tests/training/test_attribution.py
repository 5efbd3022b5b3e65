"""Integrated-gradients token attributions: completeness, shape and agreement with a direct path integral."""

from __future__ import annotations

import numpy as np
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.attribution import attribution_summary, integrated_gradients
from clinfusion.training.trainer import train_fusion

CFG = {"model": {"hidden": 8, "deep_init_zero": False, "modality_heads": True}, "optim": {"epochs": 2}, "bootstrap": 0}


def _fit(ensemble: int = 1):
    c = make_token_cohort(20, ("genomics", "pathology"), missing_rate=0.2, signal=2.0, seed=8)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({**CFG, "optim": {"epochs": 2, "ensemble": ensemble}})
    return data, train_fusion(data, data.patient_ids[:16], cfg)


def test_one_row_per_token_and_completeness():
    data, fit = _fit()
    ids = data.patient_ids[16:]
    table = integrated_gradients(fit, data, ids, n_steps=64)
    for m in ("genomics", "pathology"):
        expected = sum(data.tokens[m][p].tokens.shape[0] for p in ids if p in data.tokens[m])
        assert (table.modality == m).sum() == expected
    assert set(table.patient_id) <= set(ids)
    # completeness: per patient and modality the attributions add up to risk(x) - risk(mean tokens)
    assert table.delta.abs().max() < 0.05 * max(1.0, table.attribution.abs().max())  # Riemann error only
    top = attribution_summary(table, top=2)
    assert (top.groupby("modality").size() <= 2).all()


def test_matches_a_direct_riemann_sum_for_one_patient():
    import torch
    from clinfusion.training.attribution import _batch

    data, fit = _fit(ensemble=2)
    pid = next(p for p in data.patient_ids[16:] if p in data.tokens["genomics"])
    # 256 Gauss-Legendre steps: the network is only piecewise smooth, so 64 steps can be ~3e-3 off
    table = integrated_gradients(fit, data, [pid], modalities=["genomics"], n_steps=256)
    batch, _ = _batch(fit, data, [pid])
    x = batch["genomics"].x.detach()
    total = torch.zeros_like(x)
    n = 400
    for a in (np.arange(n) + 0.5) / n:  # midpoint rule on the straight path from 0 to x
        xi = (a * x).requires_grad_()
        batch["genomics"].x = xi
        fit.model(batch)["risk"].sum().backward()
        total += xi.grad
    direct = (total / n * x).sum(-1).numpy()
    assert np.allclose(table.attribution.to_numpy(), direct, atol=2e-3)
