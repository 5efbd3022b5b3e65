"""DICOM whole-slide backend (VL Whole Slide Microscopy Image Storage) on pydicom frames.

One slide is one series: every VOLUME instance is a pyramid level (largest first). LABEL and
OVERVIEW instances (the slide label and macro photograph) are never opened for pixels: the
reader lists them as dropped. Frames are decoded one by one (JPEG / JPEG 2000 via Pillow,
uncompressed by slicing) and cached, so a tile read decodes only the frames it overlaps.
"""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.pathology.backends.base import SlideBackend

WSI_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.6"
_FRAME_CACHE = 64


def image_flavour(ds: Any) -> str:
    """``VOLUME``, ``LABEL``, ``OVERVIEW`` or ``THUMBNAIL`` from ImageType (value 3)."""
    image_type = list(getattr(ds, "ImageType", []) or [])
    return str(image_type[2]).upper() if len(image_type) > 2 else "VOLUME"


def _spacing_um(ds: Any) -> tuple[float, float] | None:
    try:
        spacing = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing
        return float(spacing[1]) * 1000.0, float(spacing[0]) * 1000.0  # DICOM order is (row, column)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        pass
    try:
        w_mm, h_mm = float(ds.ImagedVolumeWidth), float(ds.ImagedVolumeHeight)
        return w_mm * 1000.0 / int(ds.TotalPixelMatrixColumns), h_mm * 1000.0 / int(ds.TotalPixelMatrixRows)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError):
        return None


class _Level:
    """One VOLUME instance: a tiled total pixel matrix."""

    def __init__(self, path: Path) -> None:
        import pydicom

        self.path = path
        self.ds = pydicom.dcmread(str(path))
        ds = self.ds
        try:
            self.width, self.height = int(ds.TotalPixelMatrixColumns), int(ds.TotalPixelMatrixRows)
            self.tile_w, self.tile_h = int(ds.Columns), int(ds.Rows)
            self.n_frames = int(getattr(ds, "NumberOfFrames", 1))
            _ = ds.PixelData
        except AttributeError as err:
            raise IngestError(f"DICOM WSI instance lacks {err.name or err}", file=path, field="TotalPixelMatrix") from None
        self.cols = math.ceil(self.width / self.tile_w)
        self.encapsulated = ds.file_meta.TransferSyntaxUID.is_compressed
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.positions = self._frame_positions()

    def _frame_positions(self) -> dict[tuple[int, int], int]:
        """(tile column, tile row) -> frame index, for TILED_FULL and TILED_SPARSE layouts."""
        per_frame = getattr(self.ds, "PerFrameFunctionalGroupsSequence", None)
        if per_frame is not None and getattr(self.ds, "DimensionOrganizationType", "") != "TILED_FULL":
            out = {}
            for i, fg in enumerate(per_frame):
                pos = fg.PlanePositionSlideSequence[0]
                col = (int(pos.ColumnPositionInTotalImagePixelMatrix) - 1) // self.tile_w
                row = (int(pos.RowPositionInTotalImagePixelMatrix) - 1) // self.tile_h
                out[(col, row)] = i
            return out
        rows = math.ceil(self.height / self.tile_h)
        if self.n_frames < self.cols * rows:
            raise IngestError(
                f"{self.n_frames} frames for a {self.cols}x{rows} tile grid; expected TILED_FULL or per-frame positions",
                file=self.path, field="NumberOfFrames",
            )
        row_major = {(i % self.cols, i // self.cols): i for i in range(self.cols * rows)}
        if getattr(self.ds, "DimensionOrganizationType", "") == "TILED_FULL" or rows < 2 or self.cols < 2:
            return row_major
        # Undeclared layout: some writers store frames column by column. Keep the order whose
        # frame edges continue into their neighbours (smaller mean step across the seams).
        col_major = {(i // rows, i % rows): i for i in range(self.cols * rows)}
        return min((row_major, col_major), key=self._seam_cost)

    def _seam_cost(self, layout: dict[tuple[int, int], int]) -> float:
        """Mean absolute step across the vertical seams of up to 8 horizontally adjacent frame pairs."""
        pairs = [(c, r) for (c, r) in sorted(layout) if (c + 1, r) in layout and c + 2 < self.cols][:8]
        steps = [np.abs(self.frame(layout[(c, r)])[:, -1].astype(np.int16)
                        - self.frame(layout[(c + 1, r)])[:, 0].astype(np.int16)).mean() for c, r in pairs]
        return float(np.mean(steps)) if steps else 0.0

    def frame(self, index: int) -> np.ndarray:
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        from PIL import Image

        if self.encapsulated:
            from pydicom.encaps import get_frame

            data = get_frame(self.ds.PixelData, index, number_of_frames=self.n_frames)
            arr = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        else:
            size = self.tile_w * self.tile_h * 3
            arr = np.frombuffer(self.ds.PixelData, np.uint8, size, index * size).reshape(self.tile_h, self.tile_w, 3)
        self._cache[index] = arr
        if len(self._cache) > _FRAME_CACHE:
            self._cache.popitem(last=False)
        return arr

    def read(self, x: int, y: int, w: int, h: int) -> np.ndarray:
        out = np.full((h, w, 3), 255, np.uint8)
        for row in range(max(0, y // self.tile_h), min(math.ceil(self.height / self.tile_h), (y + h - 1) // self.tile_h + 1)):
            for col in range(max(0, x // self.tile_w), min(self.cols, (x + w - 1) // self.tile_w + 1)):
                index = self.positions.get((col, row))
                if index is None:
                    continue
                tile = self.frame(index)
                tx, ty = col * self.tile_w, row * self.tile_h
                x0, y0 = max(x, tx), max(y, ty)
                x1 = min(x + w, tx + self.tile_w, self.width)
                y1 = min(y + h, ty + self.tile_h, self.height)
                if x1 > x0 and y1 > y0:
                    out[y0 - y:y1 - y, x0 - x:x1 - x] = tile[y0 - ty:y1 - ty, x0 - tx:x1 - tx]
        return out


class DicomWsiBackend(SlideBackend):
    """A DICOM WSI series (one or more VOLUME instance files) read with pydicom."""

    name = "dicom"

    def __init__(self, path: Path, files: list[Path] | None = None) -> None:
        super().__init__(path)
        import pydicom

        volumes = []
        for f in files or [path]:
            head = pydicom.dcmread(str(f), stop_before_pixels=True)
            if str(getattr(head, "SOPClassUID", "")) != WSI_SOP_CLASS:
                raise IngestError("not a VL Whole Slide Microscopy instance", file=f, field="SOPClassUID")
            if image_flavour(head) == "VOLUME":
                volumes.append((int(head.TotalPixelMatrixColumns), f))
        if not volumes:
            raise IngestError("the series has no VOLUME instance (only label/overview images)", file=path, field="ImageType")
        self._levels = [_Level(f) for _, f in sorted(volumes, reverse=True)]

    @property
    def level_dimensions(self) -> list[tuple[int, int]]:
        return [(lv.width, lv.height) for lv in self._levels]

    @property
    def level_downsamples(self) -> list[float]:
        w0 = self._levels[0].width
        return [w0 / lv.width for lv in self._levels]

    @property
    def vendor(self) -> str:
        return "dicom"

    @property
    def mpp(self) -> tuple[float, float] | None:
        return _spacing_um(self._levels[0].ds)

    @property
    def objective_power(self) -> float | None:
        try:
            return float(self._levels[0].ds.OpticalPathSequence[0].ObjectiveLensPower)
        except (AttributeError, IndexError, TypeError, ValueError):
            return None

    @property
    def raw_properties(self) -> dict[str, Any]:
        ds = self._levels[0].ds
        return {f"dicom.{el.keyword}": str(el.value) for el in ds if el.keyword and el.keyword != "PixelData"}

    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> np.ndarray:
        ds = self.level_downsamples[level]
        return self._levels[level].read(round(location[0] / ds), round(location[1] / ds), int(size[0]), int(size[1]))
