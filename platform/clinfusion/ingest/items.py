"""Turn discovered files into items, with the reader that ingests each."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from clinfusion.cohort.discovery import DiscoveredFile, discover_files
from clinfusion.cohort.spec import CohortSpec
from clinfusion.errors import CohortSpecError, Problem
from clinfusion.modalities.base import Item, Reader
from clinfusion.modalities.registry import MODALITY_PLUGINS, reader_class
from clinfusion.privacy import Pseudonymizer


@dataclass(frozen=True)
class PlannedItem:
    """An item and why it cannot be read, if known before reading.

    Attributes:
        item: the item.
        blocked: reason to quarantine without reading (unknown patient, no reader), or ``""``.
        fetch: for an item of a remote source (``source: dicomweb``): ``fetch(item, folder) -> item``
            retrieves its member files into ``folder`` (the runner calls it only when the item must
            be read); ``None`` for files in the cohort directory.
        signature: for a remote item, what identifies its content before retrieval (replaces the
            files' size/mtime signature in the progress record); ``None`` for files.
    """

    item: Item
    blocked: str = ""
    fetch: Any = None
    signature: tuple[str, ...] | None = None


def reader_options(spec: CohortSpec, modality: str) -> BaseModel:
    """Validate a modality's ``options`` from cohort.yaml against its reader's Options model.

    Raises:
        CohortSpecError: unknown or invalid options (naming each key).
    """
    cls: type[Reader] = reader_class(modality)
    raw = spec.modalities[modality].options if modality in spec.modalities else {}
    try:
        return cls.Options.model_validate(raw)
    except ValidationError as err:
        problems = [
            Problem("cohort.yaml", f"modalities.{modality}.options." + ".".join(map(str, e["loc"])), e["msg"])
            for e in err.errors()
        ]
        raise CohortSpecError(problems) from None


def clinical_item(spec: CohortSpec) -> Item:
    """The clinical table as a cohort-level item."""
    assert spec.root is not None
    rel = spec.clinical.path
    return Item("clinical", None, (DiscoveredFile("clinical", rel, None, Path(spec.root) / rel),))


OUTSIDE = "points outside the cohort directory"


def _outside(f: DiscoveredFile, root: Path) -> bool:
    """True when the file's real path (every symlink, of the file or of a folder above it, resolved) leaves ``root``."""
    try:
        return not f.path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop resolves nowhere: treat it as outside
        return True


def remote_items(spec: CohortSpec, modality: str, known_patients: frozenset[str], pz: Pseudonymizer,
                 previous: dict[str, dict[str, Any]]) -> list[PlannedItem]:
    """Items of a modality whose ``source`` is a DICOMweb server (see :mod:`clinfusion.pacs.source`).

    A patient whose search failed keeps the items of earlier runs (from ``previous`` progress
    records, reused as they were) beside a blocked item with the failure's reason.
    """
    from clinfusion.pacs.source import plan_remote

    found, failed = plan_remote(spec, modality, sorted(known_patients), pz)
    planned = [PlannedItem(r.item, r.blocked, r.fetch, r.signature) for r in found]
    keep = {pz.patient(p): p for p in failed}
    for rec in previous.values():
        row = rec.get("row", {})
        if row.get("modality") == modality and row.get("patient_id") in keep and not rec.get("blocked") \
                and str(row.get("source", "")).startswith("dicomweb/"):
            pid = keep[row["patient_id"]]
            files = tuple(DiscoveredFile(modality, rel, pid, Path("/nonexistent") / Path(rel).name, -1)
                          for rel in json.loads(row["files_json"]))
            planned.append(PlannedItem(Item(modality, pid, files), signature=tuple(rec.get("signature") or ())))
    return planned


def plan_items(spec: CohortSpec, known_patients: frozenset[str], modalities: list[str] | None = None, *,
               pz: Pseudonymizer | None = None, previous: dict[str, dict[str, Any]] | None = None) -> list[PlannedItem]:
    """Every item to ingest, the clinical table first.

    Files of a modality without a registered reader, and files whose path names a patient who
    is not in the clinical table, become blocked items so they are quarantined, not dropped; so do
    files whose real path is outside the cohort directory (unless ``allow_symlinks_outside``).
    A modality with ``source: dicomweb`` is not searched for files: its items come from the server
    (:func:`remote_items`; needs ``pz``, and ``previous`` progress records to keep on failure).
    """
    planned = [PlannedItem(clinical_item(spec))]
    by_key: dict[tuple[str, str | None], list[DiscoveredFile]] = defaultdict(list)
    assert spec.root is not None
    root = Path(spec.root).resolve()
    wanted = modalities or spec.enabled_modalities()
    remote = [m for m in wanted if m in spec.modalities and spec.modalities[m].source != "files"]
    for m in remote:
        assert pz is not None, "plan_items needs the pseudonymizer for a remote source"
        planned += remote_items(spec, m, known_patients, pz, previous or {})
    files_only = [m for m in wanted if m not in remote]
    for f in discover_files(spec, files_only) if files_only else []:
        if not spec.allow_symlinks_outside and _outside(f, root):
            planned.append(PlannedItem(Item(f.modality, f.patient_id, (f,)), OUTSIDE))
            continue
        by_key[(f.modality, f.patient_id)].append(f)
    for (modality, pid), files in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if pid is not None and pid not in known_patients:
            reason = f"path names a patient who is not in {spec.clinical.path}"
            planned += [PlannedItem(Item(modality, pid, (f,)), reason) for f in files]
            continue
        if modality not in MODALITY_PLUGINS:
            reason = f"no reader is registered for modality {modality!r} yet"
            planned += [PlannedItem(Item(modality, pid, (f,)), reason) for f in files]
            continue
        reader: Reader = reader_class(modality)()
        groups = reader.group(sorted(files))
        grouped = [f for g in groups for f in g]
        if sorted(grouped) != sorted(files):
            raise AssertionError(f"{type(reader).__name__}.group must place every file in exactly one item")
        planned += [PlannedItem(Item(modality, pid, tuple(g))) for g in groups if g]
    return planned
