"""Per-fold and pooled metrics of cross-validated risk predictions, for every model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from clinfusion.evaluation.bootstrap import harrell_c_ci
from clinfusion.evaluation.diagnosis import diagnosis_metrics
from clinfusion.evaluation.survival import (
    eval_times,
    harrell_c,
    ibs,
    risk_groups,
    risk_to_survival,
    td_auc,
    uno_c,
)

Outcomes = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""ids -> (time in days, event, diagnosis class index or -1)."""


def _nanmean(v: list[float]) -> float:
    a = np.asarray(v, float)
    return float(np.nanmean(a)) if np.isfinite(a).any() else float("nan")


def fold_metrics(pred: Any, outcomes: Outcomes) -> dict[str, float]:
    """Metrics of one model on one fold (``pred`` has train/test ids, risks and optional proba)."""
    from sksurv.exceptions import NoComparablePairException

    t_tr, e_tr, _ = outcomes(pred.train_ids)
    t_te, e_te, d_te = outcomes(pred.test_ids)
    times = eval_times(t_tr, e_tr, t_te)
    out = {"cindex": harrell_c(t_te, e_te, pred.test_risk), "uno_c": float("nan"), "td_auc": float("nan"), "ibs": float("nan")}
    try:
        out["uno_c"] = uno_c(t_tr, e_tr, t_te, e_te, pred.test_risk, tau=float(times[-1]) if len(times) else None)
        out["td_auc"] = td_auc(t_tr, e_tr, t_te, e_te, pred.test_risk, times)
        surv = risk_to_survival(pred.train_risk, t_tr, e_tr, pred.test_risk, times)
        out["ibs"] = ibs(t_tr, e_tr, t_te, e_te, surv, times)
    except (ValueError, NoComparablePairException):  # tiny folds: horizons outside follow-up, no pairs -> NaN
        pass
    out["logrank_p"] = risk_groups(pred.train_risk, t_te, e_te, pred.test_risk).logrank_p
    if pred.test_proba is not None:
        out.update(diagnosis_metrics(d_te, pred.test_proba))
    return out


def pooled_risk(preds: Sequence[Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Test risks of all folds on one scale (z-scored with each fold's training risks) and high-risk flags
    (above the fold's training median)."""
    ids, risk, high = [], [], []
    for p in preds:
        mu, sd = p.train_risk.mean(), p.train_risk.std() or 1.0
        ids += list(p.test_ids)
        risk.append((p.test_risk - mu) / sd)
        high.append(p.test_risk > np.median(p.train_risk))
    return ids, np.concatenate(risk), np.concatenate(high)


def summarize(predictions: Sequence[Any], outcomes: Outcomes, n_boot: int = 200, seed: int = 0) -> dict[str, dict[str, Any]]:
    """``{model: {"cindex": [per fold], "cindex_mean", "cindex_sd", "uno_c_mean", "td_auc_mean",
    "ibs_mean", "logrank_p": [per fold], "cindex_pooled", "cindex_pooled_ci95", "auroc_mean", ...}}``."""
    models = list(dict.fromkeys(p.model for p in predictions))
    out: dict[str, dict[str, Any]] = {}
    for name in models:
        preds = sorted((p for p in predictions if p.model == name), key=lambda p: p.fold)
        rows = [fold_metrics(p, outcomes) for p in preds]
        c = [r["cindex"] for r in rows]
        res: dict[str, Any] = {"cindex": c, "cindex_mean": _nanmean(c), "cindex_sd": float(np.nanstd(c, ddof=1)) if len(c) > 1 else 0.0}
        for key in ("uno_c", "td_auc", "ibs"):
            res[f"{key}_mean"] = _nanmean([r[key] for r in rows])
        res["logrank_p"] = [r["logrank_p"] for r in rows]
        if "auroc" in rows[0]:
            for key in ("auroc", "auprc", "balanced_accuracy"):
                res[f"{key}_mean"] = _nanmean([r[key] for r in rows])
        ids, risk, _ = pooled_risk(preds)
        t, e, _ = outcomes(ids)
        res["cindex_pooled"] = harrell_c(t, e, risk)
        if n_boot:
            res["cindex_pooled_ci95"] = list(harrell_c_ci(t, e, risk, n_boot=n_boot, seed=seed))
        out[name] = res
    return out
