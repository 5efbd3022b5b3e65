"""The super learner over the candidates, fitted inside one training fold (the test fold is never seen).

:func:`fit_stack` on training patients ``T``:

1. inner stratified (by event) ``stack.inner_folds``-fold split of ``T``; every candidate is fitted
   on each inner-training part (fusion-type candidates with ``stack.inner_override``, the cheap
   settings) and scores the inner held-out part: out-of-fold risks for every patient of ``T``;
2. each inner fit's risks are z-scored with that fit's own risks on its inner-training part;
3. the meta-learner (:func:`clinfusion.models.stack.fit_nonnegative_cox`) fits non-negative
   weights on the z-scored out-of-fold risks;
4. the candidates fitted on the whole of ``T`` (reused from the fold's results rows when given),
   z-scored with their own risks on ``T``, are combined with those weights.

Cost: ``inner_folds`` extra fits of every candidate per training fold (the refit on ``T`` is the
results row's fit, not repeated); a single candidate skips the inner folds (its weight is 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clinfusion.coxmath import breslow_cumhaz
from clinfusion.models.stack import Standardizer, fit_nonnegative_cox
from clinfusion.training import candidates as cands
from clinfusion.training.config import STACK, TrainConfig
from clinfusion.training.dataset import CohortData

FUSION_LIKE_PREFIXES = ("unimodal_",)
"""Candidates trained with ``stack.inner_override`` in the inner folds (besides fusion, late fusion
and the architectures): neural models whose full settings dominate the cost."""


@dataclass
class FittedStack:
    """Candidates fitted on the training patients, their z-score statistics and the meta weights.

    Attributes:
        members: ``{name: Fitted}`` with a non-zero weight.
        scale: ``{name: Standardizer}`` of each member's risks on the training patients.
        weights: ``{name: weight >= 0}`` of every candidate considered (zeros included).
        inner_cindex: each candidate's Harrell C of its inner out-of-fold risks (empty: no inner folds).
        dropped: ``{name: why}`` for candidates that could not be fitted in some inner fold.
        oof_eta / oof_time / oof_event: the meta-learner's combined out-of-fold risk and outcomes
            (for the Breslow baseline of :meth:`survival`).
    """

    members: dict[str, Any]
    scale: dict[str, Standardizer]
    weights: dict[str, float]
    inner_cindex: dict[str, float] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    oof_eta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    oof_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    oof_event: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    name: str = STACK

    def risk(self, data: CohortData, ids: Sequence[str]) -> np.ndarray:
        """``sum_c w_c * z_c(ids)``: ``[len(ids)]``."""
        out = np.zeros(len(ids))
        for n, fit in self.members.items():
            out += self.weights[n] * self.scale[n].apply(fit.risk(data, ids))
        return out

    def shares(self) -> dict[str, float]:
        """Weights normalised to sum to 1 (the report's "weight")."""
        total = sum(self.weights.values()) or 1.0
        return {n: round(w / total, 4) for n, w in self.weights.items()}

    def report(self) -> dict[str, Any]:
        """JSON: ``weights`` (shares), ``coefficients`` (raw meta Cox), ``inner_cindex``, ``dropped``."""
        return {"weights": self.shares(), "coefficients": {n: round(w, 4) for n, w in self.weights.items()},
                "inner_cindex": {n: round(c, 4) for n, c in self.inner_cindex.items()}, "dropped": self.dropped}

    def cumhaz(self, at: np.ndarray) -> np.ndarray:
        """Breslow baseline cumulative hazard ``[T]`` of the meta Cox on the out-of-fold risks."""
        return breslow_cumhaz(self.oof_eta, self.oof_time, self.oof_event, at)


def stack_names(data: CohortData, config: TrainConfig, rows: Sequence[str]) -> list[str]:
    """The candidates stacked: ``stack.candidates`` or (None) fusion + every results row except
    ``unimodal_*`` and the stack; those that do not apply to the cohort are left out."""
    names = list(config.stack.candidates) if config.stack.candidates is not None else \
        [cands.FUSION, *(r for r in rows if r not in (cands.FUSION, STACK) and not r.startswith("unimodal_"))]
    return [n for n in dict.fromkeys(names) if cands.applies(n, data, config)]


def _inner_config_for(name: str, config: TrainConfig, inner: TrainConfig) -> TrainConfig:
    fusion_like = name in (cands.FUSION, cands.LATE) or name.startswith(FUSION_LIKE_PREFIXES) or name in cands.architectures()
    return inner if fusion_like else config


def _inner_oof(data: CohortData, train_ids: list[str], config: TrainConfig, names: Sequence[str]
               ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Out-of-fold z-scored risks ``{name: [len(train_ids)]}`` of every candidate, and the dropped ones."""
    from clinfusion.cohort.splits import stratified_kfold

    ix = data.index(train_ids)
    k = int(min(config.stack.inner_folds, max(2, int(data.event[ix].sum())), len(train_ids) // 2))
    splits = stratified_kfold(train_ids, list(data.event[ix]), k=max(k, 2), seed=config.seed + 104729)
    pos = {p: i for i, p in enumerate(train_ids)}
    oof = {n: np.full(len(train_ids), np.nan) for n in names}
    dropped: dict[str, str] = {}
    inner = config.inner()
    for s in splits:
        tr, va = list(s.train), list(s.val)
        rows = [pos[p] for p in va]
        done: dict[str, Any] = {}  # this inner fold's fits, reused (late fusion's clinical Cox and unimodal parts)
        for n in names:
            if n in dropped:
                continue
            cfg = _inner_config_for(n, config, inner)
            try:
                done = cands.fit_candidates(data, tr, cfg, cands.inner_mask(data, tr, cfg), [n], reuse=done)
                fit = done[n]
                scale = Standardizer.fit(fit.risk(data, tr))
                oof[n][rows] = scale.apply(fit.risk(data, va))
            except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError) as err:  # tiny inner folds
                dropped[n] = f"inner fold {s.fold}: {type(err).__name__}: {err}"[:300]
    return {n: v for n, v in oof.items() if n not in dropped and np.isfinite(v).all()}, dropped


def fit_stack(data: CohortData, train_ids: Sequence[str], config: TrainConfig, names: Sequence[str],
              fitted: Mapping[str, Any] | None = None) -> FittedStack:
    """Fit the super learner on ``train_ids`` only (module docstring).

    Args:
        names: the candidates (see :func:`stack_names`).
        fitted: candidates already fitted on ``train_ids`` with the full config (the fold's rows);
            the others are fitted here.

    Raises:
        ValueError: no candidate.
    """
    from clinfusion.evaluation import harrell_c

    train_ids = list(train_ids)
    if not names:
        raise ValueError("stack: no candidate applies to this cohort (stack.candidates / baselines)")
    ix = data.index(train_ids)
    time, event = data.time[ix], data.event[ix]
    dropped: dict[str, str] = {}
    inner_c: dict[str, float] = {}
    if len(names) == 1:
        weights = {names[0]: 1.0}
    else:
        oof, dropped = _inner_oof(data, train_ids, config, names)
        kept = [n for n in names if n in oof]
        if not kept:
            raise ValueError(f"stack: every candidate failed in the inner folds: {dropped}")
        z = np.stack([oof[n] for n in kept], 1)
        inner_c = {n: float(harrell_c(time, event, oof[n])) for n in kept}
        beta = fit_nonnegative_cox(z, time, event, config.stack.ridge)
        if beta.sum() <= 1e-8:  # no candidate helps out of fold: fall back to the best one alone
            beta = np.array([1.0 if n == max(inner_c, key=inner_c.__getitem__) else 0.0 for n in kept])
        weights = {n: float(b) for n, b in zip(kept, beta, strict=True)}
    active = [n for n, w in weights.items() if w > 0]
    full = cands.fit_candidates(data, train_ids, config, cands.inner_mask(data, train_ids, config), active,
                                reuse={n: f for n, f in (fitted or {}).items() if n in active})
    members = {n: full[n] for n in active}
    scale = {n: Standardizer.fit(members[n].risk(data, train_ids)) for n in active}
    stack = FittedStack(members, scale, weights, inner_c, dropped)
    if len(names) > 1:
        stack.oof_eta = np.stack([oof[n] for n in weights], 1) @ np.array(list(weights.values()))
    else:
        stack.oof_eta = stack.risk(data, train_ids)
    stack.oof_time, stack.oof_event = time, event
    return stack
