"""Run every registered reader over the cohort, isolating failures per item."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion import __version__
from clinfusion.cohort.clinical_table import read_clinical_table
from clinfusion.cohort.spec import CohortSpec, load_cohort_spec
from clinfusion.errors import ClinFusionError, CohortSpecError
from clinfusion.ingest import state
from clinfusion.ingest.items import PlannedItem, plan_items, reader_options
from clinfusion.modalities.base import IngestContext, Item
from clinfusion.modalities.registry import MODALITY_PLUGINS, reader_class
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.privacy.paths import mask_path
from clinfusion.workspace import atomic
from clinfusion.workspace.catalog import catalog_frame, quarantine_table, summarize
from clinfusion.workspace.hashing import combine_hashes, sha256_file
from clinfusion.workspace.workspace import Workspace


@dataclass
class IngestReport:
    """What an ingest run did.

    Attributes:
        workspace: the workspace.
        catalog: the catalog after the run.
        processed: items read in this run; reused: items unchanged since a previous run.
        removed: items whose files left the cohort.
        seconds: wall time.
    """

    workspace: Workspace
    catalog: pd.DataFrame
    processed: int = 0
    reused: int = 0
    removed: int = 0
    seconds: float = 0.0
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_quarantined(self) -> int:
        return int((self.catalog["status"] == "quarantined").sum()) + sum(
            len(json.loads(r or "{}")) for r in self.catalog["rejected_json"]
        )


def _signature(item: Item, pz: Pseudonymizer) -> list[list[Any]]:
    """(keyed path hash, size, mtime) per member file: detects changes without storing raw paths."""
    return [[pz.token("path", f.rel), f.path.stat().st_size, f.path.stat().st_mtime_ns] for f in item.files]


def _code_version(modality: str) -> str:
    return f"clinfusion-{__version__}/{modality}-reader-{reader_class(modality).version}"


def _base_row(p: PlannedItem, item_id: str, pz: Pseudonymizer, sha: str, code_version: str) -> dict[str, Any]:
    item = p.item
    pseudonym = pz.patient(item.patient_id) if item.patient_id is not None else ""
    return {
        "item_id": item_id,
        "patient_id": pseudonym,
        "modality": item.modality,
        "source": mask_path(item.primary, pz),
        "n_files": len(item.files),
        "files_json": json.dumps([mask_path(f, pz) for f in item.files]),
        "size_bytes": sum(f.path.stat().st_size for f in item.files),
        "sha256": sha,
        "status": "ingested",
        "reason": "",
        "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "code_version": code_version,
        "artifact_dir": "",
        "meta_json": "{}",
        "patients_json": "[]",
        "rejected_json": "{}",
    }


def _mask_text(text: str, item: Item, ctx: IngestContext) -> str:
    """Replace every member file's real path (absolute or relative) in a message by its masked form."""
    for f in sorted(item.files, key=lambda f: -len(f.rel)):
        masked = ctx.mask(f)
        text = text.replace(str(f.path), masked).replace(f.rel, masked)
    return text


def _read_item(job: tuple[PlannedItem, str, str, str, IngestContext, str]) -> dict[str, Any]:
    """Read one item into its artifact directory; return its catalog row (never raises)."""
    p, item_id, sha, code_version, ctx, ws_root = job
    ws = Workspace(Path(ws_root))
    row = _base_row(p, item_id, ctx.pseudonymizer, sha, code_version)
    if p.blocked:
        row.update(status="quarantined", reason=p.blocked)
        return row
    item = p.item
    owner = row["patient_id"] or "_cohort"
    art_rel = Path("artifacts") / item.modality / owner / item_id
    try:
        reader = reader_class(item.modality)()
        with atomic.atomic_dir(ws.root / art_rel) as out_dir, atomic.refused_writes(out_dir, inside=ws.root):
            result = reader.read(item, ctx, out_dir)
    except atomic.WorkspaceWriteError:
        raise  # the workspace cannot be written: stop the ingest, never quarantine a valid item for it
    except ClinFusionError as err:
        row.update(status="quarantined", reason=_mask_text(str(err.problem), item, ctx))
        return row
    except Exception as err:  # a reader bug must not abort the cohort: quarantine and report it
        row.update(status="quarantined", reason=f"unexpected {type(err).__name__} while reading: {err}")
        return row
    masked = {f.rel: ctx.mask(f) for f in item.files}
    row.update(
        artifact_dir=art_rel.as_posix(),
        meta_json=json.dumps(result.metadata, sort_keys=True, default=str),
        patients_json=json.dumps(sorted({ctx.pseudonym(x) for x in result.patients})) if result.patients else "[]",
        rejected_json=json.dumps({masked.get(k, k): _mask_text(v, item, ctx) for k, v in sorted(result.rejected.items())}),
    )
    return row


def _content_hash(item: Item, pz: Pseudonymizer) -> str:
    return combine_hashes((pz.token("path", f.rel), sha256_file(f.path)) for f in item.files)


def _prepare(ws: Workspace, planned: list[PlannedItem], pz: Pseudonymizer, force: bool):
    """Split planned items into reusable records and jobs to run."""
    reuse: dict[str, dict[str, Any]] = {}
    jobs = []
    for p in planned:
        modality = p.item.modality
        item_id = pz.token("item", f"{modality}:{p.item.primary.rel}")
        code_version = _code_version(modality) if not p.blocked else f"clinfusion-{__version__}"
        sig = _signature(p.item, pz)
        old = state.read_record(ws, item_id)
        fresh = old is not None and not force and old["row"]["code_version"] == code_version
        if fresh and old["signature"] == sig and old.get("blocked", "") == p.blocked:
            reuse[item_id] = old
            continue
        sha = _content_hash(p.item, pz)
        if fresh and old["row"]["sha256"] == sha and old.get("blocked", "") == p.blocked:
            old["signature"] = sig
            state.write_record(ws, item_id, old)
            reuse[item_id] = old
            continue
        jobs.append((p, item_id, sha, code_version, sig))
    return reuse, jobs


def ingest(
    cohort_dir: str | Path,
    workspace_dir: str | Path,
    *,
    demo: bool = False,
    workers: int = 1,
    force: bool = False,
    on_item: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> IngestReport:
    """Ingest a cohort directory into a workspace.

    Args:
        cohort_dir: directory with cohort.yaml.
        workspace_dir: workspace directory (created if missing).
        demo: allow a generated local pseudonymisation key.
        workers: worker processes for reading items.
        force: re-read every item even if unchanged.
        on_item: progress callback ``(done, total, catalog_row)`` after each item is stored.

    Returns:
        The report, with the catalog written to the workspace.

    Raises:
        CohortSpecError: cohort.yaml, reader options or the clinical table are invalid.
        PrivacyError: no pseudonymisation key (outside demo mode).
        WorkspaceError: the workspace belongs to another cohort or key.
    """
    t0 = time.perf_counter()
    spec: CohortSpec = load_cohort_spec(cohort_dir)
    table = read_clinical_table(spec)
    if table.problems:
        raise CohortSpecError(table.problems)
    for m in spec.enabled_modalities():
        if m in MODALITY_PLUGINS:
            reader_options(spec, m)
    key = load_key(Path(workspace_dir), demo=demo)
    pz = Pseudonymizer(key)
    ws = Workspace.create_or_open(workspace_dir, cohort_name=spec.name, cohort_dir=Path(cohort_dir), key_fingerprint=key.fingerprint)
    atomic.cleanup_temp(ws.root)
    known = frozenset(table.patient_ids)
    planned = plan_items(spec, known)
    reuse, jobs = _prepare(ws, planned, pz, force)
    contexts = {m: IngestContext(spec, pz, reader_options(spec, m), known, demo) for m in {p.item.modality for p, *_ in jobs}
                if m in MODALITY_PLUGINS}
    # items blocked before reading (e.g. a modality without a reader) still need a context to mask paths
    fallback = IngestContext(spec, pz, reader_options(spec, "clinical"), known, demo)
    runs = [(p, iid, sha, cv, contexts.get(p.item.modality, fallback), str(ws.root)) for p, iid, sha, cv, _ in jobs]
    sigs = {iid: sig for _, iid, _, _, sig in jobs}
    blocked = {iid: p.blocked for p, iid, *_ in jobs}
    total = len(reuse) + len(runs)
    done = len(reuse)

    def store(row: dict[str, Any]) -> None:
        nonlocal done
        state.write_record(ws, row["item_id"], {"row": row, "signature": sigs[row["item_id"]], "blocked": blocked[row["item_id"]]})
        reuse[row["item_id"]] = {"row": row}
        done += 1
        if on_item:
            on_item(done, total, row)

    if workers > 1 and len(runs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for row in pool.map(_read_item, runs):
                store(row)
    else:
        for job in runs:
            store(_read_item(job))
    current = {pz.token("item", f"{p.item.modality}:{p.item.primary.rel}") for p in planned}
    removed = 0
    for item_id, rec in state.all_records(ws).items():
        if item_id not in current:
            state.drop_record(ws, item_id, rec)
            removed += 1
    catalog = catalog_frame([reuse[i]["row"] for i in sorted(current)])
    atomic.write_parquet(ws.catalog_path, catalog)
    with atomic.atomic_path(ws.quarantine_path) as tmp:
        quarantine_table(catalog).to_csv(tmp, index=False)
    report = IngestReport(ws, catalog, processed=len(runs), reused=total - len(runs), removed=removed,
                          seconds=time.perf_counter() - t0, summary=summarize(catalog))
    ws.append_lineage("ingest", items=total, processed=report.processed, reused=report.reused, removed=removed,
                      quarantined=report.n_quarantined, catalog_rows=len(catalog))
    return report

