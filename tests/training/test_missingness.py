"""Modalities removed for training and test alike (MCAR / MNAR) on a token-level synthetic cohort."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames
from clinfusion.training.missingness import mask_modalities


@pytest.fixture(scope="module")
def data():
    c = make_token_cohort(400, ("genomics", "pathology"), seed=3)
    return cohort_from_frames(c.clinical, c.tokens)


def test_removes_only_hidden_tokens_and_keeps_the_original(data):
    masked, hidden = mask_modalities(data, 0.3, "mcar", seed=1, keep=("genomics",))
    assert list(hidden.columns) == ["pathology"]
    assert list(hidden.index) == data.patient_ids
    gone = set(hidden.index[hidden["pathology"]])
    assert gone and set(data.tokens["pathology"]) - set(masked.tokens["pathology"]) == gone
    assert masked.tokens["genomics"].keys() == data.tokens["genomics"].keys()
    assert len(data.tokens["pathology"]) == 400  # the input cohort is not modified
    assert abs(hidden.to_numpy().mean() - 0.3) < 0.06


def test_mnar_hides_early_events_more_than_mcar(data):
    early = (data.event == 1) & (data.time < np.median(data.time))
    shares = {}
    for pattern in ("mcar", "mnar"):
        _, hidden = mask_modalities(data, 0.3, pattern, seed=2, keep=())
        h = hidden.to_numpy().any(1)
        shares[pattern] = h[early].mean() - h[~early].mean()
    assert shares["mnar"] > shares["mcar"] + 0.1
    assert abs(shares["mcar"]) < 0.1


def test_rate_zero_and_unknown_pattern(data):
    masked, hidden = mask_modalities(data, 0.0, "mnar")
    assert not hidden.to_numpy().any()
    assert masked.tokens["pathology"].keys() == data.tokens["pathology"].keys()
    with pytest.raises(ValueError, match="pattern must be one of"):
        mask_modalities(data, 0.3, "random")
