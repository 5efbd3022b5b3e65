"""``clinfusion train`` as a library call: workspace -> CV of fusion, baselines and the stack -> results
(+ the default model, ``stack`` unless ``default_model`` says otherwise, fitted on all patients and
registered in MLflow)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.training.config import STACK, TrainConfig, flatten
from clinfusion.training.cv import FoldExecutor, default_splits, read_splits, run_cv
from clinfusion.training.dataset import CohortData, load_cohort, with_diagnosis


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


def train_workspace(ws, config: TrainConfig, *, splits_dir: Path | None = None, folds: int | None = None,
                    track: bool = True, tracking_uri: str | None = None,
                    progress: Callable[[str], None] | None = None,
                    label_overrides: dict[str, str] | None = None, executor: FoldExecutor | None = None) -> dict[str, Any]:
    """Cross-validate the fusion model and the baselines, fit the final model, log to MLflow.

    ``label_overrides`` (``{pseudonym: diagnosis}``, e.g. clinicians' review overrides) replace the
    clinical table's diagnosis of those patients. ``executor`` runs the CV folds (None: here, one
    after the other; e.g. a ``RayExecutor`` for one Ray task per fold, with the same results); the
    final model, the explanations and the MLflow run stay in this process.

    Returns:
        The results dict written by ``clinfusion train --json`` (see docs/training.md).
    """
    from clinfusion import __version__
    from clinfusion.evaluation import summarize

    data = load_cohort(ws, config.modalities, config.encoders, config.covariates)
    if progress:
        progress("modalities and encoders used: " + ("; ".join(c.describe() for c in data.encoders.values()) or "none"))
    known = set(data.patient_ids)
    applied = {p: str(v) for p, v in (label_overrides or {}).items() if p in known}
    if applied:
        data = with_diagnosis(data, applied)
    splits, source = choose_splits(ws, data, config, splits_dir, folds)
    run = run_cv(data, splits, config, progress, executor)

    def outcomes(ids):
        ix = data.index(ids)
        return data.time[ix], data.event[ix], data.diagnosis[ix]

    models = default_first(summarize(run.predictions, outcomes, config.bootstrap, config.seed,
                                     default_model=config.default_model), config.default_model)
    result: dict[str, Any] = {
        "task": "survival", "default_model": config.default_model, "folds": len(splits), "splits": source,
        "n_patients": len(data.patient_ids), "modalities": data.modalities, "models": models,
        "encoders": {m: c.as_dict() for m, c in data.encoders.items()},
    }
    if config.stack.enabled:
        from clinfusion.training.cv import row_names
        from clinfusion.training.stacking import stack_names

        models[STACK].update(stack_summary(run, stack_names(data, config, row_names(data, config))))
    if label_overrides:
        result["label_overrides"] = {"applied": len(applied), "not_in_cohort": len(label_overrides) - len(applied)}
    if run.fusion_fits and run.fusion_fits[0].selection:
        result["models"]["fusion"]["chosen"] = [next(c["override"] for c in f.selection if c["chosen"])
                                               for f in run.fusion_fits]
        result["models"]["fusion"]["selection"] = [f.selection for f in run.fusion_fits]
    tables = explain(data, splits, run, result, config.seed)
    orc = oracle(Path(ws.manifest().get("cohort_dir", "")) if ws.manifest().get("cohort_dir") else None)
    if orc:
        result["oracle"] = orc
    if track:
        if progress:
            progress(f"final {config.default_model} model on all patients + MLflow run")
        served, final = final_model(data, config)
        if config.default_model == STACK:
            result["models"][STACK]["final_weights"] = served.model.report()
        tables["training_labels.csv"] = training_labels(data, applied)
        result.update(_log(ws, data, config, result, run, served, final, tracking_uri, __version__, tables))
    return result


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
    if name == STACK:
        model = fit_stack(data, ids, config, stack_names(data, config, row_names(data, config)))
        member = model.members.get(cands.FUSION)
        fusion = member.fit if member is not None else train_fusion(data, ids, config)
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


def _log(ws, data, config, result, run, served, final, uri, version, tables) -> dict[str, Any]:
    """Log the run; ``served`` is the registered model, ``final`` the final fusion model whose
    embeddings, attention and attributions the review app shows."""
    from clinfusion.evaluation import pooled_risk, risk_groups
    from clinfusion.evaluation.plots import km_plot
    from clinfusion.tracking.bundle import bundle_to_json
    from clinfusion.tracking.run import log_training
    from clinfusion.training.attribution import attribution_summary, integrated_gradients
    from clinfusion.training.outputs import predictions_frame
    from clinfusion.training.review_tables import embeddings_table
    from clinfusion.training.review_tables import token_attention_table as attention_table
    from clinfusion.training.trainer import _bundles, predict_fusion

    ids = data.patient_ids
    fusion_only = served is final
    mods = final.modalities if fusion_only else served.modalities
    with_cov = final.covariates is not None if fusion_only else data.covariates.shape[1] > 0
    inputs = data.covariates.copy() if with_cov else pd.DataFrame(index=range(len(ids)))
    inputs.insert(0, "bundle", [bundle_to_json(b) for b in _bundles(data, ids, mods)])
    out = predict_fusion(final, data, ids)
    preds = predictions_frame(served, out if fusion_only else served.predict(data, ids))
    preds.insert(0, "patient_id", list(ids))  # pseudonyms: the review app matches rows to patients
    attributions = integrated_gradients(final, data, ids, n_steps=16)
    tables = {**tables, "embeddings.csv": embeddings_table(ids, out["embedding"]),
              "token_attributions.parquet": attributions, "attribution_summary.csv": attribution_summary(attributions),
              "fold_predictions.csv": fold_table(run, data, config, list(ids)),
              "token_attention.parquet": attention_table(final, data, ids)}
    name = config.default_model
    with tempfile.TemporaryDirectory() as tmp:
        pid, _, high = pooled_risk([p for p in run.predictions if p.model == name])
        t, e = data.time[data.index(pid)], data.event[data.index(pid)]
        p = risk_groups(np.zeros(1), t, e, high.astype(float) - 0.5).logrank_p
        plot = km_plot(t, e, high, Path(tmp) / f"km_{name}.png", f"{name} (cross-validated)", p)
        from clinfusion.evaluation.calibration_plot import calibration_plots

        plots = [plot, *calibration_plots(result["models"], list(dict.fromkeys([name, "fusion"])), tmp)]
        logged = log_training(ws.root, experiment=f"clinfusion-{ws.manifest().get('cohort_name', 'cohort')}",
                              params={**flatten(config), **encoder_params(data, ws)}, fingerprint=fingerprint(ws), code_version=version,
                              summary=result, fit=served, predictions=preds, inputs=inputs, plots=plots, uri=uri, tables=tables,
                              register_as=f"clinfusion-fusion-{ws.manifest().get('cohort_name', 'cohort')}")
    return {"mlflow_run_id": logged["run_id"], "mlflow_tracking_uri": logged["tracking_uri"],
            "model_uri": logged.get("registered_uri", logged["model_uri"]), "model_alias": logged.get("registered_alias", "")}
