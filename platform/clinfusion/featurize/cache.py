"""Token cache: ``tokens/<modality>/<encoder>/<pseudonym>-<key16>.npz`` plus ``index.json``.

The key hashes the encoder's name, version and config with the content hashes of the catalog
rows it reads, so a cache hit is a file that exists: a rerun on unchanged inputs does no work,
and a changed input, encoder version or config gives a new key. ``index.json`` (written at the
end of a run) maps each patient to its current file and records failures.

Integrity: each index entry also holds the SHA-256 of its file and the patient it belongs to
(``{"file", "key", "sha256", "patient"}``). :func:`verify_entry` checks both before a file is
trusted: ``featurize`` recomputes (and reports, ``FeaturizeReport.recomputed``) an entry whose
file is missing, truncated, unreadable or replaced by another file (e.g. another patient's
copied over it), and :func:`load_tokens` refuses such a cache with a readable
:class:`~clinfusion.errors.FeaturizeError` telling to rerun featurize (never a ``BadZipFile``
traceback, never another patient's tokens).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.errors import FeaturizeError
from clinfusion.featurize.tokens import TokenSet
from clinfusion.workspace import atomic
from clinfusion.workspace.hashing import sha256_file, sha256_text
from clinfusion.workspace.workspace import Workspace


def cache_dir(ws: Workspace, modality: str, encoder: str) -> Path:
    """Folder of one (modality, encoder) cache."""
    return ws.tokens_dir / modality / encoder


def cache_key(config_hash: str, rows: pd.DataFrame, cohort_digest: str | None = None) -> str:
    """Key of a patient's tokens: encoder config hash + the content of every row it reads.

    Args:
        config_hash: :meth:`clinfusion.featurize.base.Encoder.config_hash`.
        rows: the patient's catalog rows (its own items and the cohort-level items covering it).
        cohort_digest: the encoder's digest of what this patient takes from the cohort-level
            rows (:meth:`~clinfusion.featurize.base.Encoder.cohort_digests`); when given it
            replaces those rows' whole-item content hashes, so adding another patient to the
            table leaves this patient's key unchanged. ``None``: the items' hashes.
    """
    def part(r: Any) -> str:
        if cohort_digest is not None and not r.patient_id:
            return f"{r.item_id}:patient-digest={cohort_digest}:{r.code_version}"
        return f"{r.item_id}:{r.sha256}:{r.code_version}"

    parts = sorted(part(r) for r in rows.itertuples())
    return sha256_text(config_hash + "|" + "|".join(parts))


def token_path(ws: Workspace, modality: str, encoder: str, patient_id: str, key: str) -> Path:
    """Where a patient's tokens with this key are stored."""
    return cache_dir(ws, modality, encoder) / f"{patient_id}-{key[:16]}.npz"


def write_tokens(path: Path, tokens: TokenSet) -> None:
    """Atomically store tokens; older files of the same patient are removed."""
    atomic.write_bytes(path, tokens.to_bytes())
    patient = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{patient}-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def index_entry(path: Path, patient_id: str, key: str) -> dict[str, str]:
    """The index entry of a freshly written token file (its content hash and owner)."""
    return {"file": path.name, "key": key, "sha256": sha256_file(path), "patient": patient_id}


def verify_entry(base: Path, patient_id: str, entry: dict[str, Any] | None, key: str | None = None) -> str:
    """Why the cached file of an index entry cannot be trusted (``""`` when it can).

    Args:
        base: the cache folder.
        patient_id: the pseudonym the entry is listed under.
        entry: its index entry (``None``: not in the index).
        key: the expected cache key (``None``: any).
    """
    if not entry:
        return "not in the cache index"
    path = base / str(entry.get("file", ""))
    if key is not None and entry.get("key") != key:
        return "cache key changed"
    if entry.get("patient", patient_id) != patient_id or not path.name.startswith(f"{patient_id}-"):
        return "index entry belongs to another patient"
    if not path.is_file():
        return "cache file missing"
    if "sha256" not in entry:
        return "no content hash in the cache index (written by an older version)"
    if sha256_file(path) != entry["sha256"]:
        return "cache file content does not match its hash (truncated, corrupt or replaced)"
    return ""


def read_index(ws: Workspace, modality: str, encoder: str) -> dict[str, Any]:
    """The cache index (``{"patients": {pid: {"file", "key"}}, "failed": {pid: reason}, ...}``)."""
    path = cache_dir(ws, modality, encoder) / "index.json"
    if not path.exists():
        return {"patients": {}, "failed": {}}
    return json.loads(path.read_text())


def write_index(ws: Workspace, modality: str, encoder: str, index: dict[str, Any]) -> None:
    atomic.write_json(cache_dir(ws, modality, encoder) / "index.json", index)


def cached_encoders(ws: Workspace, modality: str) -> list[str]:
    """Names of the encoders with a token cache index of ``modality`` in this workspace, sorted."""
    return sorted(p.parent.name for p in (ws.tokens_dir / modality).glob("*/index.json"))


def load_tokens(ws: Workspace, modality: str, encoder: str | None = None) -> dict[str, TokenSet]:
    """All cached tokens of a modality: ``{pseudonym: TokenSet}``.

    Reads the workspace only (featurize sits below ``modalities``, so it does not look up the
    registry's default encoder).

    Args:
        encoder: encoder name; default: the modality's only token cache in this workspace.

    Raises:
        FeaturizeError: the modality was not featurized with that encoder, or ``encoder`` is
            omitted and the modality has several token caches (the message lists them).
    """
    if encoder is None:
        found = cached_encoders(ws, modality)
        if len(found) != 1:
            raise FeaturizeError(f"{modality} has token caches of several encoders {found}: pass the encoder name"
                                 if found else f"no tokens for {modality}: run `clinfusion featurize --workspace "
                                 f"{ws.root} --modality {modality}`", file=ws.tokens_dir / modality, field="encoder")
        encoder = found[0]
    index = read_index(ws, modality, encoder)
    if not index["patients"] and not index["failed"]:
        raise FeaturizeError(
            f"no tokens for {modality}/{encoder}: run `clinfusion featurize --workspace {ws.root} --modality {modality}`",
            file=cache_dir(ws, modality, encoder),
        )
    base = cache_dir(ws, modality, encoder)
    out: dict[str, TokenSet] = {}
    for pid, entry in sorted(index["patients"].items()):
        problem = verify_entry(base, pid, entry)
        if problem and "sha256" not in entry and entry.get("patient", pid) == pid:
            problem = ""  # an index of an older version: the file is still checked by TokenSet.load
        if problem:
            raise FeaturizeError(f"token cache of {modality}/{encoder} is not intact for one patient ({problem}): "
                                 f"run `clinfusion featurize --workspace {ws.root} --modality {modality}` again",
                                 file=base / str(entry.get("file", "")), field="sha256")
        out[pid] = TokenSet.load(base / entry["file"])
    return out


def cache_params(ws: Workspace, modality: str, encoder: str) -> dict[str, str]:
    """MLflow params of one token cache: ``options.<name>`` for each option that entered its key
    (``random_init`` included) and ``weights_sha256.<option>`` (first 16 hex digits); ``{}`` for a
    cache written before options were recorded."""
    index = read_index(ws, modality, encoder)
    out = {f"options.{k}": json.dumps(v) if isinstance(v, (dict, list)) else str(v)
           for k, v in sorted((index.get("cache_options") or {}).items())}
    out.update({f"weights_sha256.{k}": str(v)[:16] for k, v in sorted((index.get("weights_sha256") or {}).items())})
    return out
