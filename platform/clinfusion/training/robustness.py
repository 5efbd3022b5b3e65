"""Robustness (modalities removed / missing at test time) and per-patient modality contributions.

All functions score already-trained models; nothing here trains. Under cross-validation each fold's
model is evaluated on its own validation fold, so every number is out-of-sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.featurize.tokens import TokenSet
from clinfusion.training.dataset import CohortData
from clinfusion.training.trainer import FittedFusion, _bundles, _dropout_score, predict_bundles

PATTERNS = ("mcar", "mnar")


def _covariates(fit: FittedFusion, data: CohortData, ids: Sequence[str]) -> pd.DataFrame | None:
    return data.covariates.iloc[data.index(ids)] if fit.covariates is not None else None


def hide(bundles: Sequence[dict[str, TokenSet]], hidden: np.ndarray, modalities: Sequence[str]) -> list[dict[str, TokenSet]]:
    """Bundles without the modalities flagged in ``hidden [N, M]`` (absent, as a missing modality is)."""
    return [{m: ts for m, ts in b.items() if not hidden[i, modalities.index(m)]} for i, b in enumerate(bundles)]


def missing_mask(present: np.ndarray, rate: float, pattern: str, score: np.ndarray, seed: int) -> np.ndarray:
    """Which present modalities to hide: MCAR (each with probability ``rate``) or MNAR (probability
    ``rate * score / mean(score)``, clipped to 1: patients with early events lose modalities more
    often; the mean probability is about ``rate``). Uses outcomes, so it is a test-time stress test only.

    Shapes:
        present: ``[N, M]`` bool; score: ``[N]`` in [0, 1] (see ``_dropout_score``); output ``[N, M]`` bool.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    rng = np.random.default_rng(seed)
    p = np.full(present.shape[0], rate) if pattern == "mcar" else np.clip(rate * score / max(score.mean(), 1e-8), 0, 1)
    return present & (rng.random(present.shape) < p[:, None])


def _cindex(data: CohortData, ids: Sequence[str], risk: np.ndarray) -> float:
    from clinfusion.evaluation import harrell_c

    ix = data.index(ids)
    return float(harrell_c(data.time[ix], data.event[ix], risk))


def robustness(fit: FittedFusion, data: CohortData, ids: Sequence[str], rates: Sequence[float] = (0.3,),
               seed: int = 0) -> list[dict[str, Any]]:
    """C-index of ``fit`` on ``ids``: all modalities, each modality removed, MCAR/MNAR missingness.

    Returns:
        rows ``{"condition", "rate", "cindex"}``; ``condition`` is ``full``, ``without_<m>``, ``mcar``, ``mnar``.
    """
    mods = fit.modalities
    bundles, cov = _bundles(data, ids, mods), _covariates(fit, data, ids)
    present = np.array([[m in b for m in mods] for b in bundles], dtype=bool)
    rows = [{"condition": "full", "rate": 0.0, "cindex": _cindex(data, ids, predict_bundles(fit, bundles, cov)["risk"])}]
    for j, m in enumerate(mods):
        hidden = np.zeros_like(present)
        hidden[:, j] = True
        risk = predict_bundles(fit, hide(bundles, hidden, mods), cov)["risk"]
        rows.append({"condition": f"without_{m}", "rate": 1.0, "cindex": _cindex(data, ids, risk)})
    ix = data.index(ids)
    score = _dropout_score(data.time[ix], data.event[ix])
    for rate in rates:
        for pattern in PATTERNS:
            hidden = missing_mask(present, rate, pattern, score, seed)
            risk = predict_bundles(fit, hide(bundles, hidden, mods), cov)["risk"]
            rows.append({"condition": pattern, "rate": float(rate), "cindex": _cindex(data, ids, risk)})
    return rows


def contributions(fit: FittedFusion, data: CohortData, ids: Sequence[str]) -> pd.DataFrame:
    """Per patient: risk, the covariates' linear part, and per modality the leave-one-modality-out
    delta ``risk - risk(without m)`` (NaN when the patient lacks m) and the [CLS] attention weight.

    Returns:
        one row per patient: ``patient_id, risk, wide_risk, delta_<m>..., attention_<m>...``.
    """
    import torch

    from clinfusion.graph import graph_loader
    from clinfusion.training.graphs import patient_graphs

    mods = fit.modalities
    bundles, cov = _bundles(data, ids, mods), _covariates(fit, data, ids)
    x = fit.wide_matrix(bundles, cov)
    graphs = patient_graphs(bundles, mods, fit.standardizer, fit.config.graph, x)
    fit.model.eval()
    with torch.no_grad():
        out = fit.model(next(iter(graph_loader(graphs, fit.dims, 0))), explain=True)
    risk = out["risk"].numpy().astype(float)
    frame = pd.DataFrame({"patient_id": list(ids), "risk": risk, "wide_risk": out["wide_risk"].numpy().astype(float)})
    present = np.array([[m in b for m in mods] for b in bundles], dtype=bool)
    for j, m in enumerate(mods):
        hidden = np.zeros_like(present)
        hidden[:, j] = True
        without = predict_bundles(fit, hide(bundles, hidden, mods), cov)["risk"]
        frame[f"delta_{m}"] = np.where(present[:, j], risk - without, np.nan)
    att = out["modality_attention"].numpy().astype(float)
    for j, m in enumerate(mods):
        frame[f"attention_{m}"] = np.where(present[:, j], att[:, j], np.nan)
    return frame


def cv_robustness(fits: Sequence[FittedFusion], splits: Sequence[Any], data: CohortData, rates: Sequence[float] = (0.3,),
                  seed: int = 0) -> pd.DataFrame:
    """:func:`robustness` of each fold's model on its validation fold; one row per fold and condition."""
    rows = []
    for fit, split in zip(fits, splits, strict=True):
        rows += [{"fold": split.fold, **r} for r in robustness(fit, data, list(split.val), rates, seed + split.fold)]
    return pd.DataFrame(rows)


def cv_contributions(fits: Sequence[FittedFusion], splits: Sequence[Any], data: CohortData) -> pd.DataFrame:
    """:func:`contributions` of every patient from the model of the fold that held it out."""
    return pd.concat([contributions(fit, data, list(split.val)).assign(fold=split.fold)
                      for fit, split in zip(fits, splits, strict=True)], ignore_index=True)


def robustness_summary(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean C-index per condition over folds and its drop from ``full``: ``{"mcar@0.3": {...}, ...}``."""
    full = table[table.condition == "full"].cindex.mean()
    out = {}
    for (cond, rate), grp in table.groupby(["condition", "rate"], sort=False):
        key = cond if cond in ("full",) or cond.startswith("without_") else f"{cond}@{rate:g}"
        out[key] = {"cindex_mean": float(grp.cindex.mean()), "drop": float(full - grp.cindex.mean())}
    return out
