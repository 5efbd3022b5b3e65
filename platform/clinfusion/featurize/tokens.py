"""TokenSet: what every encoder gives a patient for one modality.

Shapes:
    tokens: ``[T, D]`` float32, T >= 1 tokens of dimension D.
    positions: ``[T, P]`` float32 or ``None``: where each token sits (tile x/y in level-0
        pixels, lead index, window start in seconds, sentence order, ...).
    names: ``T`` strings or ``None``: token labels (lead names, gene-set names, section ids).
    feature_names: ``D`` strings or ``None``: what each dimension means, for interpretable
        (handcrafted) encoders.
    groups: ``[T]`` int64 or ``None``: which source a token came from (slide index, ECG
        window, report index) when a patient has several.

A missing modality has *no* TokenSet (never a zero-filled one): the graph marks it absent.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.errors import FeaturizeError


@dataclass
class TokenSet:
    """Tokens of one patient for one modality (see module docstring for shapes)."""

    tokens: np.ndarray
    positions: np.ndarray | None = None
    names: list[str] | None = None
    feature_names: list[str] | None = None
    groups: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tokens = np.asarray(self.tokens, dtype=np.float32)
        if self.tokens.ndim != 2 or self.tokens.shape[0] < 1:
            raise FeaturizeError(f"tokens must have shape [T>=1, D], got {self.tokens.shape}", field="tokens")
        if not np.isfinite(self.tokens).all():
            raise FeaturizeError("tokens contain NaN or infinite values", field="tokens")
        t, d = self.tokens.shape
        if self.positions is not None:
            self.positions = np.asarray(self.positions, dtype=np.float32)
            if self.positions.ndim == 1:
                self.positions = self.positions[:, None]
            if self.positions.shape[0] != t:
                raise FeaturizeError(f"positions has {self.positions.shape[0]} rows for {t} tokens", field="positions")
        if self.groups is not None:
            self.groups = np.asarray(self.groups, dtype=np.int64)
            if self.groups.shape != (t,):
                raise FeaturizeError(f"groups must have shape [{t}], got {self.groups.shape}", field="groups")
        if self.names is not None and len(self.names) != t:
            raise FeaturizeError(f"{len(self.names)} names for {t} tokens", field="names")
        if self.feature_names is not None and len(self.feature_names) != d:
            raise FeaturizeError(f"{len(self.feature_names)} feature names for dimension {d}", field="feature_names")

    @property
    def n_tokens(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def dim(self) -> int:
        return int(self.tokens.shape[1])

    def content_digest(self) -> str:
        """SHA-256 of the token set's content (arrays with dtype and shape, names, meta), independent
        of how it is serialised (``.npz`` archives carry write times, so their bytes are not)."""
        h = hashlib.sha256()
        for name in ("tokens", "positions", "groups"):
            arr = getattr(self, name)
            h.update(f"{name}:{'-' if arr is None else f'{arr.dtype.str}{arr.shape}'};".encode())
            if arr is not None:
                h.update(np.ascontiguousarray(arr).tobytes())
        header = {"names": self.names, "feature_names": self.feature_names, "meta": self.meta}
        h.update(json.dumps(header, default=str, sort_keys=True).encode("utf-8"))
        return h.hexdigest()

    def to_bytes(self) -> bytes:
        """Serialise as an ``.npz`` archive (no pickles)."""
        arrays: dict[str, Any] = {"tokens": self.tokens}  # ndarrays (Any: numpy's stub types **kwds as its bool flag)
        if self.positions is not None:
            arrays["positions"] = self.positions
        if self.groups is not None:
            arrays["groups"] = self.groups
        header = {"names": self.names, "feature_names": self.feature_names, "meta": self.meta}
        arrays["header"] = np.frombuffer(json.dumps(header, default=str).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TokenSet:
        """Inverse of :meth:`to_bytes`."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes().decode("utf-8"))
            return cls(
                tokens=z["tokens"],
                positions=z.get("positions", None),
                groups=z.get("groups", None),
                names=header.get("names"),
                feature_names=header.get("feature_names"),
                meta=header.get("meta") or {},
            )

    @classmethod
    def load(cls, path: str | Path) -> TokenSet:
        """Read a TokenSet saved with :meth:`to_bytes`.

        Raises:
            FeaturizeError: missing, truncated or not a token file (names the file).
        """
        import zipfile

        from clinfusion.errors import FeaturizeError

        try:
            return cls.from_bytes(Path(path).read_bytes())
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, EOFError) as err:
            raise FeaturizeError(f"not a readable token file ({type(err).__name__}): run featurize again",
                                 file=Path(path).name, field="tokens") from None
