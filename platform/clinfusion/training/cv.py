"""Cross-validation: the fusion model, every baseline (:mod:`clinfusion.training.candidates`) and the
stack (:mod:`clinfusion.training.stacking`) on the same patient-level folds.

Each fold is one pure job (:func:`run_fold`: cohort + split + config -> :class:`FoldResult`, seeded
by ``config.seed`` alone), so folds can run in this process or on an executor (Ray tasks, see
``clinfusion.executors``) with the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from clinfusion.cohort.splits import Split, stratified_kfold
from clinfusion.errors import CohortSpecError
from clinfusion.training.config import STACK, TrainConfig
from clinfusion.training.dataset import CohortData
from clinfusion.training.trainer import FittedFusion


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
    calibration_train_risk: np.ndarray | None = None
    """Honest training risks ``[N_train]`` the survival baseline is fitted on (``evaluation.calibration``;
    the stack's inner out-of-fold risks); None: ``train_risk``."""


@dataclass
class FoldResult:
    """What one fold job returns: every model's predictions, the fold's fusion model, every fitted
    candidate with a row (``{name: Fitted}``) and the fold's :class:`~clinfusion.training.stacking.FittedStack`
    (None when ``stack.enabled`` is false)."""

    predictions: list[FoldPredictions]
    fusion_fit: FittedFusion
    fitted: dict[str, Any] = field(default_factory=dict)
    stack: Any = None


class FoldExecutor(Protocol):
    """Runs ``fn(shared, job)`` for each job, results in job order (``clinfusion.executors``)."""

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
    fitted: list[dict[str, Any]] = field(default_factory=list)
    stacks: list[Any] = field(default_factory=list)

    def fold_models(self, name: str) -> list[Any]:
        """Each fold's fitted ``name`` (a candidate or ``stack``), in the order of ``splits``."""
        return list(self.stacks) if name == STACK else [f[name] for f in self.fitted]


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


def row_names(data: CohortData, config: TrainConfig) -> list[str]:
    """The models with a results row: fusion, ``unimodal_<m>`` (with ``unimodal`` in baselines), the
    other enabled baselines and architectures that apply to the cohort, and ``default_model`` when it
    is a candidate (the stack is added by :func:`run_fold`)."""
    from clinfusion.training import candidates as cands

    names = [cands.FUSION]
    if "unimodal" in config.baselines:
        names += [f"unimodal_{m}" for m in data.modalities if config.unimodal is None or m in config.unimodal]
    names += [b for b in config.baselines if b not in ("unimodal", cands.LATE)]
    names += [cands.LATE] if cands.LATE in config.baselines else []
    if config.default_model != STACK:
        names.append(config.default_model)
    return [n for n in dict.fromkeys(names) if cands.applies(n, data, config)]


def run_fold(data: CohortData, split: Split, config: TrainConfig) -> FoldResult:
    """Fit every candidate with a row (:func:`row_names`) and the stack on the fold's training part
    and score both parts; preprocessing is fitted on the training part.

    Depends only on its arguments (every model is seeded from ``config.seed``), so the same fold
    gives the same risks in this process and in a worker.
    """
    import torch

    from clinfusion.training import candidates as cands
    from clinfusion.training.stacking import fit_stack, stack_names

    torch.set_num_threads(config.optim.threads)
    tr, te = list(split.train), list(split.val)
    rows = row_names(data, config)
    fitted = cands.fit_candidates(data, tr, config, cands.inner_mask(data, tr, config), rows)
    fusion = cast(cands.FusionFitted, fitted[cands.FUSION])  # FusionCandidate.fit returns a FusionFitted
    proba = fusion.predict(data, te).get("proba")
    out = [FoldPredictions(n, split.fold, tr, te, fitted[n].risk(data, tr), fitted[n].risk(data, te),
                           proba if n == cands.FUSION else None) for n in rows]
    stack = None
    if config.stack.enabled:
        stack = fit_stack(data, tr, config, stack_names(data, config, rows), fitted)
        out.append(FoldPredictions(STACK, split.fold, tr, te, stack.risk(data, tr), stack.risk(data, te), proba,
                                   calibration_train_risk=stack.oof_eta))
    return FoldResult(out, fusion.fit, {n: fitted[n] for n in rows}, stack)


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
        run.fitted.append(res.fitted)
        run.stacks.append(res.stack)
    return run
