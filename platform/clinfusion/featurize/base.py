"""The contract every encoder follows.

An encoder turns one patient's ingested artifacts of one modality into a :class:`TokenSet`.
Encoders are *per patient and stateless with respect to the cohort*: anything fitted on the
cohort (z-scoring, PCA, vocabulary) belongs to the training pipeline, which fits it on the
training fold only. That keeps the token cache valid for every fold and free of leakage.

Subclasses live in ``modalities/<modality>/features.py`` and are listed there in
``ENCODERS: dict[str, type[Encoder]]`` with a ``DEFAULT_ENCODER`` name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel

from clinfusion.configio import NoOptions
from clinfusion.featurize.tokens import TokenSet
from clinfusion.workspace.hashing import sha256_text
from clinfusion.workspace.workspace import Workspace


class Encoder(ABC):
    """Base class of modality encoders.

    Class attributes:
        modality: the modality it encodes.
        name: registry name (also the cache folder name).
        version: bump when outputs change for the same inputs (invalidates the cache).
        Config: frozen pydantic model of its settings (part of the cache key).
    """

    modality: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "1"
    Config: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, config: BaseModel | dict[str, Any] | None = None) -> None:
        if config is None:
            config = self.Config()
        elif isinstance(config, dict):
            config = self.Config.model_validate(config)
        self.config = config

    def config_hash(self) -> str:
        """Hash of name, version and config: part of every cache key."""
        return sha256_text(f"{self.name}|{self.version}|{self.config.model_dump_json()}")

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:  # noqa: B027 (optional hook)
        """Load models or cohort-level artifacts once before encoding (optional)."""

    @abstractmethod
    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        """Encode one patient.

        Args:
            patient_id: the patient's pseudonym.
            rows: the patient's ingested catalog rows of this modality, plus cohort-level rows
                that cover the patient; artifacts are under ``ws.root / row.artifact_dir``.
            ws: the workspace.

        Returns:
            The patient's tokens.

        Raises:
            FeaturizeError: the patient's data cannot be encoded (recorded as a failure).
        """
