"""Pathology export: one row per slide with its geometry, tissue, tiles and feature summaries."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clinfusion.workspace.catalog import row_meta
from clinfusion.workspace.workspace import Workspace

SUMMARY_FEATURES = ("h_mean", "e_mean", "nuclei_frac", "nuclei_per_10k_px", "grad_mean")
SLIDE_FIELDS = ("vendor", "backend", "level_count", "width", "height", "mpp_x", "mpp_y", "mpp_source",
                "objective_power", "tissue_fraction", "tiles_grid", "tiles_kept")


def _feature_summary(ws: Workspace, artifact_dir: str, meta: dict[str, Any]) -> dict[str, float]:
    """Mean over the slide's kept tiles of a few interpretable handcrafted features."""
    path = ws.root / artifact_dir / "features.npy"
    names = meta.get("feature_names")
    if not path.exists():
        return {}
    if names is None:
        import json

        names = json.loads((ws.root / artifact_dir / "slide.json").read_text()).get("feature_names", [])
    feats = np.load(path)
    return {f"mean_{n}": round(float(feats[:, names.index(n)].mean()), 5) for n in SUMMARY_FEATURES if n in names}


def export_pathology(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """Per ingested slide: ids, vendor, levels, dimensions, mpp, tissue fraction, tiles kept and
    dropped by reason, and slide-level means of interpretable tile features."""
    rows = []
    for _, r in catalog.iterrows():
        meta = row_meta(r)
        row: dict[str, Any] = {"patient_id": r["patient_id"], "item_id": r["item_id"], "source": r["source"]}
        row.update({k: meta.get(k) for k in SLIDE_FIELDS})
        row.update({f"tiles_{k}": v for k, v in (meta.get("tiles_dropped") or {}).items()})
        row["associated_images_dropped"] = ",".join(meta.get("associated_images_dropped") or [])
        row.update(_feature_summary(ws, r["artifact_dir"], meta))
        rows.append(row)
    return pd.DataFrame(rows)
