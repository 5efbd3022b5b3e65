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
    """

    name: str = ""

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

    def thumbnail(self, max_side: int) -> tuple[np.ndarray, float]:
        """An RGB rendering of the whole slide with its longest side at most ``max_side``.

        Returns:
            ``([h, w, 3] uint8, downsample)`` where downsample is level-0 pixels per thumbnail pixel.
        """
        from PIL import Image

        w0, h0 = self.dimensions
        target = max(w0, h0) / max_side
        level = self.best_level_for_downsample(max(target, 1.0))
        region = self.read_region((0, 0), level, self.level_dimensions[level])
        scale = max(1.0, target)
        size = (max(1, round(w0 / scale)), max(1, round(h0 / scale)))
        if (region.shape[1], region.shape[0]) != size:
            region = np.asarray(Image.fromarray(region).resize(size, Image.Resampling.BOX))
        return region, w0 / size[0]

    def __enter__(self) -> SlideBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
