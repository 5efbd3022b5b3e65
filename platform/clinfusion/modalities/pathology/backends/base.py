"""The slide backend contract: pyramid geometry, resolution and region reads, nothing else.

A backend deliberately offers no access to associated images (label, macro, thumbnail stored
by the scanner): they carry patient names and barcodes, and what the reader cannot ask for it
cannot leak.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np


class SlideBackend(ABC):
    """An open whole-slide image.

    Attributes:
        name: backend registry name.
        path: the primary file.
        concurrent_reads: True if ``read_region`` is thread-safe (tiles are then read by several
            threads; otherwise by one background thread).
    """

    name: str = ""
    concurrent_reads: bool = False  # whether read_region may be called from several threads at once

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    @abstractmethod
    def level_dimensions(self) -> list[tuple[int, int]]:
        """(width, height) in pixels of every pyramid level, level 0 first."""

    @property
    @abstractmethod
    def level_downsamples(self) -> list[float]:
        """Downsample factor of every level relative to level 0."""

    @property
    @abstractmethod
    def vendor(self) -> str:
        """Scanner/format family, e.g. ``aperio``, ``generic-tiff``, ``dicom``."""

    @property
    @abstractmethod
    def mpp(self) -> tuple[float, float] | None:
        """Level-0 resolution in micrometres per pixel (x, y), or ``None`` when unknown."""

    @property
    @abstractmethod
    def objective_power(self) -> float | None:
        """Scanning objective magnification, or ``None`` when unknown."""

    @property
    @abstractmethod
    def raw_properties(self) -> dict[str, Any]:
        """All format properties as read (NOT de-identified: pass through ``deid`` first)."""

    @abstractmethod
    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> np.ndarray:
        """Read an RGB region.

        Args:
            location: (x, y) of the top-left corner in level-0 pixels.
            level: pyramid level.
            size: (width, height) in pixels of that level.

        Returns:
            ``[height, width, 3]`` uint8; area outside the slide is white.
        """

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release file handles."""

    @property
    def dimensions(self) -> tuple[int, int]:
        """Level-0 (width, height)."""
        return self.level_dimensions[0]

    @property
    def level_count(self) -> int:
        return len(self.level_dimensions)

    def best_level_for_downsample(self, downsample: float) -> int:
        """The deepest level whose downsample does not exceed ``downsample`` (+1% tolerance)."""
        best = 0
        for i, ds in enumerate(self.level_downsamples):
            if ds <= downsample * 1.01:
                best = i
        return best

    def read_level(self, level: int, threads: int = 1) -> np.ndarray:
        """A whole level ``[h, w, 3]`` uint8 (the same pixels as one ``read_region`` of it).

        Backends override this with something faster where they can (threads, direct decoding).
        """
        return self.read_region((0, 0), level, self.level_dimensions[level])

    def read_level_reduced(self, level: int, max_factor: float, threads: int = 1) -> tuple[np.ndarray, int]:
        """A whole level reduced by an integer factor at most ``max_factor`` where a backend can do
        that cheaply (JPEG DCT scaling), for renderings such as the thumbnail.

        Args:
            max_factor: the largest acceptable reduction (the rendering is at least this coarse).

        Returns:
            ``([h, w, 3] uint8, factor)``: level pixels per returned pixel. The default is the full
            level (:meth:`read_level`) and factor 1; only then are the pixels exactly the level's.
        """
        return self.read_level(level, threads), 1

    def thumbnail_level(self, max_side: int) -> int:
        """The level a ``max_side`` thumbnail is rendered from (deepest level at least that fine)."""
        w0, h0 = self.dimensions
        return self.best_level_for_downsample(max(max(w0, h0) / max_side, 1.0))

    def thumbnail(self, max_side: int) -> tuple[np.ndarray, float]:
        """An RGB rendering of the whole slide with its longest side at most ``max_side``.

        Returns:
            ``([h, w, 3] uint8, downsample)`` where downsample is level-0 pixels per thumbnail pixel.
        """
        level = self.thumbnail_level(max_side)
        w, h = self.level_dimensions[level]
        image, factor = self.read_level_reduced(level, max(w, h) / max_side)
        return render_thumbnail(image, self.dimensions, max_side, (w / factor, h / factor) if factor > 1 else None)

    def __enter__(self) -> SlideBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_thumbnail(region: np.ndarray, dimensions: tuple[int, int], max_side: int,
                     extent: tuple[float, float] | None = None) -> tuple[np.ndarray, float]:
    """Box-resize a whole-level read (possibly reduced, see :meth:`SlideBackend.read_level_reduced`)
    to the thumbnail size (see :meth:`SlideBackend.thumbnail`).

    One Pillow call on purpose: Pillow picks the order of its two passes (horizontal/vertical,
    rounded to uint8 in between) itself, so splitting the work into bands for threads changes
    pixels for some sizes (measured; see tests/modalities/pathology/test_fast_paths.py).

    Args:
        region: ``[h, w, 3]`` uint8, a whole level of the slide (at any scale: it is resized to fit).
        dimensions: level-0 (width, height).
        max_side: longest thumbnail side.
        extent: (width, height) in ``region`` pixels that the slide covers, when not all of it (a
            level reduced by DCT scaling covers ``level size / factor``, a fraction of its last
            pixel: that pixel mixes in JPEG padding). Resampling over the exact extent matters:
            dropping the partial last row of CMU-1 (1483 instead of 1483.5 rows) shifts the
            rendering by up to a third of a thumbnail pixel and its tissue mask IoU from 0.98 to 0.94.

    Returns:
        ``([h, w, 3] uint8, level-0 pixels per thumbnail pixel)``.
    """
    from PIL import Image

    w0, h0 = dimensions
    scale = max(1.0, max(w0, h0) / max_side)
    size = (max(1, round(w0 / scale)), max(1, round(h0 / scale)))
    if extent is not None:
        box = (0.0, 0.0, float(extent[0]), float(extent[1]))
        region = np.asarray(Image.fromarray(np.ascontiguousarray(region)).resize(size, Image.Resampling.BOX, box=box))
    elif (region.shape[1], region.shape[0]) != size:
        region = np.asarray(Image.fromarray(np.ascontiguousarray(region)).resize(size, Image.Resampling.BOX))
    return region, w0 / size[0]
