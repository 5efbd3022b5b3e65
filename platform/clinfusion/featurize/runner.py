"""Featurize a modality: run its encoder over every patient, caching tokens by content hash."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.errors import ClinFusionError
from clinfusion.featurize import cache
from clinfusion.featurize.base import Encoder
from clinfusion.workspace.catalog import read_catalog, row_patients
from clinfusion.workspace.workspace import Workspace


@dataclass
class FeaturizeReport:
    """Outcome of one featurize run.

    Attributes:
        modality, encoder: what ran.
        encoded: patients whose tokens were computed in this run.
        cached: patients whose tokens were already cached with the same key (and verified).
        recomputed: patient -> why its cached file was not trusted (missing, truncated, content
            hash mismatch, another patient's); those patients are encoded again.
        failed: patient -> reason.
        seconds: wall time.
    """

    modality: str
    encoder: str
    encoded: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    recomputed: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "modality": self.modality,
            "encoder": self.encoder,
            "encoded": len(self.encoded),
            "cached": len(self.cached),
            "recomputed": len(self.recomputed),
            "recompute_reasons": self.recomputed,
            "failed": len(self.failed),
            "failures": self.failed,
            "seconds": round(self.seconds, 3),
        }


def patient_rows(catalog: pd.DataFrame, modality: str) -> dict[str, pd.DataFrame]:
    """Per patient pseudonym: the ingested rows of ``modality`` that concern it.

    Cohort-level rows (e.g. an expression matrix) are given to every patient they cover.
    """
    rows = catalog[(catalog["modality"] == modality) & (catalog["status"] == "ingested")]
    per: dict[str, list[int]] = {}
    for idx, r in rows.iterrows():
        for pid in row_patients(r):
            per.setdefault(pid, []).append(idx)
    return {pid: rows.loc[ix] for pid, ix in sorted(per.items())}


_WORKER: dict[str, Any] = {}


def _init_worker(encoder: Encoder, ws: Workspace, rows: pd.DataFrame) -> None:
    encoder.setup(ws, rows)
    _WORKER.update(encoder=encoder, ws=ws)


def _encode_one(args: tuple[str, pd.DataFrame, str]) -> tuple[str, str, str | None]:
    pid, rows, path = args
    try:
        tokens = _WORKER["encoder"].encode(pid, rows, _WORKER["ws"])
        cache.write_tokens(Path(path), tokens)
        return pid, path, None
    except ClinFusionError as err:
        return pid, path, err.message
    except Exception as err:  # an encoder bug must not abort the cohort; it is reported per patient
        return pid, path, f"{type(err).__name__}: {err}"


def featurize(
    ws: Workspace,
    encoder: Encoder,
    *,
    workers: int = 1,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> FeaturizeReport:
    """Encode every patient that has ingested data of ``encoder.modality``.

    Args:
        ws: the workspace (ingested).
        encoder: a configured encoder instance.
        workers: worker processes (1 = in this process).
        force: recompute even when cached.
        progress: called as ``progress(done, total)``.

    Returns:
        What was encoded, reused and failed. The cache index is rewritten atomically.
    """
    t0 = time.perf_counter()
    modality = encoder.modality
    report = FeaturizeReport(modality, encoder.name)
    catalog = read_catalog(ws)
    per_patient = patient_rows(catalog, modality)
    chash = encoder.config_hash()
    index: dict[str, Any] = {"encoder": encoder.name, "version": encoder.version, "config": encoder.config.model_dump(),
                             "cache_options": encoder.cache_options(), "weights_sha256": encoder.weights_hashes(),
                             "patients": {}, "failed": {}}
    todo: list[tuple[str, pd.DataFrame, str]] = []
    previous = cache.read_index(ws, modality, encoder.name).get("patients", {})
    base = cache.cache_dir(ws, modality, encoder.name)
    shared = {pid: rows for pid, rows in per_patient.items() if not rows["patient_id"].astype(bool).all()}
    digests = encoder.cohort_digests(ws, shared) if shared else {}
    keys = {pid: cache.cache_key(chash, rows, digests.get(pid)) for pid, rows in per_patient.items()}
    for pid, rows in per_patient.items():
        key = keys[pid]
        path = cache.token_path(ws, modality, encoder.name, pid, key)
        if path.exists() and not force:
            problem = cache.verify_entry(base, pid, previous.get(pid), key)
            if not problem:
                report.cached.append(pid)
                index["patients"][pid] = previous[pid]
                continue
            report.recomputed[pid] = problem
        todo.append((pid, rows, str(path)))
    total, done = len(per_patient), len(report.cached)
    if todo:
        all_rows = pd.concat([r for _, r, _ in todo]).drop_duplicates("item_id")
        if workers > 1 and len(todo) > 1:
            with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(encoder, ws, all_rows)) as pool:
                results = list(pool.map(_encode_one, todo, chunksize=max(1, len(todo) // (4 * workers))))
        else:
            _init_worker(encoder, ws, all_rows)
            results = []
            for job in todo:
                results.append(_encode_one(job))
                done += 1
                if progress:
                    progress(done, total)
        for pid, written, err in results:
            if err is None:
                report.encoded.append(pid)
                index["patients"][pid] = cache.index_entry(Path(written), pid, keys[pid])
            else:
                report.failed[pid] = err
                index["failed"][pid] = err
    cache.write_index(ws, modality, encoder.name, index)
    report.seconds = time.perf_counter() - t0
    ws.append_lineage("featurize", **report.as_dict())
    return report
