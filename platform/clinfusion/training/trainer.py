"""Deterministic CPU training of the fusion model on one training fold, with early stopping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.cohort.splits import stratified_kfold
from clinfusion.errors import ConfigError
from clinfusion.featurize.tokens import TokenSet
from clinfusion.models.losses import bin_index, survival_bin_edges
from clinfusion.tabular import TabularEncoder
from clinfusion.training.config import TrainConfig
from clinfusion.training.dataset import CohortData
from clinfusion.training.flat import fit_covariates, fit_pooled, pool_bundles
from clinfusion.training.graphs import patient_graphs
from clinfusion.training.preprocess import TokenStandardizer


@dataclass
class FittedFusion:
    """A trained fusion model with everything fitted on its training fold.

    Attributes:
        model: the torch module (eval mode).
        modalities / dims: its modality order and token dims.
        standardizer / covariates: fitted preprocessing (``covariates`` None: no wide path).
        bin_edges: discrete-time bin edges in days; classes: diagnosis classes.
        config: the training config; history: per-epoch losses.
        flat: encoder (:class:`~clinfusion.tabular.TabularEncoder`) of the pooled tokens of the wide path (``model.wide_tokens``), else None.
        selection: with ``config.select``, every candidate's override and inner-validation
            C-index, the chosen one flagged.
        oof_risk: with an ensemble, each training patient's risk from the member that held it
            out (inner out-of-fold; used to select candidates on the whole training fold).
    """

    model: Any
    modalities: list[str]
    dims: dict[str, int]
    standardizer: TokenStandardizer
    covariates: TabularEncoder | None
    bin_edges: np.ndarray
    classes: list[str]
    config: TrainConfig
    history: list[dict[str, float]] = field(default_factory=list)
    selection: list[dict[str, Any]] = field(default_factory=list)
    flat: TabularEncoder | None = None
    oof_risk: dict[str, float] = field(default_factory=dict)

    @property
    def n_wide(self) -> int:
        return (self.covariates.width if self.covariates else 0) + (self.flat.width if self.flat else 0)

    def wide_matrix(self, bundles: Sequence[Mapping[str, TokenSet]], covariates: pd.DataFrame | None) -> np.ndarray | None:
        """Inputs of the wide path: encoded covariates, then (``wide_tokens``) the scaled pooled tokens."""
        parts = []
        if self.covariates is not None and covariates is not None:
            parts.append(self.covariates.transform(covariates))
        if self.flat is not None:
            parts.append(self.flat.transform(pool_bundles(bundles, self.modalities, self.dims)).astype(np.float32))
        return np.concatenate(parts, 1).astype(np.float32) if parts else None

    def spec(self) -> dict[str, Any]:
        """JSON description from which :func:`rebuild` recreates the model (weights aside)."""
        return {
            "modalities": self.modalities, "dims": self.dims, "standardizer": self.standardizer.to_dict(),
            "covariates": None if self.covariates is None else self.covariates.to_dict(),
            "flat": None if self.flat is None else self.flat.to_dict(),
            "bin_edges": [float(e) if np.isfinite(e) else "inf" for e in self.bin_edges],
            "classes": self.classes, "config": self.config.model_dump(mode="json"),
        }


def _new_model(spec_dims: dict[str, int], n_cov: int, n_classes: int, config: TrainConfig) -> Any:
    from clinfusion.models.fusion import FusionModel

    return FusionModel(spec_dims, n_covariates=n_cov, n_classes=n_classes, config=config.model)


def rebuild(spec: Mapping[str, Any], state_dict: Mapping[str, Any]) -> FittedFusion:
    """A :class:`FittedFusion` from :meth:`FittedFusion.spec` and the model's state dict."""
    from clinfusion.training.config import TrainConfig

    config = TrainConfig.model_validate(spec["config"])
    cov = None if spec["covariates"] is None else TabularEncoder.from_dict(spec["covariates"])
    flat = TabularEncoder.from_dict(spec["flat"]) if spec.get("flat") else None
    n_classes = len(spec["classes"]) if len(spec["classes"]) > 1 else 0
    edges = np.array([np.inf if e == "inf" else e for e in spec["bin_edges"]], dtype=float)
    fit = FittedFusion(None, list(spec["modalities"]), dict(spec["dims"]), TokenStandardizer.from_dict(spec["standardizer"]),
                       cov, edges, list(spec["classes"]), config, flat=flat)
    fit.model = _assemble([_new_model(fit.dims, fit.n_wide, n_classes, config) for _ in range(config.optim.ensemble)], config)
    fit.model.load_state_dict(state_dict)
    fit.model.eval()
    return fit


def _inner_split(data: CohortData, ids: Sequence[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    k = max(2, round(1 / fraction))
    ev = data.event[data.index(ids)]
    inner = stratified_kfold(list(ids), list(ev), k=k, seed=seed + 7919)[0]
    return list(inner.train), list(inner.val)


def _dropout_score(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Informative-dropout score in [0, 1]: high for early events (rank of shortness of survival)."""
    rank = pd.Series(-time).rank(pct=True).to_numpy()
    return (rank * np.where(event == 1, 1.0, 0.5)).astype(np.float32)


def _bundles(data: CohortData, ids: Sequence[str], modalities: Sequence[str]) -> list[dict[str, TokenSet]]:
    return [{m: data.tokens[m][p] for m in modalities if p in data.tokens[m]} for p in ids]


def _graphs(fit: FittedFusion, data: CohortData, ids: Sequence[str]) -> list[Any]:
    ix = data.index(ids)
    bundles = _bundles(data, ids, fit.modalities)
    cov = fit.wide_matrix(bundles, data.covariates.iloc[ix])
    targets = {
        "time": data.time[ix].astype(np.float32), "event": data.event[ix].astype(np.float32),
        "bin": bin_index(data.time[ix], fit.bin_edges), "diagnosis": data.diagnosis[ix],
        "dscore": _dropout_score(data.time[ix], data.event[ix]),
    }
    return patient_graphs(bundles, fit.modalities, fit.standardizer, fit.config.graph, cov, targets, data.edge_cache)


def _targets(batch: Any) -> dict[str, Any]:
    hub = batch["patient"]
    return {"time": hub.time, "event": hub.event, "bin": hub.bin, "diagnosis": hub.diagnosis}


def _loss_weights(config: TrainConfig, n_classes: int) -> dict[str, float]:
    w = config.loss
    return {"cox": w.cox, "discrete": w.discrete, "diagnosis": w.diagnosis if n_classes > 1 else 0.0}


def _fit_loop(fit: FittedFusion, model: Any, train: list[Any], val: list[Any], member: int = 0) -> None:
    """Train ``model`` (``fit.model`` or one ensemble member) on ``train`` graphs, early-stopped on
    ``val``; per-epoch losses go to ``fit.history`` tagged with ``member``."""
    import torch

    from clinfusion.graph import graph_loader
    from clinfusion.models.early_stopping import EarlyStopping
    from clinfusion.models.losses import multitask_loss

    cfg = fit.config
    weights = _loss_weights(cfg, len(fit.classes))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed + member)
    loader = graph_loader(train, fit.dims, cfg.optim.batch_size, shuffle=True, seed=cfg.seed + member)
    val_batch = next(iter(graph_loader(val, fit.dims, 0)))
    stopper = EarlyStopping(model, patience=cfg.optim.patience)
    for epoch in range(cfg.optim.epochs):
        model.train()
        total = 0.0
        for batch in loader:
            out = model(batch, generator=gen, dropout_score=batch["patient"].dscore)
            loss, _ = multitask_loss(out, _targets(batch), weights, nll_alpha=cfg.loss.nll_alpha)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        model.eval()
        with torch.no_grad():
            vloss, _ = multitask_loss(model(val_batch), _targets(val_batch), weights, nll_alpha=cfg.loss.nll_alpha)
        fit.history.append({"member": member, "epoch": epoch, "train_loss": total / max(len(loader), 1), "val_loss": float(vloss)})
        if stopper.step(float(vloss)):
            break
    stopper.restore()
    model.eval()


def train_fusion(data: CohortData, train_ids: Sequence[str], config: TrainConfig,
                 modalities: Sequence[str] | None = None, wide: bool = True) -> FittedFusion:
    """Fit preprocessing and the fusion model on ``train_ids`` (early stopping on an inner split).

    Deterministic for a fixed ``config.seed`` on CPU: seeded init, batch order, modality dropout.

    Args:
        data: the cohort.
        train_ids: the training fold.
        config: training config.
        modalities: subset of ``data.modalities`` (unimodal models); default all.
        wide: use the clinical covariates' linear path (when the config enables it).
    """
    import torch

    if config.select:
        return _select(data, train_ids, config, modalities, wide)
    torch.set_num_threads(config.optim.threads)
    mods = list(modalities or data.modalities)
    ix = data.index(train_ids)
    use_cov = wide and config.model.wide and data.covariates.shape[1] > 0
    cov = fit_covariates(data, train_ids) if use_cov else None
    n_classes = len(data.classes) if config.loss.diagnosis > 0 and len(data.classes) > 1 else 0
    dims = {m: d for m, d in data.dims().items() if m in mods}
    fit = FittedFusion(None, mods, dims, TokenStandardizer.fit({m: data.tokens[m] for m in mods}, train_ids), cov,
                       survival_bin_edges(data.time[ix], data.event[ix], config.model.n_bins),
                       data.classes if n_classes else [], config)
    if wide and config.model.wide and config.model.wide_tokens:
        fit.flat = fit_pooled(pool_bundles(_bundles(data, train_ids, mods), mods, dims), mods, dims)
    members = []
    for j, (inner_train, inner_val) in enumerate(_member_splits(data, train_ids, config)):
        torch.manual_seed(config.seed + j)
        model = _new_model(dims, fit.n_wide, n_classes, config)
        if config.model.wide_init == "cox" and model.heads.cox_wide is not None:
            _warm_start_wide(fit, model, data, inner_train)
        _fit_loop(fit, model, _graphs(fit, data, inner_train), _graphs(fit, data, inner_val), member=j)
        members.append(model)
        if config.optim.ensemble > 1:
            fit.oof_risk.update(zip(inner_val, predict_model(fit, model, data, inner_val)["risk"], strict=True))
    fit.model = _assemble(members, config)
    return fit


def _member_splits(data: CohortData, train_ids: Sequence[str], config: TrainConfig) -> list[tuple[list[str], list[str]]]:
    """(inner-train, inner-validation) ids per member: the ``inner_val_fraction`` split for one
    model, else the stratified ``optim.ensemble``-fold split of the training fold (its first fold
    is the single model's split when ``ensemble == round(1 / inner_val_fraction)``)."""
    k = config.optim.ensemble
    if k == 1:
        return [_inner_split(data, train_ids, config.optim.inner_val_fraction, config.seed)]
    ev = data.event[data.index(train_ids)]
    return [(list(s.train), list(s.val)) for s in stratified_kfold(list(train_ids), list(ev), k=k, seed=config.seed + 7919)]


def _assemble(members: list[Any], config: TrainConfig) -> Any:
    """The model itself, or a :class:`~clinfusion.models.ensemble.FusionEnsemble` of the members."""
    from clinfusion.models.ensemble import FusionEnsemble

    model = members[0] if config.optim.ensemble == 1 else FusionEnsemble(members)
    model.eval()
    return model


def _warm_start_wide(fit: FittedFusion, model: Any, data: CohortData, ids: Sequence[str]) -> None:
    """Set the wide Cox and hazard weights to a penalised linear Cox fitted on ``ids`` (zeros kept
    when lifelines does not converge)."""
    import torch
    from lifelines.exceptions import ConvergenceError

    from clinfusion.models.baselines import PenalizedCox

    ix = data.index(ids)
    x = fit.wide_matrix(_bundles(data, ids, fit.modalities), data.covariates.iloc[ix])
    assert x is not None, "warm start of the wide heads without wide inputs"  # callers check heads.cox_wide
    try:
        cox = PenalizedCox(fit.config.model.wide_penalizer).fit(x, data.time[ix], data.event[ix])
    except ConvergenceError:
        return
    beta = np.zeros(x.shape[1], dtype=np.float32)
    beta[cox.keep] = cox.model.params_.to_numpy()
    heads = model.heads
    with torch.no_grad():
        heads.cox_wide.weight.copy_(torch.from_numpy(beta)[None])
        heads.hazard_wide.weight.copy_(torch.from_numpy(beta)[None])


def _select(data: CohortData, train_ids: Sequence[str], config: TrainConfig, modalities: Sequence[str] | None,
            wide: bool) -> FittedFusion:
    """Train every ``config.select`` candidate and keep the one with the best inner Harrell C
    (ties: the earlier candidate): on the inner validation part for a single model, on the whole
    training fold's inner out-of-fold risks for an ensemble. Only the training fold is used;
    wide-only candidates are skipped for a model without covariates."""
    from clinfusion.evaluation import harrell_c

    _, inner_val = _inner_split(data, train_ids, config.optim.inner_val_fraction, config.seed)
    has_cov = wide and (data.covariates.shape[1] > 0 or config.model.wide_tokens)
    fits: list[FittedFusion] = []
    scores: list[dict[str, Any]] = []
    for override in config.select:
        cand = config.candidate(override)
        if not cand.model.deep and not (has_cov and cand.model.wide):
            continue
        fit = train_fusion(data, train_ids, cand, modalities, wide)
        ids, risk = (list(fit.oof_risk), list(fit.oof_risk.values())) if fit.oof_risk else \
            (inner_val, predict_fusion(fit, data, inner_val)["risk"])
        ix = data.index(ids)
        c = harrell_c(data.time[ix], data.event[ix], np.asarray(risk, float))
        fits.append(fit)
        scores.append({"override": override, "inner_cindex": round(float(c), 4), "chosen": False})
    if not fits:
        raise ConfigError("no select candidate applies (wide-only candidates need covariates)", field="select")
    chosen = max(range(len(scores)), key=lambda i: (scores[i]["inner_cindex"], -i))
    scores[chosen]["chosen"] = True
    fits[chosen].selection = scores
    return fits[chosen]


def predict_bundles(fit: FittedFusion, bundles: Sequence[Mapping[str, TokenSet]], covariates: pd.DataFrame | None,
                    model: Any = None) -> dict[str, np.ndarray]:
    """Predictions for patients given as token bundles (the pyfunc path).

    Args:
        model: the network to run (default ``fit.model``; one ensemble member during training).

    Returns:
        ``risk [N]``, ``survival [N, K]`` (at the bin ends), ``embedding [N, H]`` (``[N, k*H]`` for
        an ensemble of k) and, with a diagnosis head, ``proba [N, C]``.
    """
    import torch

    from clinfusion.graph import graph_loader
    from clinfusion.models.losses import discrete_risk

    model = fit.model if model is None else model
    cov = fit.wide_matrix(bundles, covariates)
    graphs = patient_graphs(bundles, fit.modalities, fit.standardizer, fit.config.graph, cov)
    model.eval()
    with torch.no_grad():
        out = model(next(iter(graph_loader(graphs, fit.dims, 0))))
    risk = out["risk"] if fit.config.risk_from == "cox" else discrete_risk(out["hazard_logits"])
    res = {"risk": risk.numpy().astype(float), "embedding": out["embedding"].numpy(),
           "survival": torch.cumprod(1 - torch.sigmoid(out["hazard_logits"]), 1).numpy()}
    if "diagnosis_logits" in out:
        res["proba"] = torch.softmax(out["diagnosis_logits"], 1).numpy()
    return res


def predict_fusion(fit: FittedFusion, data: CohortData, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """:func:`predict_bundles` for cohort patients."""
    return predict_model(fit, fit.model, data, ids)


def predict_model(fit: FittedFusion, model: Any, data: CohortData, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """:func:`predict_bundles` of ``model`` (with ``fit``'s preprocessing) for cohort patients."""
    cov = data.covariates.iloc[data.index(ids)] if fit.covariates is not None else None
    return predict_bundles(fit, _bundles(data, ids, fit.modalities), cov, model)
