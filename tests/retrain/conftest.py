"""A growing synthetic ECG cohort: patients are released from a staged cohort in batches."""

from __future__ import annotations

import pytest
from clinfusion.testing.growing import GrowingCohort


@pytest.fixture(scope="module")
def growing_cohort(tmp_path_factory) -> GrowingCohort:
    return GrowingCohort.generate(tmp_path_factory.mktemp("growing"), 30, seed=1, modalities=("ecg",))
