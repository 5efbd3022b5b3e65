"""Random per-workspace secrets kept in files: made once, atomically, never replaced.

A secret is 32 random bytes written as 64 hex characters to a 0600 file under a 0700 directory
(``WS/.secrets/``). Two processes starting at once agree on one secret: each writes a temporary
file and hard-links it into place; the link fails if the other got there first, and both then read
the winner's file. An existing file is never overwritten (a replaced key would invalidate every
signature or keyed hash made with the old one).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

_CACHE: dict[str, bytes] = {}


def secret_bytes(path: str | Path) -> bytes:
    """The 32-byte secret in ``path``, creating the file (and its 0700 parent) on first use.

    Args:
        path: the key file, e.g. ``WS/.secrets/session.key``.

    Returns:
        The secret's raw bytes (32). Cached per process by path.

    Raises:
        ValueError: the file exists but does not hold hex text.
    """
    path = Path(path)
    cached = _CACHE.get(str(path))
    if cached is not None:
        return cached
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)  # mkstemp files are 0600
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process made first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise ValueError(f"{path}: expected a hex-encoded secret, got {len(text)} non-hex characters") from exc
    _CACHE[str(path)] = key
    return key
