"""Report encoders: ``ENCODERS`` registry and ``DEFAULT_ENCODER``.

- ``minilm`` (default, offline): the packaged all-MiniLM-L6-v2 sentence embeddings (D = 384),
  one token per sentence.
- ``local_transformer``: any Hugging Face encoder (e.g. a clinical BERT) from a local directory
  (``--option model_path=DIR``), mean- or CLS-pooled, one token per sentence.
- ``hf_encoder``: a local Hugging Face encoder (``--option model_dir=DIR``) over whole reports
  (or sentences) with sliding windows of ``max_length`` tokens overlapping by ``stride``,
  averaged (:mod:`.hf_encoder`).
- ``tfidf_svd``: TF-IDF + SVD applied from a model file fitted beforehand with
  :func:`~clinfusion.modalities.reports.embed.fit_tfidf_svd` on a training corpus
  (``--option model_path=FILE``; the
  encoder never fits on the cohort, so it stays per-patient and leak-free).
- ``findings``: interpretable, one token per report: present/uncertain/absent indicators of
  every vocabulary finding (:mod:`.findings`).

Sentence tokens carry ``positions = [report index, sentence order]``, ``names`` = section and
``groups`` = report index. A patient's reports from several items (text files and a CSV) are
numbered together, in item order.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from clinfusion.errors import FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.reports.findings import FINDINGS, report_findings
from clinfusion.modalities.reports.hf_encoder import HFEncoder
from clinfusion.modalities.reports.record import read_records, sentences_of
from clinfusion.workspace.workspace import Workspace


def patient_reports(patient_id: str, rows: pd.DataFrame, ws: Workspace) -> list[dict[str, Any]]:
    """A patient's de-identified report records from every row that covers them, renumbered."""
    records: list[dict[str, Any]] = []
    for _, r in rows.sort_values("item_id").iterrows():
        records += read_records(ws.root / r["artifact_dir"], patient_id)
    if not records:
        raise FeaturizeError("patient has no ingested reports", field="rows")
    return [{**rec, "report": i} for i, rec in enumerate(records)]


def kept_sentences(record: dict[str, Any], exclude: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(section, sentence)`` pairs of one report without the ``exclude`` sections.

    The exclusion applies only when the report has another section: a report with no
    recognised heading (an ECG interpretation line, a short addendum) is all ``PREAMBLE`` and is
    kept whole, instead of leaving the patient without report tokens.
    """
    pairs = sentences_of(record)
    if all(section in exclude for section, _ in pairs):
        return pairs
    return [p for p in pairs if p[0] not in exclude]


class _SentenceConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    exclude_sections: tuple[str, ...] = Field(("PREAMBLE",), description="sections whose sentences are skipped "
                                              "(the preamble holds header lines, mostly surrogates) in reports "
                                              "that have another section; a report without headings is kept whole")
    max_sentences: int = Field(512, ge=1, description="cap on tokens per patient (first sentences kept)")
    batch_size: int = Field(64, ge=1, description="sentences per forward pass")


class _SentenceEncoder(Encoder):
    """Shared logic: sentences -> backend embeddings -> TokenSet."""

    modality = "reports"
    config: _SentenceConfig  # validated by Encoder.__init__ with the subclass's Config
    _backend: Any = None

    @abstractmethod
    def _make_backend(self) -> Any:
        """The embedding backend (an object with ``embed(sentences) -> [N, D]``) of this encoder."""

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        if self._backend is None:
            self.check_weights()
            self._backend = self._make_backend()

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        cfg = self.config
        sents, pos, names = [], [], []
        for rec in patient_reports(patient_id, rows, ws):
            for order, (section, sentence) in enumerate(kept_sentences(rec, cfg.exclude_sections)):
                sents.append(sentence)
                pos.append((rec["report"], order))
                names.append(section)
        if not sents:
            raise FeaturizeError("no sentence left after excluding sections "
                                 f"{list(cfg.exclude_sections)}", field="exclude_sections")
        sents, pos, names = sents[:cfg.max_sentences], pos[:cfg.max_sentences], names[:cfg.max_sentences]
        self.setup(ws, rows)
        emb = self._backend.embed(sents)
        positions = np.asarray(pos, dtype=np.float32)
        return TokenSet(emb, positions=positions, names=names, groups=positions[:, 0].astype(np.int64),
                        meta={"n_reports": int(positions[:, 0].max()) + 1, "encoder": self.name})


class MiniLMConfig(_SentenceConfig):
    """``minilm`` settings."""

    normalize: bool = Field(True, description="L2-normalise embeddings")


class MiniLMEncoder(_SentenceEncoder):
    """Packaged all-MiniLM-L6-v2 sentence embeddings (offline, D = 384)."""

    name = "minilm"
    version = "2"  # 2: reports without headings are embedded whole
    Config: ClassVar[type[BaseModel]] = MiniLMConfig
    config: MiniLMConfig  # validated by Encoder.__init__ with Config

    def _make_backend(self) -> Any:
        from clinfusion.modalities.reports.embed import SentenceTransformerBackend

        return SentenceTransformerBackend(None, self.config.batch_size, self.config.normalize)


class LocalTransformerConfig(_SentenceConfig):
    """``local_transformer`` settings."""

    model_path: str = Field("", description="local Hugging Face model directory (config.json, weights, tokenizer)")
    pooling: Literal["mean", "cls"] = "mean"
    max_length: int = Field(128, ge=8, description="tokens per sentence")


class LocalTransformerEncoder(_SentenceEncoder):
    """A pluggable local Hugging Face encoder (e.g. a clinical BERT directory)."""

    name = "local_transformer"
    version = "2"  # 2: reports without headings are embedded whole
    Config: ClassVar[type[BaseModel]] = LocalTransformerConfig
    config: LocalTransformerConfig  # validated by Encoder.__init__ with Config
    needs_weights = True
    weights_options = ("model_path",)  # `--option model_path=DIR`; its content hash is in the cache key

    def _make_backend(self) -> Any:
        from clinfusion.modalities.reports.embed import HFTransformerBackend

        c = self.config
        return HFTransformerBackend(c.model_path, c.pooling, c.max_length, c.batch_size)


class TfidfSvdConfig(_SentenceConfig):
    """``tfidf_svd`` settings."""

    model_path: str = Field("", description="model file written by fit_tfidf_svd on a training corpus")


class TfidfSvdEncoder(_SentenceEncoder):
    """TF-IDF + SVD sentence vectors from a pre-fitted model file (CPU-cheap fallback)."""

    name = "tfidf_svd"
    version = "2"  # 2: reports without headings are embedded whole
    Config: ClassVar[type[BaseModel]] = TfidfSvdConfig
    config: TfidfSvdConfig  # validated by Encoder.__init__ with Config
    needs_weights = True
    weights_options = ("model_path",)  # `--option model_path=FILE`; its content hash is in the cache key

    def _make_backend(self) -> Any:
        from clinfusion.modalities.reports.embed import TfidfSvdBackend

        return TfidfSvdBackend(self.config.model_path)


FINDING_FEATURES: tuple[str, ...] = tuple(f"{f}_{s}" for f in FINDINGS for s in ("present", "uncertain", "absent"))


def findings_vector(status: dict[str, str]) -> np.ndarray:
    """One-hot present/uncertain/absent per finding (``not_mentioned`` = all zero): ``[3 * F]``."""
    return np.array([float(status[f] == s) for f in FINDINGS for s in ("present", "uncertain", "absent")],
                    dtype=np.float32)


class FindingsEncoder(Encoder):
    """One interpretable token per report: negation-aware finding indicators."""

    modality = "reports"
    name = "findings"
    version = "1"

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        recs = patient_reports(patient_id, rows, ws)
        tokens = np.stack([findings_vector(report_findings([s for _, s in sentences_of(r)])) for r in recs])
        idx = np.arange(len(recs))
        return TokenSet(tokens, positions=idx.astype(np.float32), names=[r["kind"] for r in recs],
                        feature_names=list(FINDING_FEATURES), groups=idx, meta={"n_reports": len(recs)})


ENCODERS: dict[str, type[Encoder]] = {
    "minilm": MiniLMEncoder,
    "local_transformer": LocalTransformerEncoder,
    "tfidf_svd": TfidfSvdEncoder,
    "findings": FindingsEncoder,
    "hf_encoder": HFEncoder,
}
DEFAULT_ENCODER = "minilm"
