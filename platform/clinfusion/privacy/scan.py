"""Scan a whole workspace for identifier strings: the check that nothing identifying was stored.

Every file under the workspace is read by what it is, not by its name alone:

- Parquet (catalog, token tables, exports): every cell of every column, and the file's
  key-value metadata (pandas schema JSON);
- SQLite (the MLflow backend store, the review store, with its ``-wal`` journal scanned as bytes):
  every cell of every table;
- JSON / JSONL / YAML / CSV / text: every line (JSON also by key path);
- NIfTI (``.nii``, ``.nii.gz``): the header's text fields (``descrip``, ``aux_file``,
  ``intent_name``, ``db_name``) and header extensions;
- PNG: ``tEXt``, ``zTXt`` and ``iTXt`` chunks;
- gzip and zip containers (``.gz``, ``.npz``, MLflow model archives): their decompressed members;
- anything else (``.npy``, ``.pt``, DICOM, MLflow artifacts): the raw bytes, as UTF-8 and UTF-16.

Matching is case-insensitive on the whole token. A :class:`Hit` names the file and the place
(row and column, key path, chunk, byte offset) and shows the token only masked
(:func:`mask_token`): the report of a scan is itself safe to paste into an issue.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from clinfusion.errors import ConfigError

MIN_TOKEN_CHARS = 4
"""Shorter tokens would match everywhere (``"12"``); they are refused, not silently skipped."""
MAX_DECOMPRESSED_BYTES = 512 * 2**20
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TEXT_SUFFIXES = {".json", ".jsonl", ".yaml", ".yml", ".csv", ".tsv", ".txt", ".md", ".log", ".html", ".xml",
                  ".hea", ".cfg", ".ini", ".toml", ".py", ".mlmodel", ""}


@dataclass(frozen=True)
class Hit:
    """One occurrence of an identifier.

    Attributes:
        file: path relative to the workspace.
        location: where in the file (``table runs row 3 column name``, ``line 12``, ``byte 4096``).
        token: the identifier, masked (:func:`mask_token`).
    """

    file: str
    location: str
    token: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.token}"


def mask_token(token: str) -> str:
    """``'PT-000123'`` -> ``'PT*******#3f2a'``: two characters, the length, a short hash; never the value."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()[:4]
    return f"{token[:2]}{'*' * (len(token) - 2)}#{digest}"


def check_tokens(tokens: Iterable[str], min_chars: int = MIN_TOKEN_CHARS) -> list[str]:
    """Stripped, de-duplicated tokens.

    Raises:
        ConfigError: no token, or a token shorter than ``min_chars`` (it would match everywhere).
    """
    out = sorted({t.strip() for t in tokens if t.strip()})
    if not out:
        raise ConfigError("no identifier to scan for: expected --tokens FILE (one per line) or --cohort DIR",
                          field="tokens")
    short = [t for t in out if len(t) < min_chars]
    if short:
        raise ConfigError(f"{len(short)} token(s) shorter than {min_chars} characters (e.g. {mask_token(short[0])}): "
                          "they would match everywhere; lengthen or remove them", field="tokens")
    return out


class _Matcher:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.lower = [t.lower() for t in tokens]
        self.encoded = [(t, enc, t.lower().encode(enc)) for t in tokens for enc in ("utf-8", "utf-16-le")]

    def text(self, value: str) -> Iterator[str]:
        low = value.lower()
        for tok, lt in zip(self.tokens, self.lower, strict=True):
            if lt in low:
                yield tok

    def data(self, blob: bytes) -> Iterator[tuple[str, int]]:
        low = blob.lower()
        for tok, _, needle in self.encoded:
            pos = low.find(needle)
            if pos >= 0:
                yield tok, pos


def _json_paths(value: object, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{path} key", str(k)
            yield from _json_paths(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _json_paths(v, f"{path}[{i}]")
    elif value is not None:
        yield path, str(value)


def _scan_text(data: bytes, m: _Matcher, suffix: str) -> Iterator[tuple[str, str]]:
    text = data.decode("utf-8", errors="replace")
    if suffix == ".json":
        try:
            for path, value in _json_paths(json.loads(text)):
                for tok in m.text(value):
                    yield tok, f"json {path}"
            return
        except ValueError:
            pass
    for n, line in enumerate(text.splitlines(), 1):
        for tok in m.text(line):
            yield tok, f"line {n}"


def _scan_parquet(path: Path, m: _Matcher) -> Iterator[tuple[str, str]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    for key, value in (pf.schema_arrow.metadata or {}).items():
        for tok in m.text(key.decode("utf-8", "replace") + " " + value.decode("utf-8", "replace")):
            yield tok, "parquet metadata"
    table = pf.read()
    for name in table.column_names:
        for tok in m.text(name):
            yield tok, f"column name {name!r}"
        for row, value in enumerate(table.column(name).to_pylist()):
            if value is not None:
                for tok in m.text(value if isinstance(value, str) else json.dumps(value, default=str)):
                    yield tok, f"row {row} column {name!r}"


def _scan_sqlite(path: Path, m: _Matcher) -> Iterator[tuple[str, str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cur = con.execute(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            for row, values in enumerate(cur):
                for col, value in zip(cols, values, strict=True):
                    if value is None:
                        continue
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    for tok in m.text(text):
                        yield tok, f"table {table} row {row} column {col}"
    finally:
        con.close()


def _png_chunks(data: bytes) -> Iterator[tuple[str, bytes]]:
    pos = len(_PNG_MAGIC)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt":
            yield "tEXt", body
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\x00")
            yield "zTXt", key + b" " + zlib.decompress(rest[1:])
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\x00")
            flag, text = rest[0:1], rest[2:].split(b"\x00", 2)[-1]
            yield "iTXt", key + b" " + (zlib.decompress(text) if flag == b"\x01" else text)


def _scan_nifti(data: bytes, m: _Matcher) -> Iterator[tuple[str, str]]:
    import nibabel as nib

    header = nib.Nifti1Header.from_fileobj(io.BytesIO(data), check=False)
    for field in ("descrip", "aux_file", "intent_name", "db_name"):
        if field in header:
            value = header[field].tobytes().decode("latin-1").rstrip("\x00")
            for tok in m.text(value):
                yield tok, f"nifti header {field}"
    for i, ext in enumerate(header.extensions):
        for tok in m.text(ext.get_content().decode("utf-8", "replace") if isinstance(ext.get_content(), bytes)
                          else str(ext.get_content())):
            yield tok, f"nifti extension {i}"


def _bounded_gunzip(data: bytes) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        return f.read(MAX_DECOMPRESSED_BYTES)


def _structured(name: str, data: bytes, m: _Matcher, path: Path | None) -> Iterator[tuple[str, str]]:
    suffix = Path(name).suffix.lower()
    if data.startswith(_SQLITE_MAGIC) and path is not None:
        yield from _scan_sqlite(path, m)
    elif data[:4] == b"PAR1" and path is not None:
        yield from _scan_parquet(path, m)
    elif data.startswith(_PNG_MAGIC):
        for kind, body in _png_chunks(data):
            for tok in m.text(body.decode("utf-8", "replace")):
                yield tok, f"png {kind} chunk"
    elif data[:2] == b"\x1f\x8b":
        inner = _bounded_gunzip(data)
        yield from ((t, f"gzip member: {loc}") for t, loc in scan_bytes(name[:-3], inner, m))
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                if not info.is_dir():
                    inner = z.open(info).read(MAX_DECOMPRESSED_BYTES)
                    yield from ((t, f"zip member {info.filename}: {loc}") for t, loc in scan_bytes(info.filename, inner, m))
    elif suffix == ".nii":
        yield from _scan_nifti(data, m)
    elif suffix in _TEXT_SUFFIXES:
        yield from _scan_text(data, m, suffix)


def scan_bytes(name: str, data: bytes, m: _Matcher, path: Path | None = None) -> Iterator[tuple[str, str]]:
    """``(token, location)`` for every identifier in one file's content (dispatch by content, then name).

    Every file is also searched as raw bytes (UTF-8 and UTF-16): a token that the structured
    reader did not place is still reported, at its byte offset.
    """
    found = list(_structured(name, data, m, path))
    yield from found
    placed = {t for t, _ in found}
    for tok, pos in m.data(data):
        if tok not in placed:
            yield tok, f"byte {pos}"


def scan_workspace(workspace: str | Path, tokens: Iterable[str]) -> list[Hit]:
    """Every occurrence of any token in any file under ``workspace``.

    Args:
        workspace: the workspace directory (the MLflow store and artifacts inside it included).
        tokens: identifier strings (at least :data:`MIN_TOKEN_CHARS` characters each).

    Returns:
        Hits, one per (file, location, token), sorted; empty when the workspace is clean.

    Raises:
        ConfigError: no tokens, too short tokens, or ``workspace`` is not a directory.
    """
    root = Path(workspace)
    if not root.is_dir():
        raise ConfigError("workspace is not a directory", file=root, field="WS")
    m = _Matcher(check_tokens(tokens))
    hits: set[Hit] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(root).as_posix()
        for tok in m.text(rel):
            hits.add(Hit(rel, "file path", mask_token(tok)))
        data = path.read_bytes()
        try:
            found = list(scan_bytes(path.name, data, m, path))
        except (sqlite3.Error, OSError, ValueError, zipfile.BadZipFile, zlib.error, EOFError) as err:
            kind = type(err).__name__  # a damaged container is still searched byte by byte
            found = [(t, f"byte {p} (unreadable as {path.suffix or 'its type'}: {kind})") for t, p in m.data(data)]
        hits.update(Hit(rel, loc, mask_token(tok)) for tok, loc in found)
    return sorted(hits, key=lambda h: (h.file, h.location, h.token))
