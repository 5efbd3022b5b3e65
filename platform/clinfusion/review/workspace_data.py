"""Data behind the review app's pages, read from the workspace only.

Nothing here opens ``workspace.json``'s cohort directory: the workspace holds pseudonymous,
de-identified data only, and that is all any role sees (tested by deleting the raw cohort).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.cohort.spec import ALL_MODALITIES
from clinfusion.workspace import Workspace, read_catalog, row_meta, row_patients

MODALITY_ORDER = ALL_MODALITIES  # the order pages list modalities in: the one modality list
OUTCOMES = ("survival_time", "event", "diagnosis")


def ingested(ws: Workspace, modality: str | None = None) -> pd.DataFrame:
    """Ingested catalog rows (of one modality)."""
    cat = read_catalog(ws)
    cat = cat[cat["status"] == "ingested"]
    if modality is not None:
        cat = cat[cat["modality"] == modality]
    return cat.reset_index(drop=True)


def clinical_table(ws: Workspace) -> pd.DataFrame:
    """The de-identified clinical table (one row per pseudonym; empty when no clinical item)."""
    from clinfusion.modalities.clinical.read import read_clinical_artifact

    frames = [read_clinical_artifact(ws.root, r["artifact_dir"]) for _, r in ingested(ws, "clinical").iterrows()]
    if not frames:
        return pd.DataFrame(columns=["patient_id"])
    return pd.concat(frames, ignore_index=True).drop_duplicates("patient_id", keep="last").reset_index(drop=True)


def coverage(ws: Workspace) -> pd.DataFrame:
    """Patients x modalities: True where the patient has ingested data of that modality."""
    pairs = {(p, r["modality"]) for _, r in ingested(ws).iterrows() for p in row_patients(r)}
    patients = sorted({p for p, _ in pairs})
    mods = [m for m in MODALITY_ORDER if any(m == q for _, q in pairs)]
    mods += sorted({q for _, q in pairs} - set(mods))
    frame = pd.DataFrame(False, index=pd.Index(patients, name="patient_id"), columns=mods)
    for p, m in pairs:
        frame.loc[p, m] = True
    return frame


def cohort_frame(ws: Workspace) -> pd.DataFrame:
    """Clinical table joined with modality coverage (``has_<modality>`` columns), one row per patient."""
    cov = coverage(ws).add_prefix("has_").reset_index()
    clin = clinical_table(ws)
    out = cov.merge(clin, on="patient_id", how="outer") if len(clin) else cov
    has = [c for c in out.columns if c.startswith("has_")]
    out[has] = out[has].fillna(False).astype(bool)
    return out.sort_values("patient_id").reset_index(drop=True)


def _date_of(modality: str, meta: dict[str, Any], ws: Workspace, row: pd.Series, pid: str) -> str:
    """The (shifted) acquisition date of an item when its artifacts carry one, else ``""``."""
    if modality == "radiology":
        for rec in meta.get("series", []):
            header = ws.root / row["artifact_dir"] / rec.get("header", "")
            if rec.get("header") and header.exists():
                d = str(json.loads(header.read_text()).get("StudyDate", ""))
                return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else ""
    if modality == "reports":
        dates = pd.to_datetime(pd.Series([r.get("date") or None for r in report_records(ws, pid, row)], dtype=object),
                               errors="coerce").dropna()
        return ", ".join(sorted({d.strftime("%Y-%m-%d") for d in dates}))
    return ""


def timeline(ws: Workspace, pid: str) -> pd.DataFrame:
    """The patient's items, one row each: modality, date (shifted, when known), summary, ingested time."""
    rows = []
    for _, r in ingested(ws).iterrows():
        if pid not in row_patients(r):
            continue
        meta = row_meta(r)
        rows.append({"modality": r["modality"], "date": _date_of(r["modality"], meta, ws, r, pid),
                     "item": r["item_id"], "files": int(r["n_files"]), "summary": _summary(r["modality"], meta),
                     "ingested_at": r["ingested_at"]})
    df = pd.DataFrame(rows, columns=["modality", "date", "item", "files", "summary", "ingested_at"])
    order = {m: i for i, m in enumerate(MODALITY_ORDER)}
    return df.sort_values(["date", "modality"], key=lambda s: s.map(order) if s.name == "modality" else s,
                          kind="stable").reset_index(drop=True)


def _summary(modality: str, meta: dict[str, Any]) -> str:
    if modality == "radiology":
        return "; ".join(f"{s.get('modality', '')} {'x'.join(map(str, s.get('shape', [])))}" for s in meta.get("series", [])
                         if s.get("status") == "ok")
    if modality == "pathology":
        return f"{meta.get('vendor', '')} {meta.get('width')}x{meta.get('height')} px, {meta.get('tiles_kept')} tiles"
    if modality == "ecg":
        return f"{meta.get('format', '')} {meta.get('duration_s')} s, HR {meta.get('hr_bpm')} bpm"
    if modality == "reports":
        return f"{meta.get('n_reports')} report(s): {', '.join(meta.get('kinds', []) or [])}"
    if modality == "genomics":
        return "kinds: " + ", ".join(meta.get("kinds", []))
    return ", ".join(meta.get("columns", []))


@dataclass
class Series:
    """One stored radiology series of a patient."""

    label: str
    path: Path
    record: dict[str, Any] = field(default_factory=dict)


def radiology_series(ws: Workspace, pid: str) -> list[Series]:
    """The patient's stored series (selected first within each item)."""
    from clinfusion.modalities.radiology.read import series_paths

    out = []
    for _, r in ingested(ws, "radiology").iterrows():
        if r["patient_id"] == pid:
            for idx, path, rec in series_paths(ws.root, r):
                shape = "x".join(map(str, rec.get("shape", [])))
                out.append(Series(f"{rec.get('modality', '?')} series {idx} ({shape})", path, rec))
    return out


def load_axial(path: Path) -> np.ndarray:
    """A NIfTI volume as axial slices ``[k, rows, cols]`` in radiological display orientation.

    The volume is reoriented to RAS+; each slice is shown with anterior up and the patient's right
    on the image's left (the radiological convention).
    """
    import nibabel as nib

    img = nib.as_closest_canonical(nib.load(str(path)))
    data = np.asarray(img.dataobj, dtype=np.float32)
    if data.ndim == 2:
        data = data[:, :, None]
    data = data.reshape(data.shape[:3])  # drop trailing singleton dimensions (time, channel)
    # [i, j, k] RAS -> [k, j, i]; flip j (anterior up) and i (patient right on the left).
    return np.ascontiguousarray(np.transpose(data, (2, 1, 0))[:, ::-1, ::-1])


def pathology_slides(ws: Workspace, pid: str) -> list[dict[str, Any]]:
    """The patient's slides: ``item``, ``thumbnail`` and ``overlay`` PNG paths, catalog ``meta``, kept ``tiles``."""
    from clinfusion.modalities.pathology.read import load_slide_artifacts

    out = []
    for _, r in ingested(ws, "pathology").iterrows():
        if r["patient_id"] == pid:
            d = ws.root / r["artifact_dir"]
            art = load_slide_artifacts(d)
            out.append({"item": r["item_id"], "dir": d, "thumbnail": d / "thumbnail.png", "overlay": d / "tissue_overlay.png",
                        "meta": row_meta(r), "tiles": art["tiles"]})
    return out


def ecg_records(ws: Workspace, pid: str) -> list[dict[str, Any]]:
    """The patient's ECGs: ``item``, ``dir`` (with ``signal.npz``) and catalog ``meta`` (measured intervals)."""
    return [{"item": r["item_id"], "dir": ws.root / r["artifact_dir"], "meta": row_meta(r)}
            for _, r in ingested(ws, "ecg").iterrows() if r["patient_id"] == pid]


def genomics_scores(ws: Workspace) -> tuple[pd.DataFrame, str]:
    """Per-patient genomic table and what it is.

    Returns:
        ``(frame indexed by pseudonym, kind)``: gene-set scores (``kind="gene-set scores"``) when the
        workspace has gene sets, else gene-level values of every ingested table
        (``kind="gene-level values (no gene sets in this workspace)"``); empty when no genomics.
    """
    from clinfusion.errors import FeaturizeError
    from clinfusion.modalities.genomics.artifacts import load_genomics
    from clinfusion.modalities.genomics.export import gene_set_scores

    rows = ingested(ws, "genomics")
    if rows.empty:
        return pd.DataFrame(), "none"
    try:
        return gene_set_scores(ws, rows).set_index("patient_id"), "gene-set scores"
    except FeaturizeError:
        data = load_genomics(ws, rows)
        parts = [m.add_prefix(f"{kind}:") for kind, m in data.matrices.items()]
        return pd.concat(parts, axis=1), "gene-level values (no gene sets in this workspace)"


def report_records(ws: Workspace, pid: str, row: pd.Series | None = None) -> list[dict[str, Any]]:
    """The patient's de-identified reports (``kind``, shifted ``date``, ``sections`` with sentences)."""
    from clinfusion.modalities.reports.record import read_records

    rows = [row] if row is not None else [r for _, r in ingested(ws, "reports").iterrows()]
    out: list[dict[str, Any]] = []
    for r in rows:
        if pid in row_patients(r):
            out += read_records(ws.root / r["artifact_dir"], pid)
    return out
