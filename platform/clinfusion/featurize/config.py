"""Featurize config files: one block per modality naming its encoder and the encoder's options.

Example (``clinfusion featurize -w WS --config featurize.yaml``)::

    pathology:
      encoder: timm
      options: {model_dir: /models/uni, batch_size: 64}
    reports:
      encoder: minilm

The options are validated later, against the chosen encoder's ``Config``
(:func:`clinfusion.featurize.options.validate_options`); this module checks the file's shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clinfusion.configio import read_yaml_mapping, validate_config
from clinfusion.errors import ConfigError


class FeaturizeBlock(BaseModel):
    """One modality's block.

    Attributes:
        encoder: encoder name (``None``: the modality's default encoder).
        options: encoder option -> value.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    encoder: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


def load_featurize_config(path: str | Path) -> dict[str, FeaturizeBlock]:
    """``{modality: FeaturizeBlock}`` of a featurize YAML file, in file order.

    Raises:
        ConfigError: unreadable file, a block that is not a mapping, or a key other than
            ``encoder``/``options`` (names the file and the modality).
    """
    data = read_yaml_mapping(path)
    out: dict[str, FeaturizeBlock] = {}
    for modality, block in data.items():
        if block is None:
            block = {}
        if not isinstance(block, dict):
            raise ConfigError(f"{modality}: expected a mapping with 'encoder' and 'options', got {type(block).__name__}",
                              file=path, field=str(modality))
        try:
            out[str(modality)] = validate_config(FeaturizeBlock, block, str(path))
        except ConfigError as err:
            raise ConfigError(f"{modality}.{err.message}", file=path, field=f"{modality}.{err.field}") from None
    return out
