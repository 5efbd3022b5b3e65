"""Patient-graph settings: a frozen config with a commented default in ``default_graph.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clinfusion.configio import load_yaml_config

DEFAULT_YAML = Path(__file__).with_name("default_graph.yaml")

EDGE_STRATEGIES: tuple[str, ...] = ("spatial_knn", "sequential", "set_overlap", "feature_knn", "none")
"""Intra-modality edge builders (see :mod:`clinfusion.graph.edges`)."""

DEFAULT_STRATEGY: dict[str, str] = {
    "pathology": "spatial_knn",
    "radiology": "feature_knn",
    "ecg": "sequential",
    "reports": "sequential",
    "genomics": "set_overlap",
    "clinical": "none",
}


class GraphConfig(BaseModel):
    """How a patient's tokens become a graph.

    Attributes:
        k_spatial: neighbours per token for ``spatial_knn`` (tiles on their coordinates).
        k_feature: neighbours per token for ``feature_knn``.
        min_jaccard: gene-set overlap needed for a ``set_overlap`` edge.
        strategies: per-modality overrides of :data:`DEFAULT_STRATEGY`; a modality not listed
            anywhere uses ``feature_knn``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    k_spatial: int = Field(8, ge=1)
    k_feature: int = Field(4, ge=1)
    min_jaccard: float = Field(0.05, gt=0.0, le=1.0)
    strategies: dict[str, str] = Field(default_factory=dict)

    @field_validator("strategies")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        for modality, name in value.items():
            if name not in EDGE_STRATEGIES:
                raise ValueError(f"strategies.{modality} must be one of {list(EDGE_STRATEGIES)}, got {name!r}")
        return value

    def strategy(self, modality: str) -> str:
        """The edge strategy of a modality."""
        return self.strategies.get(modality, DEFAULT_STRATEGY.get(modality, "feature_knn"))


def load_graph_config(data: dict[str, Any] | str | Path | None = None) -> GraphConfig:
    """A :class:`GraphConfig` from a dict, a YAML file, or the shipped default.

    Raises:
        ConfigError: unknown key or bad value (names the field).
    """
    return load_yaml_config(GraphConfig, data, DEFAULT_YAML)
