"""The workspace: one directory holding everything ClinFusion derives from a cohort.

Layout::

    WS/
      workspace.json        format version, cohort name and directory, key fingerprint
      catalog.parquet       one row per input item (see clinfusion.workspace.catalog)
      quarantine.csv        every rejected item or file with its reason
      artifacts/<modality>/<pseudonym|_cohort>/<item_id>/   normalised, de-identified artifacts
      tokens/<modality>/<encoder>/                          token cache (clinfusion.featurize)
      lineage.jsonl         one JSON line per run (what ran, on which inputs, with which code)
      .state/               per-item progress records (resume after interruption)
      .secrets/             the demo key only (never in a real deployment)
      .lock, .lock.json     the writer lock and who holds it (clinfusion.workspace.lock)

Files are created 0600 and folders 0700 (:func:`private_umask`, applied when a workspace is
created or opened and at CLI start-up): the review store holds password hashes and the audit log,
``mlflow.db`` and the artifacts hold patient-level predictions.

Nothing under the workspace holds a raw patient id or other PHI; only the key fingerprint is
stored, never the key.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinfusion import __version__
from clinfusion.errors import WorkspaceError
from clinfusion.workspace import atomic

FORMAT_VERSION = 1
MANIFEST = "workspace.json"
PRIVATE_UMASK = 0o077
# names a new workspace directory may already hold (the demo key, the lock taken before creation)
_PRE_CREATE = frozenset({".secrets", ".lock", ".lock.json"})


def private_umask() -> int:
    """Make this process create files 0600 and folders 0700 (adds ``0o077`` to the umask, never loosens it).

    Returns:
        The previous umask.
    """
    old = os.umask(PRIVATE_UMASK)
    os.umask(old | PRIVATE_UMASK)
    return old


def private_tree(root: str | Path) -> int:
    """Remove group and other permissions under ``root`` (for files copied with their source's mode,
    e.g. the package code MLflow logs beside a model). Returns how many entries changed."""
    n = 0
    for path in [Path(root), *Path(root).rglob("*")]:
        if path.is_symlink() or not path.exists():
            continue
        mode = path.stat().st_mode & 0o7777
        if mode & PRIVATE_UMASK:
            os.chmod(path, mode & ~PRIVATE_UMASK)
            n += 1
    return n


@dataclass(frozen=True)
class Workspace:
    """Paths and metadata of a workspace directory.

    Use :meth:`create_or_open` to make one for a cohort, :meth:`open` to use an existing one.
    """

    root: Path

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.parquet"

    @property
    def quarantine_path(self) -> Path:
        return self.root / "quarantine.csv"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    @property
    def tokens_dir(self) -> Path:
        return self.root / "tokens"

    @property
    def state_dir(self) -> Path:
        return self.root / ".state"

    @property
    def lineage_path(self) -> Path:
        return self.root / "lineage.jsonl"

    def manifest(self) -> dict[str, Any]:
        """The parsed workspace.json."""
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            raise WorkspaceError("not a ClinFusion workspace (workspace.json missing)", file=self.root) from None
        except json.JSONDecodeError as err:
            raise WorkspaceError(f"workspace.json is corrupt: {err}", file=self.manifest_path) from None

    @classmethod
    def open(cls, root: str | Path) -> Workspace:
        """Open an existing workspace.

        Raises:
            WorkspaceError: not a workspace, or written by a newer format.
        """
        private_umask()
        ws = cls(Path(root))
        fmt = ws.manifest().get("format_version")
        if fmt != FORMAT_VERSION:
            raise WorkspaceError(f"workspace format {fmt} is not supported (expected {FORMAT_VERSION})", file=ws.manifest_path)
        return ws

    @classmethod
    def create_or_open(cls, root: str | Path, *, cohort_name: str, cohort_dir: Path, key_fingerprint: str) -> Workspace:
        """Open the workspace of this cohort and key, creating it if the directory is new or empty.

        Raises:
            WorkspaceError: the directory is a workspace of another cohort or another key, or a
                non-empty directory that is not a workspace.
        """
        private_umask()
        ws = cls(Path(root))
        if ws.manifest_path.exists():
            m = ws.open(root).manifest()
            if m.get("cohort_name") != cohort_name:
                raise WorkspaceError(
                    f"workspace belongs to cohort {m.get('cohort_name')!r}, not {cohort_name!r}", file=ws.manifest_path
                )
            if m.get("key_fingerprint") != key_fingerprint:
                raise WorkspaceError(
                    "workspace was created with another pseudonymisation key (fingerprint differs); "
                    "use the same key or a new workspace",
                    file=ws.manifest_path,
                    field="key_fingerprint",
                )
            return ws
        if ws.root.exists() and any(p.name not in _PRE_CREATE for p in ws.root.iterdir()):
            raise WorkspaceError("directory is not empty and is not a ClinFusion workspace", file=ws.root)
        with atomic.refused_writes(ws.root):
            ws.root.mkdir(parents=True, exist_ok=True)
            os.chmod(ws.root, 0o700)  # also a folder made beforehand (mkdir WS, the demo key, the lock)
        atomic.write_json(
            ws.manifest_path,
            {
                "format_version": FORMAT_VERSION,
                "cohort_name": cohort_name,
                "cohort_dir": str(Path(cohort_dir).resolve()),
                "key_fingerprint": key_fingerprint,
                "created_with": __version__,
            },
        )
        return ws

    def append_lineage(self, event: str, **fields: Any) -> None:
        """Append one lineage record (JSON line): event name, time, code version and fields."""
        rec = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "code_version": __version__}
        rec.update(fields)
        with atomic.refused_writes(self.lineage_path):
            self.lineage_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.lineage_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec, sort_keys=True, default=str) + "\n")
