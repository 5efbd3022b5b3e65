"""The tracking-free parts of one experiment on a workspace: split choice, the final model on all
patients, explanations, the tables and params the run logs. :mod:`clinfusion.experiment` composes
them into ``train_workspace`` and logs the run to MLflow (it stands above ``tracking``; this module
does not import it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.training.config import STACK, TrainConfig
from clinfusion.training.cv import default_splits, read_splits
from clinfusion.training.dataset import CohortData


def fingerprint(ws) -> str:
    """Dataset fingerprint: hash of the catalog and of every token-cache index."""
    from clinfusion.workspace.hashing import combine_hashes, sha256_file

    parts = [("catalog", sha256_file(ws.catalog_path))]
    parts += [(str(p.relative_to(ws.root)), sha256_file(p)) for p in sorted(ws.tokens_dir.glob("*/*/index.json"))]
    return combine_hashes(parts)


def oracle(cohort_dir: Path | None) -> dict[str, float] | None:
    """The oracle C-index of a synthetic cohort (``truth/summary.json``), if any."""
    path = cohort_dir / "truth" / "summary.json" if cohort_dir else None
    if not path or not path.exists():
        return None
    s = json.loads(path.read_text())
    c = s.get("oracle_cindex", s.get("cindex"))
    return None if c is None else {"cindex": float(c)}


def choose_splits(ws, data: CohortData, config: TrainConfig, splits_dir: Path | None, folds: int | None):
    """``--splits DIR``, else the cohort's own ``splits/`` folder, else stratified k-fold.

    Returns:
        (splits, source description).
    """
    cohort_dir = Path(ws.manifest().get("cohort_dir", ""))
    own = cohort_dir / "splits"
    if splits_dir is not None:
        return read_splits(Path(splits_dir), data, ws.root), str(splits_dir)
    if folds is None and own.is_dir() and any(own.glob("splits_*.csv")):
        return read_splits(own, data, ws.root), str(own)
    k = folds or config.folds
    return default_splits(data, k, config.seed), f"stratified {k}-fold (seed {config.seed})"


def default_first(models: dict[str, Any], default: str) -> dict[str, Any]:
    """``models`` with ``default`` first (the results table and JSON list the default model first)."""
    return {**({default: models[default]} if default in models else {}), **models}


def stack_summary(run, names: list[str]) -> dict[str, Any]:
    """``weights`` (per fold, shares summing to 1), ``folds`` (per fold report: weights, raw meta
    coefficients, inner out-of-fold C of each candidate, dropped candidates) and ``candidates``."""
    return {"candidates": names, "weights": [s.shares() for s in run.stacks], "folds": [s.report() for s in run.stacks]}


def final_model(data: CohortData, config: TrainConfig) -> tuple[Any, Any]:
    """The registered model fitted on every patient, and the final fusion model (explanations, diagnosis).

    Returns:
        ``(served, fusion)``: ``served`` is the :class:`~clinfusion.training.trainer.FittedFusion`
        itself for ``default_model: fusion``, else a :class:`~clinfusion.training.servable.ServableModel`
        (the stack refitted on all patients with its own inner folds, or the named candidate).
    """
    from clinfusion.training import candidates as cands
    from clinfusion.training.cv import row_names
    from clinfusion.training.servable import make_servable
    from clinfusion.training.stacking import fit_stack, stack_names
    from clinfusion.training.trainer import train_fusion

    ids, name = list(data.patient_ids), config.default_model
    if name == cands.FUSION:
        fusion = train_fusion(data, ids, config)
        return fusion, fusion
    model: cands.Fitted
    if name == STACK:
        stack = fit_stack(data, ids, config, stack_names(data, config, row_names(data, config)))
        member = stack.members.get(cands.FUSION)
        fusion = member.fit if member is not None else train_fusion(data, ids, config)
        model = stack
    else:
        fusion = train_fusion(data, ids, config)
        model = cands.fit_candidates(data, ids, config, cands.inner_mask(data, ids, config), [name],
                                     reuse={cands.FUSION: cands.FusionFitted(cands.FUSION, fusion)})[name]
    return make_servable(name, model, data, ids, config, fusion), fusion


def training_labels(data: CohortData, overridden: dict[str, str]) -> pd.DataFrame:
    """The diagnosis label each patient was trained on and where it came from.

    Returns:
        ``patient_id`` (pseudonym), ``diagnosis`` (``""`` when unknown), ``label_source``
        (``clinical`` or ``override``: a clinician's review, provenance in ``label_overrides.csv``).
    """
    names = [data.classes[i] if i >= 0 else "" for i in data.diagnosis]
    return pd.DataFrame({"patient_id": data.patient_ids, "diagnosis": names,
                         "label_source": ["override" if p in overridden else "clinical" for p in data.patient_ids]})


def encoder_params(data: CohortData, ws: Any = None) -> dict[str, str]:
    """MLflow params of the token caches used: ``encoders.<m>`` (encoder), ``encoders.<m>.source``
    (configured / default / only cache), ``modalities.used`` and, given ``ws``, each cache's
    ``encoders.<m>.options.<k>`` / ``encoders.<m>.weights_sha256.<option>`` (featurize.cache.cache_params)."""
    from clinfusion.featurize.cache import cache_params

    out = {"modalities.used": ",".join(data.modalities) or "none"}
    for m, c in data.encoders.items():
        out[f"encoders.{m}"], out[f"encoders.{m}.source"] = c.encoder, c.source
        if ws is not None:
            out.update({f"encoders.{m}.{k}": v for k, v in cache_params(ws, m, c.encoder).items()})
    return out


def explain(data: CohortData, splits, run, result: dict[str, Any], seed: int) -> dict[str, pd.DataFrame]:
    """Out-of-fold robustness (each modality removed; 30% MCAR/MNAR at test time) and per-patient
    modality contributions of the fusion model; summaries go into ``result``.

    Returns:
        ``{"robustness.csv": per fold and condition, "contributions.csv": per patient}``.
    """
    from clinfusion.training.robustness import cv_contributions, cv_robustness, robustness_summary

    rob = cv_robustness(run.fusion_fits, splits, data, seed=seed)
    contrib = cv_contributions(run.fusion_fits, splits, data)
    result["robustness"] = robustness_summary(rob)
    result["contributions"] = {m: {"mean_abs_delta": float(contrib[f"delta_{m}"].abs().mean()),
                                   "mean_attention": float(contrib[f"attention_{m}"].mean())} for m in data.modalities}
    return {"robustness.csv": rob, "contributions.csv": contrib}


def fold_table(run, data: CohortData, config: TrainConfig, ids: list[str]) -> pd.DataFrame:
    """``fold_predictions.csv`` of the default model: each fold's model on every patient (see
    :func:`~clinfusion.training.review_tables.fold_predictions_table`), so the review app's
    out-of-fold predictions come from the registered kind of model."""
    from clinfusion.training.review_tables import fold_predictions_table
    from clinfusion.training.servable import servable_fold_table

    if config.default_model == "fusion":
        return fold_predictions_table(run.fusion_fits, run.splits, data, ids)
    return servable_fold_table(config.default_model, run, data, config, ids)
