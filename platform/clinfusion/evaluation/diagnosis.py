"""Diagnosis metrics: AUROC, AUPRC (macro one-vs-rest for several classes), balanced accuracy."""

from __future__ import annotations

import numpy as np


def diagnosis_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Metrics of predicted class probabilities (scikit-learn).

    Args:
        y: class index per patient (``-1`` = unknown, ignored).
        proba: class probabilities.

    Shapes:
        y: ``[N]``; proba: ``[N, C]``.

    Returns:
        ``auroc``, ``auprc``, ``balanced_accuracy`` (NaN when only one class is present).
    """
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score

    y = np.asarray(y)
    keep = y >= 0
    y, proba = y[keep], np.asarray(proba)[keep]
    nan = {"auroc": float("nan"), "auprc": float("nan"), "balanced_accuracy": float("nan")}
    if len(np.unique(y)) < 2:
        return nan
    bacc = float(balanced_accuracy_score(y, proba.argmax(1)))
    if proba.shape[1] == 2:
        return {"auroc": float(roc_auc_score(y, proba[:, 1])), "auprc": float(average_precision_score(y, proba[:, 1])),
                "balanced_accuracy": bacc}
    onehot = np.eye(proba.shape[1])[y]
    present = onehot.sum(0) > 0
    return {
        "auroc": float(roc_auc_score(onehot[:, present], proba[:, present], average="macro")),
        "auprc": float(average_precision_score(onehot[:, present], proba[:, present], average="macro")),
        "balanced_accuracy": bacc,
    }
