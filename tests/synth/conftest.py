"""One small all-modality synthetic cohort per session, shared by the format and truth tests."""

from __future__ import annotations

import pytest
from clinfusion.synth import generate_cohort

SMALL = {"n_patients": 6, "seed": 3, "missing_rate": 0.2, "missing": "mcar"}


@pytest.fixture(scope="session")
def small_config() -> dict:
    """The arguments of :func:`small_cohort` (for tests that regenerate it)."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory):
    """Six patients, every modality, ~20% missing per modality (scale small)."""
    return generate_cohort(tmp_path_factory.mktemp("synth") / "cohort", **SMALL)
