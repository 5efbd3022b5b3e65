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
from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel

from clinfusion.configio import NoOptions
from clinfusion.errors import ConfigError, FeaturizeError
from clinfusion.featurize.options import RUNTIME_OPTIONS, validate_options
from clinfusion.featurize.tokens import TokenSet
from clinfusion.featurize.weights import weights_sha256
from clinfusion.workspace.hashing import sha256_text
from clinfusion.workspace.workspace import Workspace


class Encoder(ABC):
    """Base class of modality encoders.

    Class attributes:
        modality: the modality it encodes.
        name: registry name (also the cache folder name).
        version: bump when outputs change for the same inputs (invalidates the cache).
        Config: frozen pydantic model of its settings, its options (see featurize/options.py).
        needs_weights: it runs a network whose weights come from local files; without them it
            refuses to run unless ``random_init`` is set (:meth:`check_weights`).
        weights_options: names of the options that hold weight paths (file or directory); in the
            cache key each path is replaced by the content hash of what it points to.
        runtime_options: options that do not change outputs (batch size, device, threads),
            left out of the cache key.
    """

    modality: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "1"
    Config: ClassVar[type[BaseModel]] = NoOptions
    needs_weights: ClassVar[bool] = False
    weights_options: ClassVar[tuple[str, ...]] = ()
    runtime_options: ClassVar[frozenset[str]] = RUNTIME_OPTIONS

    def __init__(self, config: BaseModel | dict[str, Any] | None = None) -> None:
        if config is None:
            config = self.Config()
        elif isinstance(config, dict):
            config = validate_options(self.Config, config, f"{self.modality} encoder {self.name!r} options")
        self.config = config

    def check_weights(self) -> None:
        """Refuse to run a weights-needing encoder without weights (no silent random fallback).

        Raises:
            ConfigError: ``needs_weights`` and every weights option is empty while
                ``random_init`` is not set (the message names the option).
        """
        if not self.needs_weights or getattr(self.config, "random_init", False):
            return
        if not any(str(getattr(self.config, o, "") or "") for o in self.weights_options):
            option = self.weights_options[0] if self.weights_options else "model_dir"
            alt = (", or --option random_init=true to run with random weights on purpose"
                   if "random_init" in type(self.config).model_fields else "")
            raise ConfigError(f"needs weights: set --option {option}=PATH (a local checkpoint){alt}",
                              file=f"{self.modality} encoder {self.name!r}", field=option)

    def weights_hashes(self) -> dict[str, str]:
        """Option name -> content hash of the weights it points to (set weights options only).

        Raises:
            ConfigError: a weights option points to nothing (names the option and the path).
        """
        out: dict[str, str] = {}
        if getattr(self.config, "random_init", False):
            return out  # random weights on purpose: the paths are not read
        for option in self.weights_options:
            path = str(getattr(self.config, option, "") or "")
            if path:
                out[option] = weights_sha256(path, option=option)
        return out

    def cache_options(self) -> dict[str, Any]:
        """The options that change outputs: every option but ``runtime_options`` and the weight
        paths (which enter the key as content hashes, see :meth:`weights_hashes`)."""
        drop = set(self.runtime_options) | set(self.weights_options)
        return self.config.model_dump(mode="json", exclude=drop)

    def config_hash(self) -> str:
        """Hash of name, version, output-changing options and weight content: part of every cache key.

        Raises:
            ConfigError: the encoder needs weights and has none, or a weights path does not exist.
        """
        self.check_weights()
        drop = set(self.runtime_options) | set(self.weights_options)
        text = f"{self.name}|{self.version}|{self.config.model_dump_json(exclude=drop)}"
        weights = self.weights_hashes()
        if weights:
            text += "|weights:" + ",".join(f"{k}={v}" for k, v in sorted(weights.items()))
        return sha256_text(text)

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:  # noqa: B027 (optional hook)
        """Load models or cohort-level artifacts once before encoding (optional)."""

    def cohort_digests(self, ws: Workspace, per_patient: Mapping[str, pd.DataFrame]) -> dict[str, str]:
        """Per patient, a digest of what its tokens take from cohort-level rows (optional hook).

        A cohort-level item (the clinical table, the genomics matrices) covers every patient, so
        its content hash changes whenever any patient is added or edited; entered as such in every
        patient's cache key, one new patient would re-encode the whole cohort. An encoder that can
        say exactly what each patient's tokens depend on returns it here, and the runner puts that
        digest in the key in place of the items' hashes (:func:`clinfusion.featurize.cache.cache_key`).

        Args:
            ws: the workspace.
            per_patient: pseudonym -> the rows :meth:`encode` gets for that patient.

        Returns:
            Pseudonym -> digest; a patient left out keeps the items' content hashes in its key
            (always correct). Default: ``{}``.
        """
        return {}

    def output_digests(self, ws: Workspace, per_patient: Mapping[str, pd.DataFrame]) -> dict[str, str]:
        """:meth:`cohort_digests` for encoders whose cohort-level work is cheap: set up on the
        cohort rows, encode each patient in memory and digest the tokens themselves
        (:meth:`TokenSet.content_digest`). Exact by construction (equal digest, equal tokens);
        it saves the writing and hashing of unchanged token files, not the encoding. A patient
        whose encoding fails gets no digest (the run encodes it again and records the failure)."""
        if not per_patient:
            return {}
        rows = pd.concat(list(per_patient.values())).drop_duplicates("item_id")
        self.setup(ws, rows)
        out: dict[str, str] = {}
        for pid, own in per_patient.items():
            try:
                out[pid] = self.encode(pid, own, ws).content_digest()
            except FeaturizeError:
                continue
        return out

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
