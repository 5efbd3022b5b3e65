"""Run every registered reader over the cohort, isolating failures per item."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion import __version__
from clinfusion.cohort.clinical_table import read_clinical_table
from clinfusion.cohort.spec import CohortSpec, load_cohort_spec
from clinfusion.errors import ClinFusionError, CohortSpecError
from clinfusion.ingest import state
from clinfusion.ingest.budget import Outcome, run_with_budget
from clinfusion.ingest.items import PlannedItem, plan_items, reader_options
from clinfusion.modalities.base import IngestContext, Item
from clinfusion.modalities.registry import MODALITY_PLUGINS, reader_class
from clinfusion.pacs.source import FETCH_FAILED
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.privacy.paths import mask_path
from clinfusion.privacy.phi.pipeline import default_pipeline
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


DISAPPEARED = "file disappeared while reading"
UNREADABLE = "file cannot be read (permission denied)"


def _stat(f: Any) -> tuple[int, int]:
    """(size in bytes, mtime in ns) of a member file; (-1, -1) once it has disappeared."""
    try:
        st = f.path.stat()
    except OSError:  # gone, or a folder on the way is not searchable: treated as absent
        return -1, -1
    return st.st_size, st.st_mtime_ns


def _signature(item: Item, pz: Pseudonymizer) -> list[list[Any]]:
    """(keyed path hash, size, mtime) per member file: detects changes without storing raw paths."""
    return [[pz.token("path", f.rel), *_stat(f)] for f in item.files]


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
        "size_bytes": sum(max(_stat(f)[0], 0) for f in item.files),
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


_STANDARD_NAMES = frozenset({"DICOMDIR"})
"""File names fixed by a standard (PS3.10's DICOMDIR): never identifying, left in reasons as they are."""


def _mask_text(text: str, item: Item, ctx: IngestContext) -> str:
    """Replace every member file's real path (absolute, relative or bare name) and the raw patient id
    in a message by their masked forms."""
    for f in sorted(item.files, key=lambda f: -len(f.rel)):
        masked = ctx.mask(f)
        text = text.replace(str(f.path), masked).replace(f.rel, masked)
        if f.path.name.upper() not in _STANDARD_NAMES:  # a standard name identifies no one, and readers' reasons use it
            text = text.replace(f.path.name, masked)
    if item.patient_id:
        text = text.replace(item.patient_id, ctx.pseudonym(item.patient_id))
    return text


def _quarantine(row: dict[str, Any], reason: str, item: Item, ctx: IngestContext,
                file_reasons: dict[str, str] | None = None) -> dict[str, Any]:
    """Quarantine ``row`` and list every member file with its own reason.

    The primary file carries the item's reason (``reason``); each other member goes to
    ``rejected_json``: with the reason the reader gave that file (``file_reasons``, by
    cohort-relative or masked path), else the item's reason when it names the file, else
    "not read: ...", so quarantine.csv has one row per file of a quarantined item.
    """
    primary = ctx.mask(item.primary)
    own = file_reasons or {}
    others = {}
    for f in item.files[1:]:
        masked = ctx.mask(f)
        mine = own.get(f.rel, own.get(masked))  # readers key them by relative or by masked path
        if mine:
            others[masked] = _mask_text(mine, item, ctx)
        else:
            others[masked] = reason if masked in reason else f"not read: {primary} of this item was quarantined"
    row.update(status="quarantined", reason=reason, rejected_json=json.dumps(others, sort_keys=True))
    return row


def _read_item(job: tuple[PlannedItem, str, str, str, IngestContext, str]) -> dict[str, Any]:
    """Read one item into its artifact directory; return its catalog row (never raises)."""
    p, item_id, sha, code_version, ctx, ws_root = job
    if p.fetch is not None and not p.blocked:
        return _fetch_and_read(job)
    ws = Workspace(Path(ws_root))
    row = _base_row(p, item_id, ctx.pseudonymizer, sha, code_version)
    item = p.item
    if p.blocked:
        return _quarantine(row, p.blocked, item, ctx)
    if any(_stat(f)[0] < 0 for f in item.files):
        return _quarantine(row, DISAPPEARED, item, ctx)
    owner = row["patient_id"] or "_cohort"
    art_rel = Path("artifacts") / item.modality / owner / item_id
    try:
        reader = reader_class(item.modality)()
        with atomic.atomic_dir(ws.root / art_rel) as out_dir, atomic.refused_writes(out_dir, inside=ws.root):
            result = reader.read(item, ctx, out_dir)
    except atomic.WorkspaceWriteError:
        raise  # the workspace cannot be written: stop the ingest, never quarantine a valid item for it
    except ClinFusionError as err:
        return _quarantine(row, _mask_text(str(err.problem), item, ctx), item, ctx, getattr(err, "file_reasons", None))
    except FileNotFoundError:
        return _quarantine(row, DISAPPEARED, item, ctx)
    except PermissionError:  # an input file, not the workspace (refused workspace writes are handled above)
        return _quarantine(row, UNREADABLE, item, ctx)
    except Exception as err:  # a reader bug must not abort the cohort: quarantine it
        # The message of an unexpected exception may carry any input value (header fields, names),
        # which no masking can know: store only its type, never its text.
        return _quarantine(row, f"unexpected {type(err).__name__} while reading {ctx.mask(item.primary)} "
                                "(a reader bug; its message is not stored since it may hold input values)", item, ctx)
    masked = {f.rel: ctx.mask(f) for f in item.files}
    row.update(
        artifact_dir=art_rel.as_posix(),
        meta_json=json.dumps(result.metadata, sort_keys=True, default=str),
        patients_json=json.dumps(sorted({ctx.pseudonym(x) for x in result.patients})) if result.patients else "[]",
        rejected_json=json.dumps({masked.get(k, k): _mask_text(v, item, ctx) for k, v in sorted(result.rejected.items())}),
    )
    return row


def _fetch_and_read(job: tuple[PlannedItem, str, str, str, IngestContext, str]) -> dict[str, Any]:
    """A remote item (``PlannedItem.fetch``): retrieve its files into a private temporary folder
    outside the workspace, read them like local files, delete the folder (raw DICOM never stays).
    A failed retrieval quarantines the item with the reason (HTTP status); nothing is written."""
    import tempfile

    from clinfusion.pacs.source import fetch_dir_prefix

    p, item_id, _, code_version, ctx, ws_root = job
    with tempfile.TemporaryDirectory(prefix=fetch_dir_prefix()) as tmp:
        try:
            item = p.fetch(p.item, Path(tmp))
        except ClinFusionError as err:
            row = _base_row(p, item_id, ctx.pseudonymizer, "", code_version)
            return _quarantine(row, _mask_text(str(err.problem), p.item, ctx), p.item, ctx,
                               getattr(err, "file_reasons", None))
        local = replace(p, item=item, fetch=None)
        return _read_item((local, item_id, _content_hash(item, ctx.pseudonymizer), code_version, ctx, ws_root))


def _outcome_row(job: tuple[PlannedItem, str, str, str, IngestContext, str], outcome: Outcome,
                 seconds: float) -> dict[str, Any]:
    """The catalog row of a job run under the budget: its own row, or a quarantine row."""
    kind, value = outcome
    if kind == "ok":
        return value
    if kind == "error":
        raise value  # only WorkspaceWriteError escapes _read_item: the ingest must stop
    p, item_id, sha, code_version, ctx, _ = job
    row = _base_row(p, item_id, ctx.pseudonymizer, sha, code_version)
    if kind == "timeout":
        reason = f"took longer than {seconds:g} s (limits.item_seconds in cohort.yaml)"
    else:
        reason = f"reader process died (exit code {value}), e.g. out of memory"
    return _quarantine(row, reason, p.item, ctx)


#: Modalities whose readers scrub free text with :func:`clinfusion.privacy.phi.pipeline.default_pipeline`.
TEXT_SCRUBBING_MODALITIES = frozenset({"reports", "radiology", "ecg"})


def _run_jobs(runs: list[Any], workers: int, seconds: float | None) -> Iterator[dict[str, Any]]:
    """Catalog rows of every job: under the per-item budget in worker processes when ``seconds`` is
    set, else in-process (``workers == 1``) or in a process pool."""
    if any(job[0].item.modality in TEXT_SCRUBBING_MODALITIES and not job[0].blocked for job in runs):
        # load the de-identification detectors once here: forked workers inherit them instead of
        # each item's process loading Presidio again (seconds per item)
        default_pipeline().scrub("Seen on 01/02/2020.", 0)  # detectors build their analysers lazily
    if seconds is not None:
        for job, outcome in run_with_budget(_read_item, runs, seconds=seconds, workers=workers):
            yield _outcome_row(job, outcome, seconds)
    elif workers > 1 and len(runs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            yield from pool.map(_read_item, runs)
    else:
        for job in runs:
            yield _read_item(job)


def _content_hash(item: Item, pz: Pseudonymizer, blocked: str = "") -> str:
    """Hash of the member files' content; a blocked item's files are never opened (they may be
    links to outside the cohort, or gone)."""
    def one(f: Any) -> str:
        if blocked:
            return blocked
        try:
            return sha256_file(f.path)
        except FileNotFoundError:
            return DISAPPEARED
        except PermissionError:
            return UNREADABLE
    return combine_hashes((pz.token("path", f.rel), one(f)) for f in item.files)


def _prepare(ws: Workspace, planned: list[PlannedItem], pz: Pseudonymizer, force: bool,
             known: frozenset[str] = frozenset()):
    """Split planned items into reusable records and jobs to run.

    A cohort-level item (no patient: the clinical table, the genomics matrices) is read against
    the set of patients in the clinical table (samples of unknown patients are left out), so the
    keyed hash of that set is part of its signature and content hash: a patient who joins the
    clinical table makes the unchanged genomics files be read again, now with that patient.
    """
    reuse: dict[str, dict[str, Any]] = {}
    jobs = []
    known_token = pz.token("known-patients", "\n".join(sorted(known)))
    for p in planned:
        modality = p.item.modality
        item_id = pz.token("item", f"{modality}:{p.item.primary.rel}")
        code_version = _code_version(modality) if not p.blocked else f"clinfusion-{__version__}"
        sig = list(p.signature) if p.signature is not None else _signature(p.item, pz)
        cohort_level = p.item.patient_id is None and not p.blocked
        if cohort_level:
            sig = [*sig, ["known-patients", known_token]]
        old = state.read_record(ws, item_id)
        fresh = old is not None and not force and old["row"]["code_version"] == code_version
        if p.signature is not None and old is not None and FETCH_FAILED in str(old["row"]["reason"]) and not p.blocked:
            fresh = False  # a remote item whose retrieval failed is retried on every run
        if fresh and old is not None and old["signature"] == sig and old.get("blocked", "") == p.blocked:
            reuse[item_id] = old
            continue
        if p.signature is not None:  # remote: hashed after retrieval (_fetch_and_read), never re-hashed here
            jobs.append((p, item_id, p.blocked, code_version, sig))
            continue
        sha = _content_hash(p.item, pz, p.blocked)
        if cohort_level:
            sha = combine_hashes([("content", sha), ("known-patients", known_token)])
        if fresh and old is not None and old["row"]["sha256"] == sha and old.get("blocked", "") == p.blocked:
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
    remote = any(spec.modalities[m].source != "files" for m in spec.enabled_modalities())
    planned = plan_items(spec, known, pz=pz, previous=state.all_records(ws) if remote else None)
    reuse, jobs = _prepare(ws, planned, pz, force, known)
    per_item = max(1, workers // max(1, min(workers, len(jobs))))  # workers left over for readers within an item
    contexts = {m: IngestContext(spec, pz, reader_options(spec, m), known, demo, per_item)
                for m in {p.item.modality for p, *_ in jobs} if m in MODALITY_PLUGINS}
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

    for row in _run_jobs(runs, workers, spec.limits.item_seconds):
        store(row)
    atomic.cleanup_temp(ws.root)  # temp dirs of workers killed at the budget (their pids are dead now)
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

