"""Registry of candidate models behind one protocol: every results row and every stack candidate.

A :class:`Candidate` fits on a training fold and returns a picklable :class:`Fitted` whose
``risk(data, ids)`` scores any patients (test fold, inner held-out part, or new patients given as
token bundles through :func:`cohort_from_bundles`). The fusion architectures of
``clinfusion.training.architectures`` (``ARCHITECTURES``, when that module exists) join through
:func:`registry`.

Names: ``fusion``; ``unimodal_<m>`` (one fusion model per modality); ``clinical_cox`` (ridge Cox on
the clinical covariates); ``coxnet`` / ``rsf`` / ``concat_mlp`` (all pooled modalities + clinical);
``coxnet_clinical`` / ``rsf_clinical`` (clinical only); ``coxnet_genomics_clinical`` (pooled
genomics + clinical, the clinical columns unpenalised); ``rsf_clinical_genes`` (clinical + the
:data:`TOP_GENES` most variable pooled genomics columns, selected on the training fold);
``gb_survival`` (gradient-boosted Cox trees, all features); ``late_fusion`` (mean of the z-scored
unimodal fusion risks and the clinical Cox).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from clinfusion.featurize.tokens import TokenSet
from clinfusion.training.config import TrainConfig
from clinfusion.training.dataset import CohortData

TOP_GENES = 50
"""Pooled genomics columns of largest training-fold variance kept by ``rsf_clinical_genes``."""
FUSION = "fusion"
LATE = "late_fusion"


class Fitted(Protocol):
    """A model fitted on a training fold (picklable: the served stack pickles its members)."""

    name: str

    def risk(self, data: CohortData, ids: Sequence[str]) -> np.ndarray:
        """Risk scores ``[len(ids)]``, higher = higher hazard."""
        ...


class Candidate(Protocol):
    """Fits one kind of model on ``train_ids``; ``inner_val`` (bool ``[len(train_ids)]``, True = rows
    for early stopping / tuning) is the shared inner split, None: the candidate makes its own."""

    name: str

    def fit(self, data: CohortData, train_ids: list[str], config: TrainConfig, inner_val: np.ndarray | None) -> Fitted: ...


def inner_mask(data: CohortData, train_ids: Sequence[str], config: TrainConfig) -> np.ndarray:
    """The inner early-stopping split of a training fold as a mask (the fusion trainer's own split)."""
    from clinfusion.training.trainer import _inner_split

    _, va = _inner_split(data, list(train_ids), config.optim.inner_val_fraction, config.seed)
    return np.isin(np.array(list(train_ids)), va)


# --- fusion-type candidates ----------------------------------------------------------------------------------------


@dataclass
class FusionFitted:
    """A :class:`~clinfusion.training.trainer.FittedFusion` as a candidate."""

    name: str
    fit: Any

    def risk(self, data: CohortData, ids: Sequence[str]) -> np.ndarray:
        from clinfusion.training.trainer import predict_fusion

        return np.asarray(predict_fusion(self.fit, data, list(ids))["risk"], float)

    def predict(self, data: CohortData, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Every fusion output (risk, survival, embedding, proba) of :func:`predict_fusion`."""
        from clinfusion.training.trainer import predict_fusion

        return predict_fusion(self.fit, data, list(ids))


@dataclass(frozen=True)
class FusionCandidate:
    """The GNN + transformer fusion model (``modality`` set: a unimodal model without the wide path)."""

    name: str = FUSION
    modality: str | None = None

    def fit(self, data: CohortData, train_ids: list[str], config: TrainConfig, inner_val: np.ndarray | None) -> Fitted:
        from clinfusion.training.trainer import train_fusion

        if self.modality is None:
            return FusionFitted(self.name, train_fusion(data, train_ids, config))
        base = config.candidate({}) if config.select else config  # inner-fold selection tunes the fusion model only
        return FusionFitted(self.name, train_fusion(data, train_ids, base, modalities=[self.modality], wide=False))


# --- classical candidates ------------------------------------------------------------------------------------------


@dataclass
class ClassicalFitted:
    """Fitted flat features and a classical model with ``risk(x)``."""

    name: str
    features: Any
    model: Any

    def risk(self, data: CohortData, ids: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.risk(self.features.transform(data, list(ids))), float)


Maker = Callable[[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray, TrainConfig], Any]
"""(features, x [N, F], time, event, inner_val mask, config) -> fitted model with ``risk(x)``."""


def _cox(feat, x, t, e, iv, cfg):
    from clinfusion.models.baselines import PenalizedCox

    return PenalizedCox(0.1).fit(x, t, e)


def _coxnet(feat, x, t, e, iv, cfg):
    from clinfusion.models.baselines import CoxNet

    return CoxNet().fit(x, t, e, iv)


def _coxnet_unpenalised_clinical(feat, x, t, e, iv, cfg):
    from clinfusion.models.baselines import CoxNet

    factor = np.ones(x.shape[1])
    factor[x.shape[1] - feat.n_clinical:] = 0.0  # clinical columns come last: the standard omics-on-top-of-clinical model
    return CoxNet(penalty_factor=factor).fit(x, t, e, iv)


def _rsf(feat, x, t, e, iv, cfg):
    from clinfusion.models.baselines import SurvivalForest

    return SurvivalForest(seed=cfg.seed).fit(x, t, e)


def _gbst(feat, x, t, e, iv, cfg):
    from clinfusion.models.baselines import BoostedSurvival

    return BoostedSurvival(seed=cfg.seed).fit(x, t, e)


def _mlp(feat, x, t, e, iv, cfg):
    from clinfusion.models.baselines import CoxMLP

    return CoxMLP(seed=cfg.seed).fit(x, t, e, iv)


@dataclass(frozen=True)
class ClassicalCandidate:
    """A classical model on :class:`~clinfusion.training.tabular_features.TabularFeatures`.

    Attributes:
        modalities: ``"all"`` (every token modality), ``"genomics"`` or ``"none"``.
        clinical: append the clinical covariates; top_variance: keep that many pooled columns.
        needs_clinical: the candidate is meaningless without covariates (skipped then).
    """

    name: str
    make: Maker
    modalities: str = "all"
    clinical: bool = True
    top_variance: int | None = None
    needs_clinical: bool = False

    def applies(self, data: CohortData) -> bool:
        """Whether the cohort has what this candidate needs (covariates, genomics tokens)."""
        if self.needs_clinical and not data.covariates.shape[1]:
            return False
        if self.modalities == "genomics":
            return "genomics" in data.tokens
        return self.modalities != "all" or bool(data.tokens) or bool(data.covariates.shape[1])

    def fit(self, data: CohortData, train_ids: list[str], config: TrainConfig, inner_val: np.ndarray | None) -> Fitted:
        from clinfusion.training.tabular_features import TabularFeatures

        mods = {"all": data.modalities, "genomics": ["genomics"], "none": []}[self.modalities]
        feat = TabularFeatures.fit(data, train_ids, mods, self.clinical, self.top_variance)
        ix = data.index(train_ids)
        iv = inner_mask(data, train_ids, config) if inner_val is None else inner_val
        model = self.make(feat, feat.transform(data, train_ids), data.time[ix], data.event[ix], iv, config)
        return ClassicalFitted(self.name, feat, model)


# --- late fusion ---------------------------------------------------------------------------------------------------


@dataclass
class LateFusionFitted:
    """Mean of its parts' risks, each z-scored with its own training-fold risks."""

    name: str
    parts: list[Any]
    mean: list[float] = field(default_factory=list)
    sd: list[float] = field(default_factory=list)

    @classmethod
    def from_parts(cls, parts: Sequence[Fitted], data: CohortData, train_ids: Sequence[str]) -> LateFusionFitted:
        out = cls(LATE, list(parts))
        for p in parts:
            r = p.risk(data, train_ids)
            out.mean.append(float(r.mean()))
            out.sd.append(float(r.std()) or 1.0)
        return out

    def risk(self, data: CohortData, ids: Sequence[str]) -> np.ndarray:
        z = [(p.risk(data, ids) - mu) / sd for p, mu, sd in zip(self.parts, self.mean, self.sd, strict=True)]
        return np.mean(z, 0)


def late_fusion_parts(data: CohortData, config: TrainConfig) -> list[str]:
    """The candidates late fusion averages: ``unimodal_<m>`` (``config.unimodal`` or every modality)
    and ``clinical_cox`` when there are covariates."""
    mods = [m for m in data.modalities if config.unimodal is None or m in config.unimodal]
    return [f"unimodal_{m}" for m in mods] + (["clinical_cox"] if data.covariates.shape[1] else [])


@dataclass(frozen=True)
class LateFusionCandidate:
    """Late fusion, fitting its parts (use :func:`fit_candidates` to reuse already fitted parts)."""

    name: str = LATE

    def fit(self, data: CohortData, train_ids: list[str], config: TrainConfig, inner_val: np.ndarray | None) -> Fitted:
        parts = [get(n).fit(data, train_ids, config, inner_val) for n in late_fusion_parts(data, config)]
        return LateFusionFitted.from_parts(parts, data, train_ids)


CANDIDATES: dict[str, Any] = {
    FUSION: FusionCandidate(),
    "clinical_cox": ClassicalCandidate("clinical_cox", _cox, modalities="none", needs_clinical=True),
    "coxnet": ClassicalCandidate("coxnet", _coxnet),
    "coxnet_clinical": ClassicalCandidate("coxnet_clinical", _coxnet, modalities="none", needs_clinical=True),
    "coxnet_genomics_clinical": ClassicalCandidate("coxnet_genomics_clinical", _coxnet_unpenalised_clinical,
                                                   modalities="genomics", needs_clinical=True),
    "rsf": ClassicalCandidate("rsf", _rsf),
    "rsf_clinical": ClassicalCandidate("rsf_clinical", _rsf, modalities="none", needs_clinical=True),
    "rsf_clinical_genes": ClassicalCandidate("rsf_clinical_genes", _rsf, modalities="genomics", top_variance=TOP_GENES,
                                             needs_clinical=True),
    "gb_survival": ClassicalCandidate("gb_survival", _gbst),
    "concat_mlp": ClassicalCandidate("concat_mlp", _mlp),
    LATE: LateFusionCandidate(),
}
"""The built-in candidates (``unimodal_<m>`` are made on demand by :func:`get`)."""


def architectures() -> dict[str, Any]:
    """``clinfusion.training.architectures.ARCHITECTURES`` when that module exists, else ``{}``."""
    try:
        mod = importlib.import_module("clinfusion.training.architectures")
    except ModuleNotFoundError as err:
        if err.name != "clinfusion.training.architectures":
            raise
        return {}
    return dict(getattr(mod, "ARCHITECTURES", {}))


def registry() -> dict[str, Any]:
    """Every registered candidate: built-ins then architectures."""
    return {**CANDIDATES, **architectures()}


def known_names() -> set[str]:
    """Names valid in ``stack.candidates`` and ``default_model`` (besides ``unimodal_<m>`` and ``stack``)."""
    return set(registry())


def get(name: str) -> Any:
    """The candidate called ``name`` (``unimodal_<m>`` included).

    Raises:
        KeyError: unknown name (listing the known ones).
    """
    if name.startswith("unimodal_"):
        return FusionCandidate(name, modality=name[len("unimodal_"):])
    reg = registry()
    if name not in reg:
        raise KeyError(f"unknown candidate {name!r}; known: {sorted(reg)} and unimodal_<modality>")
    return reg[name]


def applies(name: str, data: CohortData, config: TrainConfig) -> bool:
    """Whether candidate ``name`` can be fitted on this cohort (e.g. no clinical Cox without covariates)."""
    if name.startswith("unimodal_"):
        return name[len("unimodal_"):] in data.tokens
    if name == LATE:
        return len(late_fusion_parts(data, config)) >= 2
    cand = get(name)
    return cand.applies(data) if hasattr(cand, "applies") else True


def fit_candidates(data: CohortData, train_ids: list[str], config: TrainConfig, inner_val: np.ndarray | None,
                   names: Sequence[str], reuse: Mapping[str, Fitted] | None = None) -> dict[str, Fitted]:
    """Fit each of ``names`` on ``train_ids`` (in order), reusing fits in ``reuse`` and each other
    (late fusion is built from the unimodal and clinical Cox fits when those are fitted too).

    Returns:
        ``{name: Fitted}`` for ``names`` (and late fusion's parts when they had to be fitted).
    """
    out: dict[str, Fitted] = dict(reuse or {})
    for name in names:
        if name in out:
            continue
        if name == LATE:
            for part in late_fusion_parts(data, config):
                if part not in out:
                    out[part] = get(part).fit(data, train_ids, config, inner_val)
            out[name] = LateFusionFitted.from_parts([out[p] for p in late_fusion_parts(data, config)], data, train_ids)
        else:
            out[name] = get(name).fit(data, train_ids, config, inner_val)
    return out


def cohort_from_bundles(bundles: Sequence[Mapping[str, TokenSet]], covariates: pd.DataFrame | None,
                        modalities: Sequence[str] = (), covariate_types: Mapping[str, Any] | None = None) -> CohortData:
    """New patients (no outcome) as a :class:`CohortData` for :meth:`Fitted.risk`: ids ``new_<i>``,
    time NaN, event 0; every modality of ``modalities`` and of the bundles is a key of ``tokens``
    (possibly empty). Fitted models carry their own fitted encoders, so ``covariate_types`` only
    matters to code that fits."""
    from clinfusion.graph.cache import EdgeCache

    ids = [f"new_{i}" for i in range(len(bundles))]
    mods = list(dict.fromkeys([*modalities, *(m for b in bundles for m in b)]))
    tokens = {m: {p: b[m] for p, b in zip(ids, bundles, strict=True) if m in b} for m in mods}
    cov = covariates.reset_index(drop=True) if covariates is not None else pd.DataFrame(index=range(len(ids)))
    n = len(ids)
    return CohortData(ids, np.full(n, np.nan), np.zeros(n, int), np.full(n, -1), [], cov, tokens, EdgeCache(),
                      covariate_types=dict(covariate_types or {}))
