"""Content hashes of input files and items (SHA-256, streamed in 1 MiB blocks)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_BLOCK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_BLOCK):
            h.update(chunk)
    return h.hexdigest()


def combine_hashes(parts: Iterable[tuple[str, str]]) -> str:
    """One hash for a multi-file item from (name, sha256) pairs; order-independent."""
    h = hashlib.sha256()
    for name, digest in sorted(parts):
        h.update(f"{name}\x00{digest}\n".encode())
    return h.hexdigest()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a string (e.g. a canonical config dump)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
