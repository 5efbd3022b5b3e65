"""Radiology reader: one patient's DICOM files (any nesting) -> de-identified NIfTI per series.

Items: all of a patient's non-NIfTI files form one item (series are found inside it by UID);
each ``.nii`` / ``.nii.gz`` file is an item of its own. Per series the item folder holds
``series_NN.nii.gz`` (volume, see volume.py for the axis convention), ``series_NN.json``
(de-identified header of its first file, PS3.15 Basic Profile) and ``series_NN_<preset>.png``
previews. Every series is recorded in the metadata (``series``), the chosen one in ``selected``.

Single bad files (DICOMDIR, not DICOM, truncated, no pixel data, undecodable) are rejected with
their reason and the rest goes on; a series that cannot form an image is recorded with its
reason (its files rejected); no usable image at all raises :class:`IngestError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clinfusion.errors import IngestError
from clinfusion.modalities.base import IngestContext, IngestResult, Item, Reader
from clinfusion.modalities.radiology import deid
from clinfusion.modalities.radiology.discover import is_nifti, scan_files
from clinfusion.modalities.radiology.nifti import read_nifti, write_nifti
from clinfusion.modalities.radiology.preview import CT_PRESETS, write_previews
from clinfusion.modalities.radiology.series import (
    PROJECTION_MODALITIES,
    RadiologyOptions,
    Series,
    group_series,
    select_series,
)
from clinfusion.modalities.radiology.syntaxes import is_lossy, transfer_syntax
from clinfusion.modalities.radiology.volume import Volume, assemble, dataset_frames
from clinfusion.workspace import atomic

VOLUMETRIC = frozenset({"CT", "MR", "PT", "NM"})


def _header_only(ds: Any) -> Any:
    from pydicom.dataset import Dataset

    hdr = Dataset()
    for elem in ds:
        if elem.keyword not in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
            hdr.add(elem)
    if hasattr(ds, "file_meta"):
        hdr.file_meta = ds.file_meta
    return hdr


def volume_record(vol: Volume) -> dict[str, Any]:
    """Geometry and intensity summary of a volume (JSON-ready)."""
    import nibabel as nib

    lo, hi = (float(vol.array.min()), float(vol.array.max())) if vol.array.size else (0.0, 0.0)
    return {
        "shape": list(vol.shape),
        "spacing_mm": [round(s, 4) for s in vol.spacing_mm],
        "n_slices": vol.shape[0],
        "kind": "image2d" if vol.shape[0] == 1 else "volume",
        "intensity_range": [lo, hi],
        "axcodes": "".join(nib.aff2axcodes(vol.affine)),
        "affine": [[round(float(v), 5) for v in row] for row in vol.affine],
        "warnings": list(vol.warnings),
    }


def _store(vol: Volume, out_dir: Path, stem: str, previews: bool) -> dict[str, Any]:
    write_nifti(vol, out_dir / f"{stem}.nii.gz")
    rec = {"artifact": f"{stem}.nii.gz", **volume_record(vol)}
    if previews:
        looks_ct = vol.modality == "CT" or (not vol.modality and rec["intensity_range"][0] <= -900)
        rec["previews"] = write_previews(vol.array, out_dir, stem, CT_PRESETS if looks_ct else ("auto",))
    return rec


class RadiologyReader(Reader):
    """DICOM (single- and multi-frame, compressed or not) and NIfTI radiology reader."""

    modality = "radiology"
    version = "1"
    Options = RadiologyOptions

    def group(self, files):
        """One item of all non-NIfTI files of the patient, plus one item per NIfTI file."""
        rest = [f for f in files if not is_nifti(f.path.name)]
        return ([rest] if rest else []) + [[f] for f in files if is_nifti(f.path.name)]

    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        opts: RadiologyOptions = ctx.options  # type: ignore[assignment]  # IngestContext.options is typed BaseModel; the runner validated it with this reader's Options
        if len(item.files) == 1 and is_nifti(item.primary.path.name):
            vol = read_nifti(item.primary.path, ctx.mask(item.primary))
            rec = {"index": 0, "status": "ok", "source_format": "nifti", "modality": "", "selected": True,
                   **_store(vol, out_dir, "series_00", opts.previews)}
            meta = {"n_series": 1, "selected": 0, "selection": "only", "series": [rec]}
            return IngestResult(artifacts=sorted(p.name for p in out_dir.iterdir()), metadata=meta)
        return self._read_dicom(item, ctx, opts, out_dir)

    def _read_dicom(self, item: Item, ctx: IngestContext, opts: RadiologyOptions, out_dir: Path) -> IngestResult:
        scan = scan_files(list(item.files), ctx.mask, opts.max_decoded_bytes)
        rejected = dict(scan.rejected)
        if not scan.dicoms:
            reasons = sorted(set(rejected.values()))
            raise IngestError(f"no usable DICOM image among {len(item.files)} file(s): {'; '.join(reasons)}",
                              file=item.primary.rel, file_reasons=rejected)
        series = group_series(scan.dicoms)
        chosen, how = select_series(series, opts)
        order = [chosen] + [i for i in range(len(series)) if i != chosen]
        records: dict[int, dict[str, Any]] = {}
        for i in order:
            if opts.write == "selected" and any(r["status"] == "ok" for r in records.values()):
                records[i] = {"status": "not stored (write: selected)"}
                continue
            records[i] = self._series(i, series[i], ctx, item, opts, out_dir, rejected)
        ok = [i for i in range(len(series)) if records[i]["status"] == "ok"]
        if not ok:
            why = "; ".join(f"series {i}: {records[i]['reason']}" for i in range(len(series)))
            raise IngestError(f"no series could form an image ({why})", file=item.primary.rel, file_reasons=rejected)
        if chosen not in ok:
            chosen, how = ok[select_series([series[i] for i in ok], opts)[0]], f"{how}; first choice failed"
        out = []
        for i, s in enumerate(series):
            base = {"index": i, "modality": s.modality, "n_files": len(s.files), "selected": i == chosen,
                    "study_uid": ctx.pseudonymizer.uid(s.study_uid) if s.study_uid else "",
                    "series_uid": ctx.pseudonymizer.uid(s.series_uid)}
            out.append({**base, **records[i]})
        meta = {"n_series": len(series), "selected": chosen, "selection": how, "series_rule": opts.series_rule,
                "deidentification": deid.DEIDENTIFICATION_METHOD, "deid_table": deid.TABLE_EDITION,
                "n_rejected": len(rejected), "series": out}
        return IngestResult(artifacts=sorted(p.name for p in out_dir.iterdir()), metadata=meta, rejected=rejected)

    def _series(self, i: int, s: Series, ctx: IngestContext, item: Item, opts: RadiologyOptions, out_dir: Path,
                rejected: dict[str, str]) -> dict[str, Any]:
        """Assemble, de-identify and store one series; failures become a record with a reason."""
        by_label = {f.label: f.file.rel for f in s.files}
        n = s.n_frames
        if s.modality.upper() in VOLUMETRIC and n < opts.min_slices:
            return self._fail(s, f"single slice where a volume is required ({n} frame(s), min_slices "
                                 f"{opts.min_slices})", rejected)
        if n > 1 and len(s.files) > 1 and s.modality.upper() in PROJECTION_MODALITIES:
            return self._fail(s, f"{len(s.files)} projection images in one series cannot form a volume", rejected)
        try:
            frames = [fr for f in s.files for fr in dataset_frames(f.ds, f.label)]
            vol, failed = assemble(frames, s.modality)
        except IngestError as err:
            return self._fail(s, err.message, rejected)
        for label, reason in failed.items():
            rejected[by_label[label]] = reason
        stem = f"series_{i:02d}"
        hdr = deid.deidentify_dataset(_header_only(s.files[0].ds), ctx.pseudonymizer, str(item.patient_id),
                                      retain_descriptors=opts.retain_descriptors)
        atomic.write_text(out_dir / f"{stem}.json", json.dumps(deid.header_summary(hdr), indent=1, sort_keys=True))
        rec = {"status": "ok", "source_format": "dicom", "header": f"{stem}.json", "n_frames_used": vol.shape[0],
               "transfer_syntax": transfer_syntax(s.files[0].ds), "lossy": any(is_lossy(f.ds) for f in s.files),
               **_store(vol, out_dir, stem, opts.previews)}
        if s.modality.upper() == "CT":
            rec["hu_range"] = rec["intensity_range"]
        return rec

    @staticmethod
    def _fail(s: Series, reason: str, rejected: dict[str, str]) -> dict[str, Any]:
        for f in s.files:
            rejected.setdefault(f.file.rel, f"series cannot form an image: {reason}")
        return {"status": "failed", "reason": reason}


def series_paths(ws_root: Path, row: Any) -> list[tuple[int, Path, dict[str, Any]]]:
    """The stored series of a catalog row: ``(index, nifti path, series record)``, selected first."""
    meta = json.loads(row["meta_json"] or "{}")
    recs = [r for r in meta.get("series", []) if r.get("status") == "ok"]
    recs.sort(key=lambda r: (not r.get("selected", True), r["index"]))
    return [(int(r["index"]), Path(ws_root) / row["artifact_dir"] / r["artifact"], r) for r in recs]
