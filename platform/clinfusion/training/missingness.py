"""Modalities removed from a cohort for training *and* test alike: MCAR vs MNAR missingness studies.

:mod:`clinfusion.training.robustness` hides modalities from already-trained models at test time;
here the tokens are removed from the cohort itself, so the models are also trained on the
incomplete data (what ``bench/fusion_synthetic.py`` measures and ``notebooks/03_missing_modalities``
shows). MNAR uses the outcome (patients with early events lose modalities more often): it is a
simulation on cohorts whose complete data is known, never a preprocessing step for real data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from clinfusion.training.dataset import CohortData
from clinfusion.training.robustness import PATTERNS, missing_mask
from clinfusion.training.trainer import _dropout_score


def mask_modalities(data: CohortData, rate: float, pattern: str, seed: int = 0,
                    keep: Sequence[str] = ("clinical",)) -> tuple[CohortData, pd.DataFrame]:
    """The cohort with each modality except ``keep`` removed from patients MCAR or MNAR.

    Args:
        data: the complete cohort.
        rate: mean probability that a present modality is removed (``0`` returns ``data`` unchanged).
        pattern: ``mcar`` (each present modality removed with probability ``rate``) or ``mnar``
            (probability ``rate * score / mean(score)`` with the informative-dropout score of
            :func:`~clinfusion.training.robustness.missing_mask`: early events lose more).
        seed: seeds the draw.
        keep: modalities never removed (the clinical table is always there in practice).

    Returns:
        ``(masked cohort, hidden)``; ``hidden`` is a bool frame, patients (``data.patient_ids``) x
        masked modalities, True where a present modality was removed.

    Raises:
        ValueError: unknown ``pattern``.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    mods = [m for m in data.modalities if m not in keep]
    present = np.array([[p in data.tokens[m] for m in mods] for p in data.patient_ids], dtype=bool)
    hidden = missing_mask(present, rate, pattern, _dropout_score(data.time, data.event), seed) if rate > 0 else \
        np.zeros_like(present)
    tokens = {m: dict(per) for m, per in data.tokens.items()}
    for j, m in enumerate(mods):
        for i in np.flatnonzero(hidden[:, j]):
            tokens[m].pop(data.patient_ids[i], None)
    frame = pd.DataFrame(hidden, index=pd.Index(data.patient_ids, name="patient_id"), columns=mods)
    return replace(data, tokens=tokens), frame
