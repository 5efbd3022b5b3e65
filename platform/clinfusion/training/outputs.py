"""Model outputs as a DataFrame: the one table format of fold predictions, logged predictions and
the served pyfunc (:mod:`clinfusion.tracking.pyfunc` re-exports it).

It lives in ``training`` (not ``tracking``) so that training code can build the table without
importing the layer above it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def predictions_frame(fit: Any, pred: dict[str, Any]) -> pd.DataFrame:
    """A model's predictions as one row per patient.

    Args:
        fit: the fitted model; only ``fit.classes`` (diagnosis class names) is read, and only when
            ``pred`` has ``proba``.
        pred: ``risk`` [N], ``survival`` [N, K] (survival at the end of discrete bin k) and,
            with a diagnosis head, ``proba`` [N, C].

    Returns:
        Columns ``risk``, ``surv_0`` .. ``surv_<K-1>`` and, with a diagnosis head, ``p_<class>``.
    """
    out = pd.DataFrame({"risk": pred["risk"]})
    for k in range(pred["survival"].shape[1]):
        out[f"surv_{k}"] = pred["survival"][:, k]
    if "proba" in pred:
        for j, c in enumerate(fit.classes):
            out[f"p_{c}"] = pred["proba"][:, j]
    return out
