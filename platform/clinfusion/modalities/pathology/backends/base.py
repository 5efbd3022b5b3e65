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

    def thumbnail_level(self, max_side: int) -> int:
        """The level a ``max_side`` thumbnail is rendered from (deepest level at least that fine)."""
        w0, h0 = self.dimensions
        return self.best_level_for_downsample(max(max(w0, h0) / max_side, 1.0))

    def thumbnail(self, max_side: int) -> tuple[np.ndarray, float]:
        """An RGB rendering of the whole slide with its longest side at most ``max_side``.

        Returns:
            ``([h, w, 3] uint8, downsample)`` where downsample is level-0 pixels per thumbnail pixel.
        """
        return render_thumbnail(self.read_level(self.thumbnail_level(max_side)), self.dimensions, max_side)

    def __enter__(self) -> SlideBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_thumbnail(region: np.ndarray, dimensions: tuple[int, int], max_side: int) -> tuple[np.ndarray, float]:
    """Box-resize a whole-level read to the thumbnail size (see :meth:`SlideBackend.thumbnail`).

    One Pillow call on purpose: Pillow picks the order of its two passes (horizontal/vertical,
    rounded to uint8 in between) itself, so splitting the work into bands for threads changes
    pixels for some sizes (measured; see tests/modalities/pathology/test_fast_paths.py).

    Args:
        region: ``[h, w, 3]`` uint8, a whole level of the slide.
        dimensions: level-0 (width, height).
        max_side: longest thumbnail side.

    Returns:
        ``([h, w, 3] uint8, level-0 pixels per thumbnail pixel)``.
    """
    from PIL import Image

    w0, h0 = dimensions
    scale = max(1.0, max(w0, h0) / max_side)
    size = (max(1, round(w0 / scale)), max(1, round(h0 / scale)))
    if (region.shape[1], region.shape[0]) != size:
        region = np.asarray(Image.fromarray(np.ascontiguousarray(region)).resize(size, Image.Resampling.BOX))
    return region, w0 / size[0]
