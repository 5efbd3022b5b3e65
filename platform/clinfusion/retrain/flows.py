"""The retraining steps as Prefect tasks and a flow, and its cron deployment.

Importing this module imports prefect (install it: ``pip install prefect==3.8.8``); the library
functions in ``steps.py`` / ``flow.py`` never do. Tasks retry (ingest and featurize read files that
may still be arriving; MLflow may be briefly unreachable); the gate does not, so a decision is
taken once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from clinfusion.retrain import steps
from clinfusion.retrain.config import load_retrain_config

FLOW_NAME = "clinfusion-retrain"

ingest_task = task(steps.ingest_step, name="ingest", retries=2, retry_delay_seconds=30)
featurize_task = task(steps.featurize_step, name="featurize", retries=2, retry_delay_seconds=30)
drift_task = task(steps.drift_step, name="drift", retries=1, retry_delay_seconds=10)
overrides_task = task(steps.overrides_step, name="review-overrides", retries=1, retry_delay_seconds=10)
train_task = task(steps.train_step, name="train-challenger", retries=1, retry_delay_seconds=60)
gate_task = task(steps.gate_step, name="promotion-gate")


@flow(name=FLOW_NAME, log_prints=True)
def retrain_flow(workspace: str, config: str | None = None, force: bool = False) -> dict[str, Any]:
    """Prefect flow of :func:`clinfusion.retrain.flow.retrain` (same steps, same result fields).

    Args:
        workspace: workspace directory; config: retrain YAML (None: packaged defaults); force: train
            even without new data.
    """
    cfg = load_retrain_config(config)
    ingested = ingest_task(workspace, cfg)
    featurized = featurize_task(workspace, cfg)
    out: dict[str, Any] = {"status": "no-new-data", "ingest": ingested, "featurize": featurized,
                           "new_data": steps.has_new_data(ingested, featurized)}
    if not out["new_data"] and not force:
        print(f"no new data in {workspace}: {ingested}; not retraining (force=True to train anyway)")
        return out
    name, before = steps.registered(workspace, cfg)
    champion = before.get("champion")
    out["drift"] = drift_task(workspace, cfg, name, champion) if champion else None
    out["train"] = train_task(workspace, cfg, overrides_task(workspace, cfg))
    if not champion:
        out["status"] = "first-champion"
        return out
    out["gate"] = gate_task(workspace, cfg, name, champion, out["train"]["version"])
    out["status"] = "promoted" if out["gate"]["promoted"] else "kept"
    print(out["gate"]["summary"])
    return out


def deployment(workspace: str | Path, cron: str, *, config: str | Path | None = None, name: str | None = None,
               timezone: str = "UTC"):
    """A Prefect deployment of :func:`retrain_flow` on a cron schedule (``RunnerDeployment``).

    Serve it with ``prefect.serve(deployment(...))`` (what ``clinfusion schedule`` does), or
    ``.deploy()`` it to a work pool (docs/retrain.md).
    """
    from prefect.schedules import Cron

    return retrain_flow.to_deployment(
        name=name or f"retrain-{Path(workspace).resolve().name}",
        schedule=Cron(cron, timezone=timezone),
        parameters={"workspace": str(Path(workspace).resolve()), "config": str(Path(config).resolve()) if config else None,
                    "force": False},
        tags=["clinfusion", "retrain"],
    )
