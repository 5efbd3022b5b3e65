"""The retraining steps as Prefect tasks and a flow, and its cron deployment.

Importing this module imports prefect (``pip install -e ".[retrain]"``); the library functions in
``steps.py`` / ``cycle.py`` never do. The flow is :func:`clinfusion.retrain.cycle.retrain` itself, with
each step run as a Prefect task, so both paths behave the same. Tasks retry (ingest and featurize
read files that may still be arriving; MLflow may be briefly unreachable); the gate does not, so a
decision is taken once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task

from clinfusion.retrain import steps
from clinfusion.retrain.config import load_retrain_config

FLOW_NAME = "clinfusion-retrain"

# task(options)(fn): the same Task as task(fn, **options), in the form prefect's overloads type
TASKS: dict[Callable[..., Any], Any] = {
    steps.ingest_step: task(name="ingest", retries=2, retry_delay_seconds=30)(steps.ingest_step),
    steps.featurize_step: task(name="featurize", retries=2, retry_delay_seconds=30)(steps.featurize_step),
    steps.drift_step: task(name="drift", retries=1, retry_delay_seconds=10)(steps.drift_step),
    steps.overrides_step: task(name="review-overrides", retries=1, retry_delay_seconds=10)(steps.overrides_step),
    steps.train_step: task(name="train-challenger", retries=1, retry_delay_seconds=60)(steps.train_step),
    steps.gate_step: task(name="promotion-gate")(steps.gate_step),
}


def _as_task(step: Callable[..., Any], *args: Any) -> Any:
    return TASKS[step](*args)


@flow(name=FLOW_NAME, log_prints=True)
def retrain_flow(workspace: str, config: str | None = None, force: bool = False) -> dict[str, Any]:
    """Prefect flow of :func:`clinfusion.retrain.cycle.retrain` (same steps, same result).

    Args:
        workspace: workspace directory; config: retrain YAML (None: packaged defaults); force: train
            even without new data.

    Returns:
        ``RetrainResult.as_dict()``.
    """
    from clinfusion.retrain.cycle import retrain
    from clinfusion.workspace.lock import workspace_lock

    with workspace_lock(workspace, "retrain (scheduled)", on_wait=print):  # one writer, as `clinfusion retrain`
        result = retrain(workspace, load_retrain_config(config), force=force, progress=print, call=_as_task)
    print(f"status: {result.status}" + (f"; {result.gate['summary']}" if result.gate else ""))
    return result.as_dict()


def deployment(workspace: str | Path, cron: str, *, config: str | Path | None = None, name: str | None = None,
               timezone: str = "UTC"):
    """A Prefect deployment of :func:`retrain_flow` on a cron schedule (``RunnerDeployment``).

    Serve it with ``prefect.serve(deployment(...))`` (what ``clinfusion schedule`` does), or
    ``.deploy(work_pool_name=...)`` it to a work pool (docs/retrain.md).
    """
    from prefect.schedules import Cron

    from clinfusion.errors import ConfigError

    try:
        schedule = Cron(cron, timezone=timezone)
    except ValueError as err:  # pydantic's ValidationError is a ValueError too
        raise ConfigError(f"expected a cron expression such as \"0 2 * * 0\" and a time zone such as UTC, got "
                          f"{cron!r} in {timezone!r} ({str(err).splitlines()[-1].strip()})", field="--cron") from None
    return retrain_flow.to_deployment(
        name=name or f"retrain-{Path(workspace).resolve().name}",
        schedule=schedule,
        parameters={"workspace": str(Path(workspace).resolve()), "config": str(Path(config).resolve()) if config else None,
                    "force": False},
        tags=["clinfusion", "retrain"],
    )
