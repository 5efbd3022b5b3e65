"""The ECG reader: groups WFDB record files, reads any supported format, writes ``signal.npz``.

Catalog metadata (``meta_json``) per record: ``record`` (keyed token, never the file name),
``format``, ``fs_hz``, ``fs_original_hz``, ``duration_s``, ``window_s``, ``n_windows``,
``leads_present``, ``leads_derived``, ``extra_leads``, ``quality`` (lead -> flags),
``usable_leads``, the measurements (``hr_bpm``, ``pr_ms``, ``qrs_ms``, ``qt_ms``, ``qtc_ms``,
``qtc_fridericia_ms``, ``axis_deg``, HRV, ``st_mv``), ``dx`` (SNOMED codes), ``age``, ``sex``,
and ``reference``: device measurements or annotation-derived heart rate, for validation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.errors import IngestError
from clinfusion.modalities.base import IngestContext, IngestResult, Item, Reader
from clinfusion.modalities.ecg.artifact import write_signal
from clinfusion.modalities.ecg.deid import merge_attributes, scrub_comments
from clinfusion.modalities.ecg.formats import detect, format_module
from clinfusion.modalities.ecg.leads import STANDARD_LEADS
from clinfusion.modalities.ecg.options import EcgOptions
from clinfusion.modalities.ecg.process import ProcessedEcg, process

ANNOTATION_SUFFIXES = (".atr", ".ann", ".qrs", ".ecg")
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")


def _header_files(hea: Path) -> set[str]:
    """Signal file names a WFDB header names (lines 2..n_sig+1, first token)."""
    try:
        lines = [ln for ln in hea.read_text(errors="replace").splitlines() if ln.strip() and not ln.startswith("#")]
        n_sig = int(lines[0].split()[1])
    except (OSError, IndexError, ValueError):
        return set()
    return {ln.split()[0] for ln in lines[1:1 + n_sig] if ln.split()}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return round(value, 3) if isinstance(value, float) else value


def annotation_hr(member: Path, fs_hz: float) -> float | None:
    """Mean heart rate (bpm) from the beat annotations of a WFDB annotation file, or None."""
    import wfdb

    try:
        ann = wfdb.rdann(str(member.with_suffix("")), member.suffix.lstrip("."))
    except Exception:  # wfdb raises assorted errors on foreign files: the reference is optional
        return None
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=False) if sym in BEAT_SYMBOLS])
    rr = np.diff(beats) / float(ann.fs or fs_hz)
    rr = rr[(rr > 0.25) & (rr < 2.5)]
    return float(60.0 / rr.mean()) if rr.size else None


class EcgReader(Reader):
    """Reads WFDB records, DICOM waveform ECGs and CSV ECGs (see :mod:`.formats`)."""

    modality = "ecg"
    version = "1"
    Options = EcgOptions

    def group(self, files: list[DiscoveredFile]) -> list[list[DiscoveredFile]]:
        """A WFDB ``.hea`` with every file of its record (same stem or named in it) is one item;
        every other file is its own item (a ``.dat`` without header is quarantined when read)."""
        claimed: set[DiscoveredFile] = set()
        groups = []
        for f in files:
            if f.path.suffix.lower() != ".hea":
                continue
            named = _header_files(f.path)
            members = [g for g in files if g is not f and g.path.parent == f.path.parent and g not in claimed
                       and g.path.suffix.lower() != ".hea" and (g.path.stem == f.path.stem or g.path.name in named)]
            claimed.update([f, *members])
            groups.append([f, *members])
        return groups + [[f] for f in files if f not in claimed]

    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        opts = ctx.options if isinstance(ctx.options, EcgOptions) else EcgOptions()
        primary = item.primary
        fmt = detect(primary.path, primary.rel)
        raw = format_module(fmt).read(primary.path, opts, rel=primary.rel)
        rec = process(raw, opts, rel=primary.rel)
        artifact = write_signal(out_dir, rec)
        shift = ctx.pseudonymizer.date_shift_days(str(item.patient_id)) if opts.keep_comments else None
        labels = merge_attributes(scrub_comments(raw.comments, shift), raw.attributes)
        reference = dict(raw.reference)
        if "rr_ms" in reference and reference["rr_ms"] > 0:
            reference["hr_bpm"] = 60000.0 / reference["rr_ms"]
        for member in item.files[1:]:
            if member.path.suffix.lower() in ANNOTATION_SUFFIXES:
                hr = annotation_hr(member.path, raw.fs_hz)
                if hr is not None:
                    reference.setdefault("hr_bpm", hr)
        meta = self._metadata(rec, fmt, opts)
        meta.update(record=ctx.pseudonymizer.token("ecg-record", primary.rel, 12), dx=labels["dx"],
                    age=labels["age"], sex=labels["sex"], comments_dropped=labels["comments_dropped"],
                    reference=_finite(reference))
        if opts.keep_comments:
            meta["comments"] = labels["comments"]
        return IngestResult(artifacts=[artifact], metadata=meta)

    @staticmethod
    def _metadata(rec: ProcessedEcg, fmt: str, opts: EcgOptions) -> dict[str, Any]:
        m = rec.measurements
        scalars = ("hr_bpm", "rr_ms", "sdnn_ms", "rmssd_ms", "pnn50", "n_beats", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms",
                   "qtc_fridericia_ms", "axis_deg", "reference_lead")
        present = [n for n, p in zip(STANDARD_LEADS, rec.present, strict=True) if p]
        if not present:
            raise IngestError("no standard lead present after mapping", field="channels")
        return {
            "format": fmt,
            "fs_hz": rec.fs_hz,
            "fs_original_hz": rec.fs_original_hz,
            "duration_s": round(rec.duration_s, 3),
            "window_s": opts.window_s,
            "n_windows": int(rec.windows.shape[0]),
            "leads_present": present,
            "leads_derived": rec.derived,
            "extra_leads": rec.extra_names,
            "quality": rec.quality,
            "usable_leads": [n for n, u in zip(STANDARD_LEADS, rec.usable, strict=True) if u],
            **{k: _finite(m[k]) for k in scalars},
            "st_mv": _finite(m["st_mv"]),
        }
