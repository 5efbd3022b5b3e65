"""``clinfusion retrain``, ``clinfusion schedule`` and ``clinfusion registry show|promote|rollback|history``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from clinfusion.cli.console import console, err_console, print_frame
from clinfusion.cli.locking import writes_workspace

registry_app = typer.Typer(help="Model registry: champion/challenger aliases, promotions and rollbacks.",
                           no_args_is_help=True)
_WS = typer.Option(..., "--workspace", "-w", help="Workspace directory.")
_MODEL = typer.Option(None, "--model", help="Registered model (default: clinfusion-fusion-<cohort>).")
_URI = typer.Option(None, "--tracking-uri", envvar="MLFLOW_TRACKING_URI",
                    help="MLflow tracking/registry URI (default: $MLFLOW_TRACKING_URI, else WS/mlflow.db).")
_REASON = typer.Option(..., "--reason", help="Why (recorded).")
_USER = typer.Option(None, "--user", help="Who (default: the OS user).")


def print_result(result) -> None:
    """The retrain result as a few lines and tables."""
    ing = result.ingest
    console.print(f"ingest: {ing['processed']} item(s) new or changed, {ing['reused']} unchanged, {ing['removed']} removed")
    if result.featurize:
        print_frame(pd.DataFrame(result.featurize)[["modality", "encoder", "encoded", "cached", "failed"]],
                    title="featurize (encoded = new or changed patients)")
    if result.status == "no-new-data":
        console.print("no new data: not retraining (pass --force to train anyway)")
        console.print(f"status: {result.status}; summary {result.path}")
        return
    if result.drift:
        console.print(f"drift: {len(result.drift['warnings'])} warning(s), {result.drift['n_new']} new patients; "
                      f"report {result.drift['path']}")
        for w in result.drift["warnings"]:
            console.print(f"  [yellow]warning[/] {w}", highlight=False)
    if result.overrides:
        console.print(f"labels: {len(result.overrides)} clinician diagnosis override(s) used as training labels "
                      "(provenance: tags label_overrides.* and label_overrides.csv of the training run)")
    t = result.train
    console.print(f"trained version {t['version']} (alias {t['alias']}), CV C-index {t['cindex_mean']:.3f}, "
                  f"run {t['run_id']}")
    if result.gate:
        console.print(f"[bold]gate[/]: {result.gate['summary']}", highlight=False)
        if result.gate["subgroups"]:
            print_frame(pd.DataFrame(result.gate["subgroups"]).round(3), title="subgroups (Harrell C)")
        print_disagreements(result.gate.get("disagreements"))
    console.print(f"status: {result.status}; summary {result.path}")


def print_disagreements(dis: dict | None) -> None:
    """Clinicians' risk-group overrides of the champion, per predicted group (reported, not gated)."""
    if not dis or not dis["reviewed"]:
        console.print("disagreements: no risk-group reviews of the champion yet")
        return
    console.print(f"disagreements: clinicians overrode {dis['overridden']} of {dis['reviewed']} reviewed risk groups "
                  f"of champion version {dis['version']} ({dis['rate']:.0%})")
    rows = [{**{k: g[k] for k in ("predicted", "reviewed", "overridden")}, "rate": round(g["rate"], 3),
             "corrected_to": ", ".join(f"{k} {v}" for k, v in g["corrected_to"].items())} for g in dis["groups"]]
    print_frame(pd.DataFrame(rows), title="risk-group disagreements with the champion")


@writes_workspace("retrain", create=True)  # the first run may make the workspace
def retrain(
    workspace: Path = _WS,
    config: Path = typer.Option(None, "--config", "-c", help="Retrain YAML (default: the packaged default_retrain.yaml)."),
    force: bool = typer.Option(False, "--force", help="Train even when no item or token changed."),
    user: str = typer.Option(None, "--user", help="Recorded for an automatic promotion (default: the OS user)."),
    executor: str = typer.Option(None, "--executor", help="Where featurization and the CV folds run: local or ray "
                                 "(overrides the config's executor)."),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster to join, e.g. auto or HEAD:6379 "
                                    "(overrides ray_address; implies --executor ray)."),
    tracking_uri: str = typer.Option(None, "--tracking-uri", envvar="MLFLOW_TRACKING_URI",
                                     help="MLflow tracking/registry URI (overrides the config's tracking_uri; "
                                     "default: WS/mlflow.db)."),
    review_db: str = typer.Option(None, "--review-db", envvar="CLINFUSION_REVIEW_DB", show_envvar=True,
                                  help="Review store the app writes to (reviews -> labels, disagreements); "
                                  "default: WS/review/review.sqlite."),
) -> int:
    """Once: ingest new data, featurize new patients, train a challenger, gate it, promote or keep."""
    import os

    from clinfusion.retrain import load_retrain_config
    from clinfusion.review.store import DB_ENV

    if review_db:  # the store is resolved from the environment by every reader of reviews in the run
        os.environ[DB_ENV] = review_db
    from clinfusion.executors import executor as make
    from clinfusion.retrain.cycle import retrain as run

    cfg = load_retrain_config(config, executor=executor or ("ray" if ray_address else None), ray_address=ray_address,
                              tracking_uri=tracking_uri)
    with make(cfg):  # one Ray instance (when configured) for featurization and training
        result = run(workspace, cfg, force=force, user=user, progress=lambda m: err_console.print(m, highlight=False))
    print_result(result)
    return 0


def schedule(
    workspace: Path = _WS,
    cron: str = typer.Option(..., "--cron", help='Cron expression, e.g. "0 2 * * 0" (Sundays 02:00).'),
    config: Path = typer.Option(None, "--config", "-c", help="Retrain YAML passed to every run."),
    name: str = typer.Option(None, "--name", help="Deployment name (default: retrain-<workspace folder>)."),
    timezone: str = typer.Option("UTC", "--timezone", help="Time zone of the cron expression."),
) -> int:
    """Serve the retrain flow as a Prefect deployment on a cron schedule (blocks; Ctrl-C stops)."""
    try:
        from prefect import serve

        from clinfusion.retrain.prefect_flow import deployment
    except ImportError as err:  # optional dependency
        raise typer.BadParameter(f"scheduling needs prefect (pip install -e '.[retrain]'): {err}") from None
    dep = deployment(workspace, cron, config=config, name=name, timezone=timezone)
    console.print(f"serving deployment {dep.name!r} ({cron}, {timezone}); runs go to the Prefect API "
                  "configured in PREFECT_API_URL")
    serve(dep)
    return 0


def _name(workspace: Path, model: str | None) -> str:
    from clinfusion.tracking.registry import default_model_name

    return model or default_model_name(workspace)


@registry_app.command("show")
def show(workspace: Path = _WS, model: str = _MODEL, tracking_uri: str = _URI) -> int:
    """Versions with their aliases and the last promotion/rollback tags."""
    from clinfusion.tracking.registry import show as versions

    name = _name(workspace, model)
    frame = versions(workspace, name, tracking_uri)
    if frame.empty:
        console.print(f"no registered versions of {name}")
        return 0
    print_frame(frame, title=name)
    return 0


def _recorded(row: dict, what: str) -> int:
    console.print(f"{row['model']}: {what} version {row['version']} (was {row['previous']}); "
                  f"recorded by {row['user']} at {row['time']}")
    return 0


@registry_app.command("promote")
@writes_workspace("registry promote")
def promote(workspace: Path = _WS, model: str = _MODEL, version: str = typer.Option(
        None, "--version", help="Version to promote (default: the challenger)."),
            reason: str = _REASON, user: str = _USER, tracking_uri: str = _URI) -> int:
    """Make a version the champion (by hand, bypassing the gate); recorded with who, when, why."""
    from clinfusion.tracking.registry import promote as run

    row = run(workspace, _name(workspace, model), version, reason=reason, user=user, uri=tracking_uri)
    return _recorded(row, "champion is now")


@registry_app.command("rollback")
@writes_workspace("registry rollback")
def rollback(workspace: Path = _WS, model: str = _MODEL, version: str = typer.Option(
        None, "--version", help="Version to restore (default: the champion before the latest promotion)."),
             reason: str = _REASON, user: str = _USER, tracking_uri: str = _URI) -> int:
    """Give the champion alias back to the previous champion; recorded with who, when, why."""
    from clinfusion.tracking.registry import rollback as run

    row = run(workspace, _name(workspace, model), version, reason=reason, user=user, uri=tracking_uri)
    return _recorded(row, "champion rolled back to")


@registry_app.command("history")
def history(workspace: Path = _WS, model: str = _MODEL) -> int:
    """Every recorded registration, promotion and rollback (WS/registry/events.jsonl)."""
    from clinfusion.tracking.registry import events

    rows = events(workspace, _name(workspace, model))
    if not rows:
        console.print("no registry events recorded")
        return 0
    print_frame(pd.DataFrame(rows)[["time", "action", "version", "previous", "user", "reason"]].fillna(""))
    return 0


COMMANDS = {"retrain": retrain, "schedule": schedule, "registry": registry_app}
