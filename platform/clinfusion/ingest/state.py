"""Per-item progress records, so an interrupted ingest resumes and an unchanged cohort is a no-op.

Each finished item leaves ``.state/items/<item_id>.json`` (written atomically): its catalog row
plus the (size, mtime) signature of its files. A rerun trusts a record whose signature and code
version match without re-hashing; when only mtimes changed, files are re-hashed and the record
is kept if the content is the same.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from clinfusion.workspace import atomic
from clinfusion.workspace.workspace import Workspace


def _dir(ws: Workspace) -> Path:
    return ws.state_dir / "items"


def read_record(ws: Workspace, item_id: str) -> dict[str, Any] | None:
    """The stored record of an item, or None."""
    path = _dir(ws) / f"{item_id}.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a torn record cannot happen with atomic writes, but never trust one


def write_record(ws: Workspace, item_id: str, record: dict[str, Any]) -> None:
    atomic.write_json(_dir(ws) / f"{item_id}.json", record)


def all_records(ws: Workspace) -> dict[str, dict[str, Any]]:
    """Every stored record by item id."""
    out = {}
    for path in sorted(_dir(ws).glob("*.json")) if _dir(ws).exists() else []:
        if path.name.startswith("."):  # an interrupted atomic write, not a record
            continue
        rec = read_record(ws, path.stem)
        if rec is not None:
            out[path.stem] = rec
    return out


def drop_record(ws: Workspace, item_id: str, record: dict[str, Any]) -> None:
    """Forget an item whose files left the cohort; remove its artifacts."""
    art = record.get("row", {}).get("artifact_dir")
    if art:
        shutil.rmtree(ws.root / art, ignore_errors=True)
    (_dir(ws) / f"{item_id}.json").unlink(missing_ok=True)
