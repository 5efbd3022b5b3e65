"""``clinfusion train`` as a library call: workspace -> CV of fusion, baselines and the stack -> results
(+ the default model, ``stack`` unless ``default_model`` says otherwise, fitted on all patients and
registered in MLflow).

One experiment: it composes the tracking-free parts of :mod:`clinfusion.training.experiment_parts`
and logs the run with :mod:`clinfusion.tracking`, so it stands above both in the layer order
(docs/architecture.md)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.training.config import STACK, TrainConfig, flatten
from clinfusion.training.cv import FoldExecutor, run_cv
from clinfusion.training.dataset import load_cohort, with_diagnosis
from clinfusion.training.experiment_parts import (
    choose_splits,
    default_first,
    encoder_params,
    explain,
    final_model,
    fingerprint,
    fold_table,
    oracle,
    stack_summary,
    training_labels,
)


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
