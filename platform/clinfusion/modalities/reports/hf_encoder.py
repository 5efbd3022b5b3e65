"""``hf_encoder``: any local Hugging Face encoder directory (BERT family) with sliding windows for long text.

``model_dir`` is a directory as ``save_pretrained`` writes it (BioClinicalBERT, PubMedBERT,
...): ``config.json``, ``model.safetensors`` or ``pytorch_model.bin``, and tokenizer files
(``tokenizer.json``, or ``vocab.txt`` for BERT). A text longer than ``max_length`` tokens is
cut into windows of ``max_length`` tokens that overlap by ``stride`` tokens (the tokenizer's
overflow windows); each window is pooled (``mean``: attention-mask-weighted mean of the last
hidden state; ``cls``: its first token) and the windows of one text are averaged.

``unit=report`` (default) gives one token per report (its kept sections' sentences joined);
``unit=sentence`` one per sentence as the other report encoders.

Shapes:
    report: tokens ``[R, hidden]``, positions ``[R, 1]`` report index, ``groups`` = report index.
    sentence: tokens ``[N, hidden]``, positions ``[N, 2]`` (report, sentence order), names = section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from clinfusion.errors import ConfigError, FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.options import WeightsOptions, resolve_device
from clinfusion.featurize.tokens import TokenSet
from clinfusion.featurize.weights import weights_sha256
from clinfusion.workspace.hashing import sha256_text
from clinfusion.workspace.workspace import Workspace


class HFEncoderConfig(WeightsOptions):
    """``hf_encoder`` options (plus :class:`WeightsOptions`: ``model_dir`` = the model directory)."""

    pooling: Literal["mean", "cls"] = Field("mean", description="window pooling: mask-weighted mean or the CLS token")
    max_length: int = Field(512, ge=16, le=8192, description="tokens per window (capped at the model's maximum)")
    stride: int = Field(128, ge=0, description="tokens shared by consecutive windows of a long text")
    unit: Literal["report", "sentence"] = Field("report", description="one token per report or per sentence")
    exclude_sections: tuple[str, ...] = Field(("PREAMBLE",), description="sections left out (a report without "
                                              "headings is kept whole)")
    max_tokens: int = Field(512, ge=1, description="cap on tokens per patient (first reports/sentences kept)")

    @model_validator(mode="after")
    def _stride_fits(self) -> HFEncoderConfig:
        if self.stride > self.max_length // 2:
            raise ValueError(f"stride ({self.stride}) must be at most half of max_length ({self.max_length})")
        return self


class WindowedHFBackend:
    """A local HF encoder embedding texts of any length by averaged sliding windows.

    Args:
        path: model directory; pooling/max_length/stride/batch_size: see :class:`HFEncoderConfig`.
        device: ``cpu`` or ``cuda``.
        random_init: build the architecture of ``config.json`` with seeded random weights.
    """

    def __init__(self, path: str | Path, *, pooling: str = "mean", max_length: int = 512, stride: int = 128,
                 batch_size: int = 32, device: str = "cpu", random_init: bool = False, seed: int = 0) -> None:
        from clinfusion.modalities.reports.embed import _offline

        _offline()
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        path = Path(path).expanduser()
        if not (path / "config.json").is_file():
            raise ConfigError("not a Hugging Face model directory (no config.json; write it with save_pretrained)",
                              file=path, field="model_dir")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as err:
            raise ConfigError(f"no usable tokenizer files (tokenizer.json or vocab.txt): {str(err)[:160]}", file=path,
                              field="model_dir") from None
        if not self.tokenizer.is_fast:
            raise ConfigError("sliding windows need a fast tokenizer (tokenizer.json, or vocab.txt for BERT)",
                              file=path, field="model_dir")
        if random_init:
            torch.manual_seed(seed)
            model = AutoModel.from_config(AutoConfig.from_pretrained(str(path), local_files_only=True))
        else:
            model = AutoModel.from_pretrained(str(path), local_files_only=True)
        self.model = model.eval().to(device)
        limit = int(getattr(self.model.config, "max_position_embeddings", max_length) or max_length)
        self.max_length = min(max_length, limit)
        self.stride = min(stride, self.max_length // 2)
        self.pooling, self.batch_size, self.device = pooling, batch_size, device

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings ``[N, hidden]`` of ``texts`` (mean of their windows' pooled vectors)."""
        import torch

        enc = self.tokenizer(texts, truncation=True, max_length=self.max_length, stride=self.stride,
                             return_overflowing_tokens=True, padding=True, return_tensors="pt")
        owner = enc.pop("overflow_to_sample_mapping").numpy()
        pooled = []
        with torch.inference_mode():
            for i in range(0, len(owner), self.batch_size):
                batch = {k: v[i:i + self.batch_size].to(self.device) for k, v in enc.items()}
                hidden = self.model(**batch).last_hidden_state
                if self.pooling == "cls":
                    vec = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                pooled.append(vec.float().cpu().numpy())
        windows = np.concatenate(pooled)
        return np.stack([windows[owner == k].mean(axis=0) for k in range(len(texts))]).astype(np.float32)


class HFEncoder(Encoder):
    """A local Hugging Face encoder over reports or sentences (see module docstring)."""

    modality = "reports"
    name = "hf_encoder"
    version = "1"
    Config = HFEncoderConfig
    config: HFEncoderConfig  # validated by Encoder.__init__ with Config
    needs_weights = True
    weights_options = ("model_dir",)
    _backend: Any = None

    def config_hash(self) -> str:
        """The base key; with ``random_init`` (weights not hashed) plus the directory's content
        (config.json and tokenizer decide the random model's outputs)."""
        key = super().config_hash()
        if self.config.random_init and self.config.model_dir:
            key = sha256_text(key + "|model_dir:" + weights_sha256(self.config.model_dir))
        return key

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        if self._backend is None:
            self.check_weights()
            c = self.config
            if not c.model_dir:
                raise ConfigError("hf_encoder needs model_dir (config.json + tokenizer) even with random_init",
                                  field="model_dir")
            self._backend = WindowedHFBackend(c.model_dir, pooling=c.pooling, max_length=c.max_length,
                                              stride=c.stride, batch_size=c.batch_size,
                                              device=resolve_device(c.device), random_init=c.random_init, seed=c.seed)

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        from clinfusion.modalities.reports.features import kept_sentences, patient_reports

        c = self.config
        texts: list[str] = []
        pos: list[Any] = []
        names: list[str] = []
        for rec in patient_reports(patient_id, rows, ws):
            pairs = kept_sentences(rec, c.exclude_sections)
            if c.unit == "report":
                if pairs:
                    texts.append(" ".join(s for _, s in pairs))
                    pos.append(rec["report"])
                    names.append(str(rec.get("kind", "report")))
            else:
                for order, (section, sentence) in enumerate(pairs):
                    texts.append(sentence)
                    pos.append((rec["report"], order))
                    names.append(section)
        if not texts:
            raise FeaturizeError("no report text left after excluding sections "
                                 f"{list(c.exclude_sections)}", field="exclude_sections")
        texts, pos, names = texts[:c.max_tokens], pos[:c.max_tokens], names[:c.max_tokens]
        self.setup(ws, rows)
        positions = np.asarray(pos, dtype=np.float32)
        report = positions if positions.ndim == 1 else positions[:, 0]
        return TokenSet(self._backend.embed(texts), positions=positions, names=names,
                        groups=report.astype(np.int64),
                        meta={"n_reports": int(report.max()) + 1, "encoder": self.name, "unit": c.unit})
