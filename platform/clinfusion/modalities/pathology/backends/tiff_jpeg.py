"""Whole-level decoding of JPEG-tiled TIFF pyramids (Aperio SVS, generic tiled TIFF), in threads.

A thumbnail of a slide without a usable low-resolution level (e.g. a single-level SVS) needs a
whole level decoded. OpenSlide's ``read_region`` of a whole level costs ~3-5x the JPEG
decoding itself (region compositing, per-tile overhead; CMU-1 small region: ~240-440 ms against
~77 ms for the same 130 tiles decoded with libjpeg-turbo via imagecodecs, measured in
bench/pathology.py's session, see docs/pathology.md). This module decodes the level's tiles
directly, in parallel threads (imagecodecs and ``os.pread`` release the GIL).

The result must be the pixels OpenSlide would return, so the colour space follows OpenSlide's
TIFF decoder (JPEG data of a TIFF with photometric RGB are RGB, not YCbCr: the Aperio quirk) and
:meth:`TiffJpegLevel.matches` compares decoded tiles with OpenSlide reads before a level is used.
Anything unusual (other compression, planar data, missing tiles, other vendors) is not handled
here: callers fall back to OpenSlide.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

VENDORS = ("aperio", "generic-tiff")  # vendors whose levels are plain tiled TIFF pages
_JPEG, _RGB, _YCBCR = 7, 2, 6
_JCS_RGB, _JCS_YCBCR = 2, 3  # libjpeg J_COLOR_SPACE values


class TiffJpegLevel:
    """One JPEG-tiled TIFF page that is an OpenSlide level.

    Attributes:
        width, height: level size in pixels; tile_w, tile_h: TIFF tile size.
    """

    def __init__(self, path: Path, page) -> None:
        self.path = Path(path)
        self.height, self.width = (int(v) for v in page.shape[:2])
        self.tile_h, self.tile_w = (int(v) for v in page.tile)
        self._offsets = [int(v) for v in page.dataoffsets]
        self._counts = [int(v) for v in page.databytecounts]
        self._tables = page.jpegtables
        self._colorspace = _JCS_RGB if int(page.photometric) == _RGB else _JCS_YCBCR
        self._cols = -(-self.width // self.tile_w)

    @classmethod
    def find(cls, path: Path, size: tuple[int, int]) -> TiffJpegLevel | None:
        """The tiled JPEG page of ``path`` with level size ``size`` (w, h), or None if unsupported."""
        import tifffile

        if not hasattr(os, "pread"):  # positional reads from threads (POSIX); elsewhere OpenSlide does it
            return None
        try:
            with tifffile.TiffFile(str(path)) as tif:
                for page in tif.pages:
                    if cls._supported(page, size):
                        return cls(path, page)
        except Exception:  # unreadable as TIFF by tifffile: OpenSlide keeps doing the work
            return None
        return None

    @staticmethod
    def _supported(page, size: tuple[int, int]) -> bool:
        shape = getattr(page, "shape", ())
        return (
            getattr(page, "is_tiled", False) and len(shape) == 3 and shape[2] == 3
            and (shape[1], shape[0]) == tuple(size) and int(page.compression) == _JPEG
            and int(page.photometric) in (_RGB, _YCBCR) and int(page.planarconfig) == 1
            and int(page.bitspersample) == 8 and all(int(c) > 0 for c in page.databytecounts)
        )

    def decode_tile(self, fd: int, index: int) -> np.ndarray:
        """Tile ``index`` (row-major) ``[tile_h, tile_w, 3]`` uint8 RGB, not cropped at the edges."""
        import imagecodecs

        data = os.pread(fd, self._counts[index], self._offsets[index])
        return imagecodecs.jpeg8_decode(data, tables=self._tables, colorspace=self._colorspace,
                                        outcolorspace=_JCS_RGB)

    def decode(self, threads: int) -> np.ndarray:
        """The whole level ``[height, width, 3]`` uint8 RGB (tiles decoded by ``threads`` threads)."""
        out = np.empty((self.height, self.width, 3), np.uint8)
        fd = os.open(self.path, os.O_RDONLY)

        def one(index: int) -> None:
            ty, tx = divmod(index, self._cols)
            y, x = ty * self.tile_h, tx * self.tile_w
            h, w = min(self.tile_h, self.height - y), min(self.tile_w, self.width - x)
            out[y:y + h, x:x + w] = self.decode_tile(fd, index)[:h, :w]

        try:
            n = len(self._offsets)
            if threads <= 1:
                for i in range(n):
                    one(i)
            else:
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(one, range(n)))
        finally:
            os.close(fd)
        return out

    def matches(self, read_region) -> bool:
        """Whether decoded tiles equal ``read_region((x, y), size)`` (the reader's own pixels).

        Checks the middle tile and the last (edge) tile: the colour space and edge handling are
        what could differ.
        """
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for index in {len(self._offsets) // 2, len(self._offsets) - 1}:
                ty, tx = divmod(index, self._cols)
                y, x = ty * self.tile_h, tx * self.tile_w
                h, w = min(self.tile_h, self.height - y), min(self.tile_w, self.width - x)
                if not np.array_equal(self.decode_tile(fd, index)[:h, :w], read_region((x, y), (w, h))):
                    return False
        except Exception:  # any decoding trouble: not usable
            return False
        finally:
            os.close(fd)
        return True
