"""Cross-validation: the fusion model and every baseline on the same patient-level folds.

Each fold is one pure job (:func:`run_fold`: cohort + split + config -> :class:`FoldResult`, seeded
by ``config.seed`` alone), so folds can run in this process or on an executor (Ray tasks, see
``clinfusion.retrain.executors``) with the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from clinfusion.cohort.splits import Split, stratified_kfold
from clinfusion.errors import CohortSpecError
from clinfusion.training.config import TrainConfig
from clinfusion.training.dataset import CohortData
from clinfusion.training.trainer import FittedFusion, _inner_split, predict_fusion, train_fusion


@dataclass
class FoldPredictions:
    """Risks of one model on one fold (train risks are kept to calibrate and group)."""

    model: str
    fold: int
    train_ids: list[str]
    test_ids: list[str]
    train_risk: np.ndarray
    test_risk: np.ndarray
    test_proba: np.ndarray | None = None


@dataclass
class FoldResult:
    """What one fold job returns: every model's predictions and the fold's fusion model."""

    predictions: list[FoldPredictions]
    fusion_fit: FittedFusion


class FoldExecutor(Protocol):
    """Runs ``fn(shared, job)`` for each job, results in job order (``clinfusion.retrain.executors``)."""

    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence[Any], shared: Any = None,
            num_cpus: int = 1) -> list[Any]: ...


@dataclass
class CVRun:
    """All predictions of a cross-validation, the fusion model of each fold and the splits, in the
    same order as ``fusion_fits`` (so each fold model's held-out patients are known: the review
    app serves their out-of-fold predictions)."""

    predictions: list[FoldPredictions] = field(default_factory=list)
    fusion_fits: list[FittedFusion] = field(default_factory=list)
    splits: list[Split] = field(default_factory=list)


def map_splits(splits: Sequence[Split], to_pseudonym: Callable[[str], str], known: set[str]) -> list[Split]:
    """Map raw-id split files to workspace pseudonyms, keeping patients that have outcomes.

    Raises:
        CohortSpecError: a fold keeps no training or validation patient.
    """
    out = []
    for s in splits:
        tr = tuple(p for p in map(to_pseudonym, s.train) if p in known)
        va = tuple(p for p in map(to_pseudonym, s.val) if p in known)
        if not tr or not va:
            raise CohortSpecError(f"fold {s.fold} has no usable patients after matching ids to the cohort", field=f"fold {s.fold}")
        out.append(Split(s.fold, tr, va))
    return out


def default_splits(data: CohortData, k: int, seed: int) -> list[Split]:
    """Stratified (by event) patient-level k-fold."""
    return stratified_kfold(data.patient_ids, list(data.event), k=k, seed=seed)


def read_splits(directory: Path, data: CohortData, ws_root: Path) -> list[Split]:
    """Provided split files (raw ids) mapped to pseudonyms with the workspace key."""
    from clinfusion.cohort.splits import read_split_dir
    from clinfusion.privacy import Pseudonymizer, load_key

    pz = Pseudonymizer(load_key(ws_root))
    return map_splits(read_split_dir(directory), pz.patient, set(data.patient_ids))


def _zscore(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = train.mean(), train.std() or 1.0
    return (train - mu) / sd, (test - mu) / sd


def _fusion_models(data, split, config) -> tuple[list[FoldPredictions], FittedFusion]:
    tr, te = list(split.train), list(split.val)
    out = []
    fit = train_fusion(data, tr, config)
    p_te = predict_fusion(fit, data, te)
    out.append(FoldPredictions("fusion", split.fold, tr, te, predict_fusion(fit, data, tr)["risk"], p_te["risk"], p_te.get("proba")))
    if "unimodal" in config.baselines or "late_fusion" in config.baselines:
        base = config.candidate({}) if config.select else config  # inner-fold selection tunes the fusion model only
        for m in [m for m in data.modalities if config.unimodal is None or m in config.unimodal]:
            uni = train_fusion(data, tr, base, modalities=[m], wide=False)
            out.append(FoldPredictions(f"unimodal_{m}", split.fold, tr, te, predict_fusion(uni, data, tr)["risk"],
                                       predict_fusion(uni, data, te)["risk"]))
    return out, fit


def _classical(data, split, config, inner_val: np.ndarray) -> list[FoldPredictions]:
    from clinfusion.models.baselines import CoxMLP, CoxNet, PenalizedCox, SurvivalForest
    from clinfusion.training.flat import FlatScaler, pooled_features
    from clinfusion.training.preprocess import CovariateEncoder

    tr, te = list(split.train), list(split.val)
    itr, ite = data.index(tr), data.index(te)
    t, e = data.time[itr], data.event[itr]
    cov = CovariateEncoder.fit(data.covariates.iloc[itr]) if data.covariates.shape[1] else None
    c_tr = cov.transform(data.covariates.iloc[itr]) if cov else np.zeros((len(tr), 0))
    c_te = cov.transform(data.covariates.iloc[ite]) if cov else np.zeros((len(te), 0))
    raw_tr, raw_te = pooled_features(data, tr, data.modalities), pooled_features(data, te, data.modalities)
    scaler = FlatScaler.fit(raw_tr)
    x_tr = np.concatenate([scaler.transform(raw_tr), c_tr], 1)
    x_te = np.concatenate([scaler.transform(raw_te), c_te], 1)
    models = {
        "clinical_cox": (lambda: PenalizedCox(0.1).fit(c_tr, t, e), c_tr, c_te, c_tr.shape[1] > 0),
        "coxnet": (lambda: CoxNet().fit(x_tr, t, e, inner_val), x_tr, x_te, True),
        "rsf": (lambda: SurvivalForest(seed=config.seed).fit(x_tr, t, e), x_tr, x_te, True),
        "concat_mlp": (lambda: CoxMLP(seed=config.seed).fit(x_tr, t, e, inner_val), x_tr, x_te, True),
    }
    out = []
    for name, (make, a, b, ok) in models.items():
        if name in config.baselines and ok:
            model = make()
            out.append(FoldPredictions(name, split.fold, tr, te, model.risk(a), model.risk(b)))
    return out


def _late_fusion(preds: list[FoldPredictions], modalities: Sequence[str]) -> FoldPredictions | None:
    """Mean of z-scored unimodal risks (and the clinical Cox when present), z-scored on the training fold."""
    parts = [p for p in preds if p.model.startswith("unimodal_") or p.model == "clinical_cox"]
    if len(parts) < 2:
        return None
    z = [_zscore(p.train_risk, p.test_risk) for p in parts]
    p0 = parts[0]
    return FoldPredictions("late_fusion", p0.fold, p0.train_ids, p0.test_ids, np.mean([a for a, _ in z], 0),
                           np.mean([b for _, b in z], 0))


def run_fold(data: CohortData, split: Split, config: TrainConfig) -> FoldResult:
    """Train and predict every model on one fold; preprocessing is fitted on its training part.

    Depends only on its arguments (every model is seeded from ``config.seed``), so the same fold
    gives the same risks in this process and in a worker.
    """
    import torch

    torch.set_num_threads(config.optim.threads)
    _, inner_va = _inner_split(data, list(split.train), config.optim.inner_val_fraction, config.seed)
    inner_val = np.isin(np.array(split.train), inner_va)
    fusion, fit = _fusion_models(data, split, config)
    fold = fusion + _classical(data, split, config, inner_val)
    late = _late_fusion(fold, data.modalities) if "late_fusion" in config.baselines else None
    fold += [late] if late else []
    if "unimodal" not in config.baselines:
        fold = [p for p in fold if not p.model.startswith("unimodal_")]
    return FoldResult(fold, fit)


def _fold_job(shared: tuple[CohortData, TrainConfig], split: Split) -> FoldResult:
    """:func:`run_fold` as an executor job (``shared`` = the cohort and config, sent once)."""
    data, config = shared
    return run_fold(data, split, config)


def run_cv(data: CohortData, splits: Sequence[Split], config: TrainConfig,
           progress: Callable[[str], None] | None = None, executor: FoldExecutor | None = None) -> CVRun:
    """Train and predict every model on every fold (:func:`run_fold`).

    Args:
        executor: None runs the folds here, one after the other; else one job per fold on it
            (each job uses ``config.optim.threads`` CPUs). Results are the same either way.
    """
    def say(split: Split) -> None:
        if progress:
            progress(f"fold {split.fold}: {len(split.train)} train / {len(split.val)} validation patients")

    if executor is None:
        results = []
        for split in splits:
            say(split)
            results.append(run_fold(data, split, config))
    else:
        for split in splits:
            say(split)
        results = executor.map(_fold_job, list(splits), shared=(data, config), num_cpus=config.optim.threads)
    run = CVRun(splits=list(splits))
    for res in results:
        run.predictions += res.predictions
        run.fusion_fits.append(res.fusion_fit)
    return run
