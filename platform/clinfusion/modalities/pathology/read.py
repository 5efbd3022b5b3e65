"""PathologyReader: one slide -> tile grid, quality flags, tile features and overlays.

Artifacts written per slide (de-identified):

- ``tiles.parquet``: one row per tile with tissue: ``x``, ``y`` (level-0 px), ``tile_l0``,
  ``tissue`` fraction, quality statistics, ``kept`` and drop ``reason``;
- ``features.npy``: ``[kept tiles, D]`` float32 handcrafted features (kept tiles in order);
- ``tile_pixels.npy``: ``[kept tiles, tile_px, tile_px, 3]`` uint8 pixels of the kept tiles, for
  pixel encoders (``options.store_tiles``; see :mod:`.tile_store`);
- ``thumbnail.png`` and ``tissue_overlay.png``: renderings of the tissue level only;
- ``slide.json``: the metadata below plus feature names and the thumbnail scale.

Items: one slide file, or for DICOM-WSI all instance files of one series (grouped by
SeriesInstanceUID). Label/overview DICOM instances of the series are listed as rejected with
the privacy reason and never opened for pixels.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.errors import IngestError
from clinfusion.modalities.base import IngestContext, IngestResult, Item, Reader
from clinfusion.modalities.pathology.process import PathologyOptions, SlideTiles, process_slide

LABEL_REASON = "DICOM {flavour} instance (slide label/overview image): never ingested, for privacy"


def _dicom_series(f: DiscoveredFile) -> tuple[str, str, int] | None:
    """(series UID, image flavour, matrix width) of a DICOM file, or None if not DICOM/readable."""
    from clinfusion.modalities.pathology.detect import is_dicom

    try:
        if not is_dicom(f.path):
            return None
        import pydicom

        from clinfusion.modalities.pathology.backends.dicom_backend import image_flavour

        ds = pydicom.dcmread(str(f.path), stop_before_pixels=True)
        return str(ds.SeriesInstanceUID), image_flavour(ds), int(getattr(ds, "TotalPixelMatrixColumns", 0) or 0)
    except Exception:  # an unreadable header makes its own item, quarantined with the reason at read time
        return None


class PathologyReader(Reader):
    """Whole-slide images (SVS, NDPI, MRXS, SCN, tiled TIFF via OpenSlide; DICOM-WSI via pydicom)."""

    modality = "pathology"
    version = "5"  # 5: 31 features (uniform LBP, one OD with I0 = 256); 4: kept tile pixels stored (tile_pixels.npy); 3: DCT-scaled thumbnails of large levels
    Options = PathologyOptions

    def group(self, files: list[DiscoveredFile]) -> list[list[DiscoveredFile]]:
        singles: list[list[DiscoveredFile]] = []
        series: dict[str, list[tuple[int, DiscoveredFile]]] = defaultdict(list)
        for f in files:
            info = _dicom_series(f)
            if info is None:
                singles.append([f])
            else:
                uid, flavour, width = info
                series[uid].append(((width if flavour == "VOLUME" else -1), f))
        # The largest VOLUME instance is the primary file that names the item.
        grouped = [[f for _, f in sorted(members, key=lambda m: (-m[0], m[1].rel))] for members in series.values()]
        return sorted(singles + grouped, key=lambda g: g[0].rel)

    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        from clinfusion.modalities.pathology.backends import open_slide

        options: PathologyOptions = ctx.options  # type: ignore[assignment]  # IngestContext.options is typed BaseModel; the runner validated it with this reader's Options
        from clinfusion.modalities.pathology.limits import tiff_size_problem

        problem = tiff_size_problem(item.primary.path, options.max_pixels)  # before any decoder trusts the size
        if problem:
            raise IngestError(problem, file=item.primary.rel, field="ImageWidth/ImageLength")
        volumes, rejected = self._split_members(item)
        from clinfusion.modalities.pathology.tile_store import TILE_PIXELS_FILE, TileStackWriter

        pixels = TileStackWriter(out_dir / TILE_PIXELS_FILE) if options.store_tiles else None
        try:
            reopen = functools.partial(open_slide, item.primary.path, files=volumes, backend=options.backend)
            with reopen() as slide:
                result = process_slide(slide, options, pixels.append if pixels else None,
                                       workers=options.workers or ctx.workers, reopen=reopen)
                from clinfusion.modalities.pathology.deid import slide_metadata

                meta = slide_metadata(slide, result.mpp, result.mpp_source)
        except BaseException:
            if pixels:
                pixels.discard()
            raise
        stored = [pixels.close().name] if pixels else []
        meta.update(self._tiling_meta(result, options))
        return IngestResult(artifacts=self._write(out_dir, result, meta) + stored, metadata=meta, rejected=rejected)

    @staticmethod
    def _split_members(item: Item) -> tuple[list[Path] | None, dict[str, str]]:
        if len(item.files) == 1:
            return None, {}
        volumes, rejected = [], {}
        for f in item.files:
            info = _dicom_series(f)
            if info is not None and info[1] != "VOLUME":
                rejected[f.rel] = LABEL_REASON.format(flavour=info[1])
            else:
                volumes.append(f.path)
        return volumes, rejected

    @staticmethod
    def _tiling_meta(result: SlideTiles, options: PathologyOptions) -> dict[str, Any]:
        kept = result.tiles[result.tiles["kept"]]
        return {
            "target_mpp": options.tiling.target_mpp,
            "tile_px": options.tiling.tile_px,
            "tile_l0": result.plan.tile_l0,
            "read_level": result.plan.level,
            "tissue_fraction": round(float(result.mask.mean()), 4),
            "tiles_grid": result.grid_tiles,
            "tiles_kept": int(len(kept)),
            "tiles_dropped": {k: v for k, v in result.stats.items() if k not in ("grid", "kept")},
            "stain_normalized": bool(options.stain_normalize),
            "thumbnail_downsample": round(result.thumb_downsample, 4),
        }

    @staticmethod
    def _write(out_dir: Path, result: SlideTiles, meta: dict[str, Any]) -> list[str]:
        from clinfusion.modalities.pathology.heatmap import tissue_overlay, write_png

        artifacts = ["tiles.parquet", "thumbnail.png", "tissue_overlay.png", "slide.json"]
        result.tiles.to_parquet(out_dir / "tiles.parquet", index=False)
        write_png(out_dir / "thumbnail.png", result.thumbnail)
        write_png(out_dir / "tissue_overlay.png", tissue_overlay(result.thumbnail, result.mask))
        doc = dict(meta)
        if result.features is not None:
            from clinfusion.modalities.pathology.handcrafted import FEATURE_NAMES

            np.save(out_dir / "features.npy", result.features.astype(np.float32))
            artifacts.append("features.npy")
            doc["feature_names"] = FEATURE_NAMES
        (out_dir / "slide.json").write_text(json.dumps(doc, indent=1, sort_keys=True))
        return artifacts


def load_slide_artifacts(artifact_dir: Path) -> dict[str, Any]:
    """Read a slide's artifacts: ``meta`` (slide.json), ``tiles`` (kept rows), ``features`` or None.

    Raises:
        IngestError: the artifact directory is incomplete.
    """
    import pandas as pd

    artifact_dir = Path(artifact_dir)
    try:
        meta = json.loads((artifact_dir / "slide.json").read_text())
        tiles = pd.read_parquet(artifact_dir / "tiles.parquet")
    except FileNotFoundError as err:
        raise IngestError(f"slide artifact missing: {Path(err.filename).name}", file=artifact_dir) from None
    feats_path = artifact_dir / "features.npy"
    features = np.load(feats_path) if feats_path.exists() else None
    return {"meta": meta, "tiles": tiles[tiles["kept"]].reset_index(drop=True), "features": features}
