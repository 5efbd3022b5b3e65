"""Unseen patients' tokens are read with training's encoder rule; a missing or ambiguous choice
leaves the modality out instead of failing."""

from __future__ import annotations

import pytest
from clinfusion.review.unseen import _encoder


@pytest.mark.parametrize(("configured", "cached", "expected"), [
    ({"radiology": "monai_cnn"}, ["monai_cnn", "radiomics"], "monai_cnn"),  # configured wins over default
    ({"radiology": "monai_cnn"}, ["radiomics"], None),  # configured cache gone: left out
    ({}, ["monai_cnn", "radiomics"], "radiomics"),  # registered default
    ({}, ["custom"], "custom"),  # the only cache
    ({}, ["a", "b"], None),  # ambiguous (training would refuse): left out
    ({}, [], None),
])
def test_unseen_encoder_follows_training_rule(configured, cached, expected) -> None:
    assert _encoder("radiology", configured, cached) == expected
