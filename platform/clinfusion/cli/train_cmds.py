"""``clinfusion train`` and ``clinfusion evaluate``: fusion + baselines under CV, MLflow, results table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

from clinfusion.cli.console import console, err_console
from clinfusion.cli.locking import writes_workspace
from clinfusion.cli.results_view import print_results


def results_table(result: dict) -> pd.DataFrame:
    """The results table: :func:`clinfusion.evaluation.summary.results_table` (default model first,
    paired differences and calibration columns)."""
    from clinfusion.evaluation.summary import results_table as table

    return table(result)


def print_encoders(result: dict) -> None:
    """The modalities trained on and the token cache (encoder) each came from, one line each."""
    console.print("modalities and encoders used:")
    for m, c in result.get("encoders", {}).items():
        others = f"; also cached: {', '.join(c['others'])}" if c.get("others") else ""
        console.print(f"  {m}: {c['encoder']} ({c['source']}, {c['patients']} patients with tokens{others})", highlight=False)


@writes_workspace("train")
def train(
    workspace: Path = typer.Option(..., "--workspace", "-w", help="Workspace (ingested and featurized)."),
    config: Path = typer.Option(None, "--config", "-c", help="Training YAML (default: the packaged default_train.yaml)."),
    splits: Path = typer.Option(None, "--splits", help="Folder of splits_<k>.csv files with raw patient ids."),
    folds: int = typer.Option(None, "--folds", help="Stratified k-fold instead of split files."),
    modalities: str = typer.Option(None, "--modalities", help="Comma-separated modalities to train on (default: every "
                                   "ingested one; train refuses one without tokens unless this leaves it out)."),
    json_out: Path = typer.Option(None, "--json", help="Write the results JSON here."),
    repeats: int = typer.Option(1, "--repeats", min=1, help="Repeat the CV with R seeds (fold assignment and "
                                "initialisation): mean, spread and paired differences over repeats x folds (R times the time)."),
    no_mlflow: bool = typer.Option(False, "--no-mlflow", help="Skip the final model and the MLflow run."),
    tracking_uri: str = typer.Option(None, "--tracking-uri", envvar="MLFLOW_TRACKING_URI",
                                     help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else WS/mlflow.db)."),
    executor: str = typer.Option("local", "--executor", help="Where the CV folds run: local (this process, one "
                                 "fold after the other) or ray (one Ray task per fold; the same results)."),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster to join (e.g. auto or HEAD:6379; "
                                    "default: start a local Ray)."),
    ray_cpus: int = typer.Option(None, "--ray-cpus", min=1, help="CPUs of a local Ray (default: all of this machine)."),
    model: str = typer.Option(None, "--model", help="The model to register and serve: stack (default: the super "
                              "learner over fusion and baselines), fusion, or any candidate name (e.g. coxnet, rsf); "
                              "sets default_model in the results."),
) -> int:
    """Cross-validate the fusion model, the baselines and the stack on the same folds; register the
    default model (the stack unless --model says otherwise) and log the run to MLflow."""
    import os

    from clinfusion.executors import make_executor
    from clinfusion.experiment import train_workspace
    from clinfusion.training import load_train_config
    from clinfusion.workspace import Workspace

    if splits is not None and folds is not None:
        raise typer.BadParameter("give either --splits or --folds, not both")
    runner = make_executor(executor, ray_address, ray_cpus or os.cpu_count() or 2)
    ws = Workspace.open(workspace)
    mods = [m.strip() for m in modalities.split(",") if m.strip()] if modalities else None
    cfg = load_train_config(config, modalities=mods, default_model=model)
    with runner:  # Ray (when asked for) starts once here and stops after the run
        result = train_workspace(ws, cfg, splits_dir=splits, folds=folds, track=not no_mlflow, tracking_uri=tracking_uri,
                                 progress=lambda msg: err_console.print(msg, highlight=False),
                                 executor=None if executor == "local" else runner)
        if repeats > 1:
            from clinfusion.training.repeats import repeat_workspace

            result["repeats"] = repeat_workspace(ws, cfg, result, repeats, splits_dir=splits, folds=folds,
                                                 progress=lambda msg: err_console.print(msg, highlight=False),
                                                 executor=None if executor == "local" else runner)
    print_results(result, title=f"{result['folds']}-fold CV, {result['n_patients']} patients ({result['splits']})")
    print_encoders(result)
    if "mlflow_run_id" in result:
        alias = f" (alias: {result['model_alias']})" if result.get("model_alias") else ""
        console.print(f"MLflow run {result['mlflow_run_id']}; model {result['model_uri']}{alias}")
        uri = result["mlflow_tracking_uri"]
        console.print(f"open it at {uri}" if uri.startswith(("http://", "https://"))
                      else f"open it with: mlflow ui --backend-store-uri {uri}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2, default=float))
    return 0


def evaluate(
    json_in: Path = typer.Option(None, "--json", help="Results JSON of `clinfusion train`: print its table."),
    model_uri: str = typer.Option(None, "--model-uri", help="Registered pyfunc to score a workspace with."),
    workspace: Path = typer.Option(None, "--workspace", "-w", help="Workspace whose patients are scored."),
) -> int:
    """Print a results table, or score a workspace with a logged model (Harrell's C of its risks)."""
    if json_in is not None:
        result = json.loads(json_in.read_text())
        print_results(result, title=str(json_in))
        return 0
    if not (model_uri and workspace):
        raise typer.BadParameter("give --json, or --model-uri with --workspace")
    from clinfusion.evaluation import harrell_c
    from clinfusion.tracking.bundle import bundle_to_json
    from clinfusion.tracking.run import load_model, tracking_uri
    from clinfusion.training.dataset import load_cohort
    from clinfusion.workspace import Workspace

    ws = Workspace.open(workspace)
    model = load_model(model_uri, tracking_uri(ws.root))
    data = load_cohort(ws, strict=False)  # the pyfunc ignores modalities it was not trained on
    inputs = data.covariates.copy()
    inputs.insert(0, "bundle", [bundle_to_json({m: data.tokens[m][p] for m in data.modalities if p in data.tokens[m]})
                                for p in data.patient_ids])
    pred = model.predict(inputs)
    c = harrell_c(data.time, data.event, pred["risk"].to_numpy())
    console.print(f"{len(pred)} patients scored; Harrell C (in-sample if they were trained on) = {c:.3f}")
    return 0


COMMANDS = {"train": train, "evaluate": evaluate}
