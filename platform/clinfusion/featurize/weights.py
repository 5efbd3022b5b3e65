"""Content hashes of model weights, for the token cache key.

Two checkpoints never share a cache, and moving a checkpoint does not invalidate one: the key
holds the hash of the bytes, not the path. Hashing a foundation model (UNI: 1.2 GB, ~3 s/GB) on
every run would be slow, so each file's hash is memoised by (resolved path, size, mtime_ns), in
this process and in ``$CLINFUSION_CACHE_DIR/weights-sha256.json`` (default
``~/.cache/clinfusion``); a rewritten file has a new mtime and is hashed again.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from clinfusion.errors import ClinFusionError, ConfigError
from clinfusion.workspace import atomic
from clinfusion.workspace.hashing import sha256_file, sha256_text

CACHE_ENV = "CLINFUSION_CACHE_DIR"
_MEMO: dict[str, str] = {}


def hash_cache_path() -> Path:
    """The persistent memo file of weight hashes."""
    base = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache" / "clinfusion")
    return Path(base).expanduser() / "weights-sha256.json"


def _memo_key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _load_memo() -> dict[str, str]:
    path = hash_cache_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def file_sha256(path: Path, disk_memo: dict[str, str] | None = None) -> str:
    """SHA-256 of one file's bytes, memoised by (resolved path, size, mtime_ns)."""
    key = _memo_key(path)
    if key not in _MEMO:
        found = (disk_memo or {}).get(key)
        _MEMO[key] = found or sha256_file(path)
    return _MEMO[key]


def weight_files(path: Path) -> list[Path]:
    """The files a weights path stands for: itself, or every non-hidden file under a directory."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


def weights_sha256(path: str | Path, *, option: str = "model_dir") -> str:
    """Content hash of a weights file or directory.

    A file: the SHA-256 of its bytes. A directory: the SHA-256 over its non-hidden files'
    (relative path, SHA-256) pairs, so the same snapshot copied elsewhere has the same hash.

    Args:
        path: the weights file or directory.
        option: the encoder option it came from (named in errors).

    Raises:
        ConfigError: the path does not exist or a directory holds no file.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ConfigError(f"weights not found: option {option!r} points to a path that does not exist",
                          file=p, field=option)
    files = weight_files(p)
    if not files:
        raise ConfigError(f"weights directory is empty (option {option!r})", file=p, field=option)
    disk = _load_memo()
    hashes = [(f.relative_to(p).as_posix() if p.is_dir() else "", file_sha256(f, disk)) for f in files]
    new = {_memo_key(f): h for f, (_, h) in zip(files, hashes, strict=True)}
    if any(disk.get(k) != v for k, v in new.items()):
        with contextlib.suppress(OSError, ClinFusionError):  # a read-only home only costs re-hashing next time
            atomic.write_json(hash_cache_path(), {**disk, **new})
    if p.is_file():
        return hashes[0][1]
    return sha256_text("\n".join(f"{name}:{h}" for name, h in hashes))
