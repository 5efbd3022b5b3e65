"""The steps of one retraining run as plain functions ``(workspace, config, ...) -> plain data``.

Each returns JSON-friendly values so an orchestrator (``clinfusion.retrain.prefect_flow``: Prefect tasks)
can wrap, retry and cache them; :func:`clinfusion.retrain.cycle.retrain` chains them without one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.errors import ConfigError
from clinfusion.retrain.config import RetrainConfig


def cohort_dir(ws_root: str | Path, cfg: RetrainConfig) -> Path:
    """``cfg.cohort_dir`` or the cohort recorded in the workspace manifest.

    Raises:
        ConfigError: neither is known.
    """
    if cfg.cohort_dir:
        return Path(cfg.cohort_dir)
    manifest = json.loads((Path(ws_root) / "workspace.json").read_text()) if (Path(ws_root) / "workspace.json").exists() else {}
    if not manifest.get("cohort_dir"):
        raise ConfigError("no cohort to ingest: set cohort_dir in the retrain config", field="cohort_dir")
    return Path(manifest["cohort_dir"])


def ingest_step(ws_root: str | Path, cfg: RetrainConfig) -> dict[str, int]:
    """Ingest the cohort; unchanged items are reused, not read (``clinfusion.ingest``).

    Returns:
        ``{"processed", "reused", "removed", "quarantined"}`` item counts.
    """
    from clinfusion.ingest import ingest

    rep = ingest(cohort_dir(ws_root, cfg), ws_root, demo=cfg.demo_key, workers=cfg.ingest_workers)
    return {"processed": rep.processed, "reused": rep.reused, "removed": rep.removed, "quarantined": rep.n_quarantined}


def featurize_modalities(ws_root: str | Path, cfg: RetrainConfig) -> list[str]:
    """``cfg.modalities`` or every ingested modality that has an encoder."""
    from clinfusion.modalities.registry import encoders
    from clinfusion.workspace import Workspace, read_catalog

    if cfg.modalities:
        return list(cfg.modalities)
    cat = read_catalog(Workspace.open(ws_root))
    return [m for m in sorted(set(cat.loc[cat["status"] == "ingested", "modality"])) if encoders(m)]


def featurize_jobs(ws_root: str | Path, cfg: RetrainConfig) -> list[tuple[str, str]]:
    """``(modality, encoder)`` to featurize: each modality with the encoder training will read, by
    the same rule (:func:`clinfusion.training.encoders.choose_encoder`: configured, else the default
    when cached, else the only cache), and the registered default where nothing is cached yet."""
    from clinfusion.modalities.registry import default_encoder
    from clinfusion.training.encoders import choose_encoder, registered_default, token_caches
    from clinfusion.workspace import Workspace

    named = cfg.train_settings().encoders
    caches = token_caches(Workspace.open(ws_root)) if (Path(ws_root) / "workspace.json").exists() else {}
    jobs = []
    for m in featurize_modalities(ws_root, cfg):
        if named.get(m):  # featurized here, so training finds its cache
            jobs.append((m, named[m]))
            continue
        chosen = choose_encoder(m, list(caches.get(m, {})), None, registered_default(m))
        jobs.append((m, chosen[0] if chosen else default_encoder(m)))
    return jobs


def featurize_step(ws_root: str | Path, cfg: RetrainConfig) -> list[dict[str, Any]]:
    """Encode only new or changed patients (the token cache is keyed by content hash), with every
    encoder the training config uses (:func:`featurize_jobs`).

    Returns:
        One row per (modality, encoder): ``modality, encoder, encoded, cached, failed, seconds``.
    """
    from clinfusion.executors import executor

    return executor(cfg).featurize(ws_root, featurize_jobs(ws_root, cfg), cfg.featurize_workers)


def has_new_data(ingested: dict[str, int], featurized: list[dict[str, Any]]) -> bool:
    """Anything read, removed or encoded in this run."""
    return bool(ingested["processed"] or ingested["removed"] or any(r["encoded"] for r in featurized))


def registered(ws_root: str | Path, cfg: RetrainConfig) -> tuple[str, dict[str, str]]:
    """The model name and its aliases."""
    from clinfusion.tracking.registry import aliases, default_model_name

    name = default_model_name(ws_root)
    return name, aliases(ws_root, name, cfg.tracking_uri)


def training_patients(ws_root: str | Path, cfg: RetrainConfig, name: str, version: str) -> list[str]:
    """Patients a registered version was trained on (its run's out-of-fold table)."""
    return sorted(set(oof_risks(ws_root, cfg, name, version)["patient_id"]))


def drift_step(ws_root: str | Path, cfg: RetrainConfig, name: str, champion: str | None) -> dict[str, Any] | None:
    """Drift report of patients the champion was not trained on; Markdown in ``WS/retrain/`` and MLflow.

    Returns:
        ``{"warnings", "n_new", "n_reference", "path", "run_id"}``, or None without champion or when disabled.
    """
    from clinfusion.retrain.drift import workspace_drift
    from clinfusion.tracking.registry import log_decision_run
    from clinfusion.workspace import Workspace

    if not cfg.drift.enabled or not champion:
        return None
    ws = Workspace.open(ws_root)
    report = workspace_drift(ws, training_patients(ws_root, cfg, name, champion), cfg.drift)
    text = report.markdown()
    path = _stamp(ws_root, "drift", "md")
    path.write_text(text)
    warn = report.warnings
    run_id = log_decision_run(ws_root, experiment=_experiment(ws), run_name="drift-report", uri=cfg.tracking_uri,
                              tags={"clinfusion.kind": "drift", "model": name, "champion_version": champion,
                                    "drift.warnings": "; ".join(f"{r.modality}:{r.name}" for r in warn.itertuples())},
                              metrics={"drift.n_warnings": len(warn), "drift.n_new": report.n_new,
                                       "drift.n_reference": report.n_reference},
                              texts={"drift.md": text, "drift.csv": report.rows.to_csv(index=False)})
    return {"warnings": [f"{r.modality}: {r.name} ({r.reference:.3g} -> {r.new:.3g})" for r in warn.itertuples()],
            "n_new": report.n_new, "n_reference": report.n_reference, "path": str(path), "run_id": run_id}


def overrides_step(ws_root: str | Path, cfg: RetrainConfig) -> list[dict[str, Any]]:
    """The clinicians' overrides used as labels (empty when ``overrides.enabled`` is false), as
    recorded in the run: reviewer pseudonym and role, no user name (``overrides.for_run``).

    Raises:
        PrivacyError: no pseudonymisation key (needed for the reviewer pseudonyms).
    """
    from clinfusion.privacy import load_key
    from clinfusion.retrain.overrides import for_run, label_overrides

    if not cfg.overrides.enabled:
        return []
    found = label_overrides(ws_root, cfg.overrides.target)
    if found.empty:
        return []
    return for_run(found, load_key(Path(ws_root), demo=cfg.demo_key)).to_dict(orient="records")


def train_step(ws_root: str | Path, cfg: RetrainConfig, overrides: list[dict[str, Any]],
               progress=None) -> dict[str, Any]:
    """Train and register a new version (``train_workspace`` with MLflow on); record override provenance.

    The CV folds run on ``cfg.executor`` (Ray tasks for ``ray``); the final model and MLflow stay here.

    Returns:
        ``{"run_id", "version", "alias", "model_uri", "cindex_mean", "n_patients"}``.
    """
    from clinfusion.executors import executor
    from clinfusion.experiment import train_workspace
    from clinfusion.tracking.registry import annotate_run
    from clinfusion.workspace import Workspace

    labels = {r["patient_id"]: r["corrected"] for r in overrides}
    res = train_workspace(Workspace.open(ws_root), cfg.train_settings(), track=True, tracking_uri=cfg.tracking_uri,
                          progress=progress, label_overrides=labels or None,
                          executor=None if cfg.executor == "local" else executor(cfg))
    if overrides:
        applied = res.get("label_overrides", {}).get("applied", len(overrides))
        annotate_run(ws_root, res["mlflow_run_id"], uri=cfg.tracking_uri,
                     tags={"label_overrides.count": str(len(overrides)), "label_overrides.applied": str(applied),
                           "label_overrides.target": cfg.overrides.target,
                           "label_overrides.reviews": ",".join(str(r["review_id"]) for r in overrides),
                           "label_overrides.reviewers": ",".join(sorted({r["reviewer"] for r in overrides})),
                           "label_overrides.roles": ",".join(sorted({r["role"] for r in overrides}))},
                     texts={"label_overrides.csv": pd.DataFrame(overrides).to_csv(index=False)})
    return {"run_id": res["mlflow_run_id"], "version": res["model_uri"].rsplit("/", 1)[-1], "alias": res["model_alias"],
            "model_uri": res["model_uri"],
            "cindex_mean": res["models"][res.get("default_model", "fusion")]["cindex_mean"],
            "n_patients": res["n_patients"]}


def oof_risks(ws_root: str | Path, cfg: RetrainConfig, name: str, version: str) -> pd.DataFrame:
    """Out-of-fold risks of a registered version, z-scored within each fold so folds share a scale.

    The risks are the *registered* model's (the default model, e.g. the stack): the held-out rows of its
    run's ``fold_predictions.csv`` (each patient scored by the CV fold model that held it out). Runs
    logged before that table existed fall back to ``contributions.csv`` (the fusion model's)."""
    from clinfusion.tracking.registry import RegistryError, run_table, version_run_id

    run_id = version_run_id(ws_root, name, version, cfg.tracking_uri)
    try:
        folds = run_table(ws_root, run_id, "fold_predictions.csv", cfg.tracking_uri)
        table = folds[folds["held_out"].astype(str).str.lower().isin(["true", "1"])].copy()
    except RegistryError:
        table = run_table(ws_root, run_id, "contributions.csv", cfg.tracking_uri)
    grp = table.groupby("fold")["risk"]
    table["risk_z"] = (table["risk"] - grp.transform("mean")) / grp.transform("std").replace(0, 1).fillna(1)
    return table[["patient_id", "fold", "risk", "risk_z"]]


def gate_step(ws_root: str | Path, cfg: RetrainConfig, name: str, champion: str, challenger: str,
              user: str | None = None) -> dict[str, Any]:
    """Score both versions on the patients both have out-of-fold risks for; decide; log; promote or keep.

    Returns:
        The decision (``GateDecision.as_dict``) plus ``champion``, ``challenger``, ``run_id``,
        ``promoted`` and ``summary``.
    """
    from clinfusion.retrain.gate import Scores, decide, disagreements, subgroup_labels
    from clinfusion.retrain.overrides import risk_group_reviews
    from clinfusion.tracking.registry import log_decision_run, promote, who
    from clinfusion.training.dataset import clinical_table
    from clinfusion.workspace import Workspace

    ws = Workspace.open(ws_root)
    a, b = oof_risks(ws_root, cfg, name, champion), oof_risks(ws_root, cfg, name, challenger)
    clin = clinical_table(ws).dropna(subset=["survival_time", "event"])
    both = sorted(set(a["patient_id"]) & set(b["patient_id"]) & set(clin["patient_id"].astype(str)))
    out = clin.set_index("patient_id").loc[both]
    scores = Scores(patient_ids=both, time=out["survival_time"].to_numpy(float), event=out["event"].to_numpy(int),
                    champion=a.set_index("patient_id").loc[both, "risk_z"].to_numpy(float),
                    challenger=b.set_index("patient_id").loc[both, "risk_z"].to_numpy(float))
    groups = {s.column: subgroup_labels(clin, s, both) for s in cfg.gate.subgroups}
    decision = decide(scores, cfg.gate, groups)
    result = {**decision.as_dict(), "champion": champion, "challenger": challenger, "summary": decision.summary(),
              "disagreements": disagreements(risk_group_reviews(ws_root, cfg.overrides.disagreement_target), name,
                                             champion)}
    metrics = {f"gate.{rule}.{k}": v for rule, d in decision.checks.items() for k, v in d.items()}
    metrics.update({f"gate.subgroup.{r['subgroup']}.delta": r["delta"] for r in decision.subgroups})
    dis = result["disagreements"]
    metrics.update({"disagreement.reviewed": dis["reviewed"], "disagreement.overridden": dis["overridden"]})
    metrics.update({f"disagreement.{g['predicted']}.rate": g["rate"] for g in dis["groups"]})
    result["run_id"] = log_decision_run(
        ws_root, experiment=_experiment(ws), run_name="promotion-gate", uri=cfg.tracking_uri,
        tags={"clinfusion.kind": "gate", "model": name, "decision": "promote" if decision.promote else "keep",
              "champion_version": champion, "challenger_version": challenger, "reasons": " | ".join(decision.reasons)},
        metrics={**metrics, "gate.n_patients": decision.n_patients, "gate.promote": float(decision.promote)},
        texts={"gate_decision.json": json.dumps(result, indent=2, default=_json)})
    result["promoted"] = False
    if decision.promote:
        promote(ws_root, name, challenger, reason=f"promotion gate: {decision.summary()}", user=who(user),
                uri=cfg.tracking_uri, details={"gate_run_id": result["run_id"]})
        result["promoted"] = True
    return result


def _json(v: Any) -> Any:
    return float(v) if isinstance(v, np.floating | np.integer) else str(v)


def _experiment(ws) -> str:
    return f"clinfusion-{ws.manifest().get('cohort_name', 'cohort')}"


def _stamp(ws_root: str | Path, stem: str, ext: str) -> Path:
    import time

    folder = Path(ws_root) / "retrain"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stem}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{time.time_ns() % 10**6:06d}.{ext}"
