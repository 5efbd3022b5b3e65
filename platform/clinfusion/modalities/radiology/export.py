"""Radiology export: one row per stored series with its metadata and whole-volume radiomics."""

from __future__ import annotations

import json

import pandas as pd

from clinfusion.modalities.radiology.features import RadiomicsConfig, _is_ct, volume_tokens
from clinfusion.modalities.radiology.nifti import read_nifti
from clinfusion.modalities.radiology.radiomics import FEATURE_NAMES
from clinfusion.modalities.radiology.read import series_paths
from clinfusion.workspace.workspace import Workspace


def export_radiology(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """Per series: patient, item, index, selected, modality, kind, shape, slices, spacing (mm),
    intensity (HU for CT) range, warning count, and the whole-volume radiomics (``rad_*``)."""
    cfg = RadiomicsConfig(max_regions=0)
    rows = []
    for _, r in catalog.iterrows():
        for idx, path, rec in series_paths(ws.root, r):
            vol = read_nifti(path)
            feats = volume_tokens(vol.array, vol.affine, vol.spacing_mm, ct=_is_ct(rec, vol.array), cfg=cfg)[0][0]
            lo, hi = rec["intensity_range"]
            row = {"patient_id": r["patient_id"], "item_id": r["item_id"], "series_index": idx,
                   "selected": bool(rec.get("selected", True)), "modality": rec.get("modality", ""),
                   "kind": rec["kind"], "shape": json.dumps(rec["shape"]), "n_slices": rec["n_slices"],
                   "spacing_slice_mm": rec["spacing_mm"][0], "spacing_row_mm": rec["spacing_mm"][1],
                   "spacing_col_mm": rec["spacing_mm"][2], "intensity_min": lo, "intensity_max": hi,
                   "n_warnings": len(rec.get("warnings", []))}
            row.update({f"rad_{n}": float(v) for n, v in zip(FEATURE_NAMES, feats, strict=True)})
            rows.append(row)
    return pd.DataFrame(rows)
