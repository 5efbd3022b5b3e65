"""A registered model that is not the bare fusion network: the stack, or any single candidate.

:class:`ServableModel` wraps a :class:`~clinfusion.training.candidates.Fitted` (e.g. the
:class:`~clinfusion.training.stacking.FittedStack`) with what the served pyfunc and the review
app need besides a risk: survival probabilities at the fusion model's discrete-time bin ends
(``S(t|x) = exp(-H0(t) exp(risk))``, Breslow ``H0``: for the stack the meta Cox's baseline on the
inner out-of-fold risks, else the model's risks on its training patients), and the fusion
model's diagnosis probabilities when a fusion model is part of the training run. It pickles
(:mod:`clinfusion.tracking.pyfunc` logs it as ``model.pkl``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.featurize.tokens import TokenSet
from clinfusion.training.config import TrainConfig
from clinfusion.training.dataset import CohortData


@dataclass
class ServableModel:
    """What ``clinfusion train`` registers when ``default_model`` is not ``fusion``.

    Attributes:
        name: ``stack`` or the candidate's name.
        model: the fitted model (``risk(data, ids)``).
        times: ``[K]`` days at which survival is reported (``surv_<k>``).
        baseline: ``[K]`` baseline cumulative hazard at ``times``.
        fusion: the final fusion model (diagnosis probabilities), or None.
        modalities: every token modality the model may read (keys of the inputs' bundles).
        config: the training config; history: the fusion model's per-epoch losses (MLflow).
    """

    name: str
    model: Any
    times: np.ndarray
    baseline: np.ndarray
    fusion: Any
    modalities: list[str]
    config: TrainConfig
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        """Diagnosis classes of the ``p_<class>`` columns (the fusion model's; empty without one)."""
        return list(self.fusion.classes) if self.fusion is not None else []

    def predict(self, data: CohortData, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """``risk [N]``, ``survival [N, K]`` and, with a fusion diagnosis head, ``proba [N, C]``."""
        from clinfusion.training.trainer import predict_fusion

        risk = np.asarray(self.model.risk(data, list(ids)), float)
        out = {"risk": risk, "survival": np.exp(-np.outer(np.exp(np.clip(risk, -30, 30)), self.baseline))}
        if self.fusion is not None and self.classes:
            proba = predict_fusion(self.fusion, data, list(ids)).get("proba")
            if proba is not None:
                out["proba"] = proba
        return out

    def predict_bundles(self, bundles: Sequence[Mapping[str, TokenSet]], covariates: pd.DataFrame | None) -> dict[str, np.ndarray]:
        """:meth:`predict` for new patients given as token bundles and clinical covariates (the pyfunc path)."""
        from clinfusion.training.candidates import cohort_from_bundles

        data = cohort_from_bundles(bundles, covariates, self.modalities)
        return self.predict(data, data.patient_ids)


def report_times(time: np.ndarray, event: np.ndarray, n_bins: int) -> np.ndarray:
    """The fusion model's bin ends (event-time quantiles) with the open last bin closed at the
    longest training follow-up: ``[K]`` days."""
    from clinfusion.models.losses import survival_bin_edges

    ends = survival_bin_edges(time, event, n_bins)[1:]
    return np.where(np.isfinite(ends), ends, float(np.max(time)))


def make_servable(name: str, model: Any, data: CohortData, train_ids: Sequence[str], config: TrainConfig,
                  fusion: Any = None) -> ServableModel:
    """Wrap ``model`` (fitted on ``train_ids``) with its survival baseline (module docstring)."""
    from clinfusion.coxmath import breslow_cumhaz

    ix = data.index(list(train_ids))
    times = report_times(data.time[ix], data.event[ix], config.model.n_bins)
    if hasattr(model, "cumhaz"):
        baseline = model.cumhaz(times)
    else:
        baseline = breslow_cumhaz(model.risk(data, list(train_ids)), data.time[ix], data.event[ix], times)
    return ServableModel(name, model, times, baseline, fusion, list(data.modalities), config,
                         list(getattr(fusion, "history", []) or []))


def servable_fold_table(name: str, run: Any, data: CohortData, config: TrainConfig, ids: Sequence[str]) -> pd.DataFrame:
    """Every CV fold's ``name`` model (the stack or a candidate, with its fold's survival baseline
    and the fold's fusion model for diagnosis) on every patient, in the format of
    :func:`clinfusion.training.review_tables.fold_predictions_table` (``patient_id``, ``fold``,
    ``held_out``, ``risk``, ``surv_<k>``, ``p_<class>``)."""
    from clinfusion.training.outputs import predictions_frame
    from clinfusion.training.review_tables import stack_fold_frames

    per_fold = []
    for model, fusion, split in zip(run.fold_models(name), run.fusion_fits, run.splits, strict=True):
        served = make_servable(name, model, data, list(split.train), config, fusion)
        per_fold.append((split, predictions_frame(served, served.predict(data, list(ids)))))
    return stack_fold_frames(per_fold, ids)
