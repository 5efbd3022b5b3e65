from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_pad_sets_and_subsample():
    from clinfusion.training.padded import pad_sets, subsample

    x, mask = pad_sets([np.ones((2, 3)), None, np.full((4, 3), 2.0)], 3)
    assert x.shape == (3, 4, 3) and mask.shape == (3, 4)
    assert mask.sum(1).tolist() == [2, 0, 4]
    assert (x[1] == 0).all() and (x[0, 2:] == 0).all()
    assert pad_sets([None, None], 5)[0].shape == (2, 1, 5)
    rows = subsample(np.arange(10.0)[:, None], 4)[:, 0]
    assert rows.tolist() == [0.0, 3.0, 6.0, 9.0]


def test_padded_inputs_absent_modality_and_covariates():
    from clinfusion.testing.one_signal import one_signal_cohort
    from clinfusion.training.flat import fit_covariates
    from clinfusion.training.padded import COVARIATES, padded_inputs
    from clinfusion.training.preprocess import TokenStandardizer

    data, _ = one_signal_cohort(30, missing_rate=0.5, seed=0)
    ids = data.patient_ids
    cov = fit_covariates(data, ids[:20])
    st = TokenStandardizer.fit(data.tokens, ids[:20])
    dims = {COVARIATES: cov.width, **data.dims()}
    tokens, masks = padded_inputs(data, ids, dims, st, cov, max_tokens=4)
    assert set(tokens) == set(dims)
    assert tokens["pathology"].shape[1] == 4  # 10 tiles subsampled to 4
    lacking = [i for i, p in enumerate(ids) if p not in data.tokens["pathology"]]
    assert lacking and not masks["pathology"][lacking].any()
    assert (tokens["pathology"][lacking] == 0).all()
    assert tokens[COVARIATES].shape == (30, 1, cov.width) and masks[COVARIATES].all()
    present = [i for i, p in enumerate(ids) if p in data.tokens["genomics"]]
    z = tokens["genomics"][present][masks["genomics"][present]]
    assert abs(float(z.mean())) < 0.3  # standardised with the training fold's statistics
