"""A toy cohort where exactly one token modality carries the survival signal.

For tests that a model *learns* (held-out C well above 0.5 only if it reads the right modality):
latent risk ``z ~ N(0, 1)``, hazard ``exp(strength * z)`` (exponential event times, independent
exponential censoring), the signal modality's tokens shifted by ``z`` along a fixed direction, the
other modalities pure noise, and one uninformative covariate (``stage``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clinfusion.testing.tokens import MODALITY_SHAPES, random_token_set


def one_signal_cohort(n_patients: int = 120, signal: str = "genomics",
                      modalities: Sequence[str] = ("genomics", "pathology", "ecg"), *, strength: float = 2.0,
                      missing_rate: float = 0.0, seed: int = 0):
    """A :class:`~clinfusion.training.dataset.CohortData` with the risk in ``signal`` only.

    Args:
        n_patients: patients (ids ``SYN0000`` ...).
        signal: the informative modality (never missing).
        modalities: token modalities (from :data:`~clinfusion.testing.tokens.MODALITY_SHAPES`).
        strength: log-hazard per SD of the latent risk (2: oracle Harrell C about 0.8).
        missing_rate: probability that a patient lacks each *other* modality.
        seed: the cohort is a pure function of the arguments.

    Returns:
        ``(cohort, z)``: the cohort and the latent risk ``[N]`` (the oracle).
    """
    from clinfusion.training.dataset import cohort_from_frames

    if signal not in modalities:
        raise ValueError(f"signal {signal!r} must be one of modalities {list(modalities)}")
    rng = np.random.default_rng(seed)
    ids = [f"SYN{i:04d}" for i in range(n_patients)]
    z = rng.normal(size=n_patients)
    dim = MODALITY_SHAPES[signal][1]
    shift = 2.0 * rng.normal(size=dim) / np.sqrt(dim)
    tokens: dict[str, dict] = {m: {} for m in modalities}
    for i, pid in enumerate(ids):
        for m in modalities:
            if m == signal:
                tokens[m][pid] = random_token_set(m, rng, shift, float(z[i]))
            elif rng.uniform() >= missing_rate:
                tokens[m][pid] = random_token_set(m, rng)
    t_event = rng.exponential(1000.0 * np.exp(-strength * z))
    t_cens = rng.exponential(3000.0, n_patients)
    clinical = pd.DataFrame({
        "patient_id": ids,
        "survival_time": np.round(np.maximum(np.minimum(t_event, t_cens), 1.0), 1),
        "event": (t_event <= t_cens).astype(int),
        "stage": rng.choice(["I", "II", "III"], n_patients),
    })
    return cohort_from_frames(clinical, tokens, covariates=["stage"]), z
