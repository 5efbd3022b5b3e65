"""Retraining configuration: YAML -> frozen pydantic :class:`RetrainConfig` (defaults in ``default_retrain.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clinfusion.configio import load_yaml_config
from clinfusion.executors import EXECUTORS  # noqa: F401 (re-exported: the executor choices)

DEFAULT_YAML = Path(__file__).with_name("default_retrain.yaml")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubgroupSpec(_Frozen):
    """A declared subgroup: a clinical-table column, split into bands when ``bins`` are given.

    ``{column: sex}`` gives one subgroup per value; ``{column: age, bins: [0, 60, 70, 200]}`` gives
    the bands ``[0, 60)``, ``[60, 70)``, ``[70, 200)``.
    """

    column: str
    bins: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _sorted(self) -> SubgroupSpec:
        if self.bins is not None and (len(self.bins) < 2 or list(self.bins) != sorted(set(self.bins))):
            raise ValueError(f"subgroup {self.column}: bins must be at least two increasing edges")
        return self


class GateConfig(_Frozen):
    """When a challenger replaces the champion (see docs/retrain.md, "Gate rules")."""

    cindex_margin: float = Field(0.01, ge=0.0, le=0.5)
    ci_level: float = Field(0.95, gt=0.5, lt=1.0)
    n_bootstrap: int = Field(500, ge=50)
    ibs_tolerance: float = Field(0.01, ge=0.0)
    subgroup_tolerance: float = Field(0.05, ge=0.0)
    subgroups: tuple[SubgroupSpec, ...] = ()
    min_subgroup_patients: int = Field(10, ge=2)
    min_common_patients: int = Field(20, ge=5)
    seed: int = 0


class DriftConfig(_Frozen):
    """Thresholds that mark a drift warning (new patients vs the champion's training cohort)."""

    enabled: bool = True
    psi_warn: float = Field(0.25, gt=0)
    ks_p_warn: float = Field(0.01, gt=0, lt=1)
    availability_warn: float = Field(0.15, gt=0, le=1)
    outcome_rate_warn: float = Field(0.15, gt=0, le=1)
    min_patients: int = Field(5, ge=2)
    bins: int = Field(10, ge=2, le=50)
    max_token_features: int = Field(24, ge=0)


class OverrideConfig(_Frozen):
    """Clinician overrides from the review store used as corrected labels (on by default).

    The latest ``override`` of ``target`` per patient replaces that patient's label; overrides of
    ``disagreement_target`` are not labels but are counted per predicted group in the gate report.
    """

    enabled: bool = True
    target: Literal["diagnosis"] = "diagnosis"
    disagreement_target: str = "risk_group"


class RetrainConfig(_Frozen):
    """Everything ``clinfusion retrain`` needs besides the workspace."""

    cohort_dir: Path | None = None
    demo_key: bool = False
    modalities: tuple[str, ...] | None = None
    train_config: Path | None = None
    train: dict[str, Any] = Field(default_factory=dict)
    tracking_uri: str | None = None
    ingest_workers: int = Field(1, ge=1)
    featurize_workers: int = Field(1, ge=1)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    ray_num_cpus: int = Field(2, ge=1)
    gate: GateConfig = GateConfig()
    drift: DriftConfig = DriftConfig()
    overrides: OverrideConfig = OverrideConfig()

    def train_settings(self, origin: str = "the retrain config"):
        """The :class:`~clinfusion.training.config.TrainConfig`: ``train_config`` (or the packaged
        default) with the inline ``train`` keys merged over it."""
        from clinfusion.configio import read_yaml_mapping
        from clinfusion.errors import ConfigError
        from clinfusion.training.config import load_train_config, merge

        base = read_yaml_mapping(self.train_config) if self.train_config else {}
        try:
            return load_train_config(merge(base, self.train))
        except ConfigError as err:  # name where the merged values came from, not "<dict>"
            source = f"{origin} (train: keys over {self.train_config or 'default_train.yaml'})"
            raise ConfigError(err.message, file=source, field=err.field) from None


def load_retrain_config(source: dict[str, Any] | str | Path | None = None, **overrides: Any) -> RetrainConfig:
    """Read and validate a retraining config (default: the packaged ``default_retrain.yaml``).

    Args:
        source: a dict, a YAML path, or ``None``.
        overrides: top-level keys replacing those of the source.

    Raises:
        ConfigError: unknown key or invalid value, naming the file and field.
    """
    config = load_yaml_config(RetrainConfig, source, DEFAULT_YAML, **overrides)
    # a bad training config fails here, before any ingest or featurize work
    config.train_settings(str(source or DEFAULT_YAML) if not isinstance(source, dict) else "<dict>")
    return config
