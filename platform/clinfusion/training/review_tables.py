"""Per-patient tables the review app needs, logged as MLflow artifacts of ``clinfusion train``.

- ``embeddings.csv``: the final fusion model's fused embedding of each patient (``patient_id``,
  ``emb_<j>``), for the cohort similarity graph (:func:`clinfusion.graph.cohort_similarity_graph`).
- ``fold_survival.csv``: each cross-validation fold's fusion model applied to every patient
  (``patient_id``, ``fold``, ``surv_<k>``); the spread across folds is the model (training-set)
  uncertainty band of a patient's survival curve.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def embeddings_table(patient_ids: Sequence[str], embedding: np.ndarray) -> pd.DataFrame:
    """Fused embeddings ``[N, H]`` as a frame with a ``patient_id`` column."""
    emb = np.asarray(embedding)
    if emb.ndim != 2 or emb.shape[0] != len(patient_ids):
        raise ValueError(f"embedding must be [N={len(patient_ids)}, H], got {emb.shape}")
    out = pd.DataFrame(emb, columns=[f"emb_{j}" for j in range(emb.shape[1])])
    out.insert(0, "patient_id", list(patient_ids))
    return out


def fold_survival_table(fits: Sequence, data, patient_ids: Sequence[str]) -> pd.DataFrame:
    """Survival curves of every patient under each fold's fusion model (long format, one row per fold)."""
    from clinfusion.training.trainer import predict_fusion

    frames = []
    for fold, fit in enumerate(fits):
        surv = predict_fusion(fit, data, patient_ids)["survival"]
        f = pd.DataFrame(surv, columns=[f"surv_{k}" for k in range(surv.shape[1])])
        f.insert(0, "fold", fold)
        f.insert(0, "patient_id", list(patient_ids))
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["patient_id", "fold"])
