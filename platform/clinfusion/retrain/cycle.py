"""One retraining cycle as a plain function: ingest -> featurize -> (drift) -> train -> gate -> promote/keep."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clinfusion.retrain import steps
from clinfusion.retrain.config import RetrainConfig


@dataclass
class RetrainResult:
    """What one :func:`retrain` did (also written to ``WS/retrain/retrain-<time>.json``).

    Attributes:
        status: ``no-new-data`` (nothing trained), ``first-champion`` (the first version became
            champion), ``promoted`` or ``kept`` (the gate's verdict on the new challenger).
        ingest: item counts; featurize: one row per modality (``encoded`` = recomputed patients).
        drift, train, gate: the step outputs (None when the step did not run).
        overrides: clinicians' overrides used as labels (review id, who, when, corrected label).
    """

    status: str
    ingest: dict[str, int]
    featurize: list[dict[str, Any]]
    new_data: bool
    drift: dict[str, Any] | None = None
    train: dict[str, Any] | None = None
    gate: dict[str, Any] | None = None
    overrides: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _direct(step: Callable[..., Any], *args: Any) -> Any:
    return step(*args)


def retrain(workspace: str | Path, config: RetrainConfig, *, force: bool = False, user: str | None = None,
            progress: Callable[[str], None] | None = None,
            call: Callable[..., Any] = _direct) -> RetrainResult:
    """Run the retraining pipeline once.

    Args:
        workspace: the workspace (created by the first ingest when absent; ``cohort_dir`` then needed).
        config: see ``default_retrain.yaml``.
        force: train even when no item or token changed.
        user: who is recorded for an automatic promotion (default: the OS user).
        progress: called with one line per step.
        call: runs one step as ``call(step_function, *args)``; the Prefect flow passes one that runs
            each step as its task (``clinfusion.retrain.prefect_flow``), the default calls it directly.

    Returns:
        The :class:`RetrainResult`.
    """
    say = progress or (lambda _msg: None)
    ws_root = Path(workspace)
    say("ingest: reading new or changed items")
    ingested = call(steps.ingest_step, ws_root, config)
    say("featurize: encoding new or changed patients")
    featurized = call(steps.featurize_step, ws_root, config)
    new = steps.has_new_data(ingested, featurized)
    result = RetrainResult("no-new-data", ingested, featurized, new)
    if not new and not force:
        return _save(ws_root, result)
    name, before = steps.registered(ws_root, config)
    champion = before.get("champion")
    if champion:
        say(f"drift: patients new since champion version {champion}")
        result.drift = call(steps.drift_step, ws_root, config, name, champion)
    result.overrides = call(steps.overrides_step, ws_root, config)
    say("train: cross-validation + final model (registered as a new version)")
    result.train = call(steps.train_step, ws_root, config, result.overrides, progress)
    if not champion or result.train["alias"] == "champion":
        from clinfusion.tracking.registry import record_event, who

        record_event(ws_root, {"action": "register-champion", "model": name, "version": result.train["version"],
                               "previous": None, "user": who(user), "reason": "first registered version"})
        result.status = "first-champion"
        return _save(ws_root, result)
    say(f"gate: challenger version {result.train['version']} vs champion version {champion}")
    result.gate = call(steps.gate_step, ws_root, config, name, champion, result.train["version"], user)
    result.status = "promoted" if result.gate["promoted"] else "kept"
    return _save(ws_root, result)


def _save(ws_root: Path, result: RetrainResult) -> RetrainResult:
    path = steps._stamp(ws_root, "retrain", "json")
    result.path = str(path)
    path.write_text(json.dumps(result.as_dict(), indent=2, default=steps._json))
    return result
