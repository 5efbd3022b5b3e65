"""Training configuration: YAML -> frozen pydantic :class:`TrainConfig` (defaults in ``default_train.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clinfusion.configio import load_yaml_config
from clinfusion.graph.config import GraphConfig
from clinfusion.models.config import FusionConfig

DEFAULT_YAML = Path(__file__).with_name("default_train.yaml")
BASELINES: tuple[str, ...] = ("clinical_cox", "coxnet", "coxnet_clinical", "coxnet_genomics_clinical", "rsf",
                               "rsf_clinical", "rsf_clinical_genes", "gb_survival", "concat_mlp", "late_fusion",
                               "unimodal")
"""Baselines the harness knows (:mod:`clinfusion.training.candidates`); ``unimodal`` means one fusion
model per modality (``unimodal_<m>``)."""
STACK = "stack"
"""Name of the super learner (:mod:`clinfusion.training.stacking`) in the results and ``default_model``."""


class StackConfig(BaseModel):
    """The super learner over the candidates (fusion, baselines, architectures).

    ``candidates``: names stacked (None: fusion + every enabled baseline row except ``unimodal_*``
    + every registered architecture); ``inner_folds``: k of the inner stratified k-fold of each
    training fold giving the candidates' out-of-fold risks (k extra fits of every candidate);
    ``ridge``: L2 penalty of the non-negative Cox meta-learner (per event); ``inner_override``: a
    config override (as in ``select``) for the fusion-type candidates inside the inner folds only
    (cheap settings; the refit on the whole training fold uses the full config).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    inner_folds: int = Field(5, ge=2, le=20)
    candidates: tuple[str, ...] | None = None
    ridge: float = Field(0.01, ge=0)
    inner_override: dict[str, Any] = Field(default_factory=lambda: {"optim": {"epochs": 20, "patience": 4}})


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
    stack: StackConfig = StackConfig()
    default_model: str = STACK

    @field_validator("baselines")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from clinfusion.training.candidates import architectures

        allowed = [*BASELINES, *architectures()]  # architectures (clinfusion.training.architectures) get rows too
        bad = [b for b in value if b not in allowed]
        if bad:
            raise ValueError(f"unknown baseline(s) {bad}; expected some of {allowed}")
        return value

    @model_validator(mode="after")
    def _candidates_valid(self) -> TrainConfig:
        for i, override in enumerate(self.select):
            if "select" in override:
                raise ValueError(f"select[{i}] cannot itself contain select")
            self.candidate(override)
        if self.stack.inner_override:  # validated without recursing into its own stack section
            TrainConfig.model_validate(merge(self.model_dump(mode="json") | {"select": [], "stack": {"inner_override": {}}},
                                             self.stack.inner_override))
        from clinfusion.training.candidates import known_names

        known = known_names()
        bad = [c for c in self.stack.candidates or () if c not in known and not c.startswith("unimodal_")]
        if bad:
            raise ValueError(f"stack.candidates: unknown {bad}; expected some of {sorted(known)}")
        if self.default_model == STACK and not self.stack.enabled:
            raise ValueError("default_model is stack but stack.enabled is false; enable it or name another model")
        if self.default_model not in {*known, STACK} and not self.default_model.startswith("unimodal_"):
            raise ValueError(f"default_model {self.default_model!r} unknown; expected stack or one of {sorted(known)}")
        return self

    def inner(self) -> TrainConfig:
        """The config of fusion-type candidates inside the stack's inner folds (``stack.inner_override``)."""
        return self.candidate(self.stack.inner_override)

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
