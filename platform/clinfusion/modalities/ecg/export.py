"""ECG export: one interpretable row per ingested record."""

from __future__ import annotations

import pandas as pd

from clinfusion.workspace.catalog import row_meta
from clinfusion.workspace.workspace import Workspace

EXPORT_COLUMNS = ("patient_id", "record", "format", "fs_hz", "leads", "duration_s", "n_windows", "quality_flags",
                  "hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "qtc_fridericia_ms", "axis_deg", "sdnn_ms",
                  "rmssd_ms", "dx_codes", "age", "sex")


def _flags(quality: dict[str, list[str]]) -> str:
    return ";".join(f"{lead}:{'+'.join(f)}" for lead, f in sorted(quality.items()) if f)


def export_ecg(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """Per record: ids, rate, leads, duration, quality flags (``lead:flag+flag;...``), the
    measurements and the SNOMED Dx codes (``;``-separated)."""
    rows = []
    for _, r in catalog.iterrows():
        m = row_meta(r)
        rows.append({
            "patient_id": r["patient_id"], "record": m.get("record"), "format": m.get("format"),
            "fs_hz": m.get("fs_hz"), "leads": ";".join(m.get("leads_present", [])), "duration_s": m.get("duration_s"),
            "n_windows": m.get("n_windows"), "quality_flags": _flags(m.get("quality", {})),
            **{k: m.get(k) for k in ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "qtc_fridericia_ms", "axis_deg",
                                     "sdnn_ms", "rmssd_ms")},
            "dx_codes": ";".join(m.get("dx", [])), "age": m.get("age"), "sex": m.get("sex"),
        })
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
