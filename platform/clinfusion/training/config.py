"""Training configuration: YAML -> frozen pydantic :class:`TrainConfig` (defaults in ``default_train.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clinfusion.configio import load_yaml_config
from clinfusion.graph.config import GraphConfig
from clinfusion.models.config import FusionConfig

DEFAULT_YAML = Path(__file__).with_name("default_train.yaml")
BASELINES: tuple[str, ...] = ("clinical_cox", "coxnet", "rsf", "concat_mlp", "late_fusion", "unimodal")
"""Baselines the harness knows; ``unimodal`` means one fusion model per modality (``unimodal_<m>``)."""


class OptimConfig(BaseModel):
    """AdamW settings and the training loop.

    ``ensemble``: 1 trains one model, early-stopped on an ``inner_val_fraction`` split of the
    training fold; k > 1 trains one member per stratified inner fold (early-stopped on its own
    held-out fold) and averages them (k times the training time).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-2, ge=0)
    epochs: int = Field(40, ge=1)
    batch_size: int = Field(0, ge=0)
    patience: int = Field(8, ge=1)
    inner_val_fraction: float = Field(0.2, gt=0.0, lt=0.5)
    threads: int = Field(1, ge=1)
    ensemble: int = Field(1, ge=1, le=20)


class LossConfig(BaseModel):
    """Weights of the multi-task loss.

    ``diagnosis`` > 0 trains the diagnosis head (when the clinical table has a diagnosis column with
    at least two classes), so clinicians' diagnosis overrides used as labels by ``clinfusion retrain``
    change the model; 0 disables it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cox: float = Field(1.0, ge=0)
    discrete: float = Field(0.5, ge=0)
    diagnosis: float = Field(0.3, ge=0)
    nll_alpha: float = Field(0.0, ge=0, le=1)


class TrainConfig(BaseModel):
    """Everything ``clinfusion train`` needs besides the workspace and the folds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    folds: int = Field(5, ge=2)
    modalities: tuple[str, ...] | None = None
    encoders: dict[str, str] = Field(default_factory=dict)
    covariates: tuple[str, ...] | None = None
    risk_from: Literal["cox", "discrete"] = "cox"
    baselines: tuple[str, ...] = BASELINES
    unimodal: tuple[str, ...] | None = None
    bootstrap: int = Field(200, ge=0)
    model: FusionConfig = FusionConfig()
    graph: GraphConfig = GraphConfig()
    optim: OptimConfig = OptimConfig()
    loss: LossConfig = LossConfig()
    select: tuple[dict[str, Any], ...] = ()

    @field_validator("baselines")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [b for b in value if b not in BASELINES]
        if bad:
            raise ValueError(f"unknown baseline(s) {bad}; expected some of {list(BASELINES)}")
        return value

    @model_validator(mode="after")
    def _candidates_valid(self) -> TrainConfig:
        for i, override in enumerate(self.select):
            if "select" in override:
                raise ValueError(f"select[{i}] cannot itself contain select")
            self.candidate(override)
        return self

    def candidate(self, override: dict[str, Any]) -> TrainConfig:
        """This config with one ``select`` override deep-merged in (and no ``select`` of its own)."""
        return TrainConfig.model_validate(merge(self.model_dump(mode="json") | {"select": []}, override))


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Nested dict ``base`` updated by ``override`` (dicts merged key by key)."""
    out = dict(base)
    for k, v in override.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_train_config(source: dict[str, Any] | str | Path | None = None, **overrides: Any) -> TrainConfig:
    """Read and validate a training config (default: the shipped ``default_train.yaml``).

    Args:
        source: a dict, a YAML path, or ``None``.
        overrides: top-level keys replacing those of the source (e.g. ``modalities``).

    Raises:
        ConfigError: unknown key or invalid value, naming the file and field.
    """
    return load_yaml_config(TrainConfig, source, DEFAULT_YAML, **overrides)


def flatten(config: TrainConfig) -> dict[str, str]:
    """``{"model.hidden": "32", ...}``: the config as flat string params (for MLflow)."""
    out: dict[str, str] = {}

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = str(obj)

    walk("", config.model_dump(mode="json"))
    return out
