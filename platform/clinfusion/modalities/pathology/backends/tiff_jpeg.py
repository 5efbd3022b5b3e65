"""Direct decoding of JPEG-tiled TIFF pyramids (Aperio SVS, generic tiled TIFF): levels and regions.

A thumbnail of a slide without a usable low-resolution level (e.g. a single-level SVS) needs a
whole level decoded. OpenSlide's ``read_region`` of a whole level costs ~3-5x the JPEG
decoding itself (region compositing, per-tile overhead; CMU-1 small region: ~240-440 ms against
~77 ms for the same 130 tiles decoded with libjpeg-turbo via imagecodecs, measured in
bench/pathology.py's session, see docs/pathology.md). This module decodes the level's tiles
directly, in parallel threads (imagecodecs and ``os.pread`` release the GIL).

Tile reads have the same overhead: a 256 px ``read_region`` aligned with one JPEG tile costs
OpenSlide ~3.5-4.5 ms (synthetic slide), the JPEG decoding itself ~0.6 ms. :meth:`TiffJpegLevel.region`
composes regions from directly decoded JPEG tiles, with a small LRU cache of decoded tiles (shared
by neighbouring reads, like OpenSlide's own tile cache, and of the same 32 MiB size).

The result must be the pixels OpenSlide would return, so the colour space follows OpenSlide's
TIFF decoder (JPEG data of a TIFF with photometric RGB are RGB, not YCbCr: the Aperio quirk) and
:meth:`TiffJpegLevel.matches` compares decoded tiles with OpenSlide reads before a level is used.
Anything unusual (other compression, planar data, missing tiles, other vendors) is not handled
here: callers fall back to OpenSlide.

Thumbnails of a level much larger than the thumbnail (a single-level slide) use libjpeg's DCT
scaling (:meth:`TiffJpegLevel.decode_scaled`: every tile decoded at 1/2, 1/4 or 1/8 through Pillow's
``draft``), so the whole level is never held, nor box-resized, at full resolution. These pixels
are not OpenSlide's (libjpeg's reduced-size IDCT is close to, not equal to, a 2x2/4x4/8x8 mean:
measured on CMU-1 at most 1 grey level off); the thumbnail and tissue mask change slightly, which
is why the reader version was bumped when this was introduced.
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

VENDORS = ("aperio", "generic-tiff")  # vendors whose levels are plain tiled TIFF pages
_JPEG, _RGB, _YCBCR = 7, 2, 6
_JCS_RGB, _JCS_YCBCR = 2, 3  # libjpeg J_COLOR_SPACE values
SCALES = (8, 4, 2)  # libjpeg DCT scaling denominators used for thumbnails (also 1: no scaling)
# Adobe APP14 marker (version 100, flags 0, transform 0 = RGB / 1 = YCbCr): tells libjpeg the colour
# space of 3-component data whose component ids (0, 1, 2 in Aperio tiles) would otherwise mean YCbCr.
_APP14 = {_JCS_RGB: b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00",
          _JCS_YCBCR: b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01"}
CACHE_BYTES = 32 << 20  # decoded-tile cache of region reads (OpenSlide's default cache size)


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
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_tiles = max(4, CACHE_BYTES // (self.tile_w * self.tile_h * 3))

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
        shape: tuple[int, ...] = getattr(page, "shape", ())
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

    def _full_stream(self, data: bytes) -> bytes:
        """A self-contained JPEG of an abbreviated TIFF tile stream: SOI, an APP14 marker stating
        the colour space, the JPEGTables segments (without their SOI/EOI), the tile (without SOI)."""
        tables = self._tables[2:-2] if self._tables else b""
        return b"\xff\xd8" + _APP14[self._colorspace] + tables + data[2:]

    def decode_tile_scaled(self, fd: int, index: int, scale: int) -> np.ndarray:
        """Tile ``index`` decoded at 1/``scale`` (1, 2, 4 or 8; DCT scaling, Pillow's libjpeg-turbo):
        ``[ceil(tile_h / scale), ceil(tile_w / scale), 3]`` uint8 RGB.

        Raises:
            ValueError: Pillow did not decode it as 8-bit RGB at that scale.
        """
        from PIL import Image

        data = os.pread(fd, self._counts[index], self._offsets[index])
        with Image.open(io.BytesIO(self._full_stream(data))) as im:
            if scale > 1:
                im.draft("RGB", (im.width // scale, im.height // scale))
            expect = (-(-self.tile_w // scale), -(-self.tile_h // scale))
            if im.mode != "RGB" or im.size != expect:
                raise ValueError(f"Pillow decoded the tile as {im.mode} {im.size}, expected RGB {expect}")
            return np.asarray(im)

    def decode_scaled(self, scale: int, threads: int) -> np.ndarray | None:
        """The whole level reduced ``scale`` times by DCT scaling (``scale`` in :data:`SCALES`):
        ``[ceil(height / scale), ceil(width / scale), 3]`` uint8 RGB, pixel (i, j) the block of level
        pixels from (i * scale, j * scale) (a partial block at the right/bottom edge mixes in the
        tile padding: renderings should cover only ``(width / scale, height / scale)`` of it, see
        :func:`.base.render_thumbnail`'s ``extent``). None when the tile size is
        not a multiple of ``scale`` or Pillow's decoding of a tile at full scale differs from
        :meth:`decode_tile` (which :meth:`matches` checked against OpenSlide): callers then decode
        the level at full resolution.
        """
        if self.tile_w % scale or self.tile_h % scale:
            return None
        sw, sh = self.tile_w // scale, self.tile_h // scale
        width, height = -(-self.width // scale), -(-self.height // scale)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            probe = len(self._offsets) // 2  # same colour handling as the verified decoder?
            if not np.array_equal(self.decode_tile_scaled(fd, probe, 1), self.decode_tile(fd, probe)):
                return None
            return self._assemble(lambda i: self.decode_tile_scaled(fd, i, scale), sw, sh, width, height, threads)
        except Exception:  # Pillow cannot decode these tiles: full-resolution decoding instead
            return None
        finally:
            os.close(fd)

    def _assemble(self, decode: Callable[[int], np.ndarray], tile_w: int, tile_h: int, width: int, height: int,
                  threads: int) -> np.ndarray:
        """``[height, width, 3]`` uint8 from every tile ``decode(index)`` (``[tile_h, tile_w, 3]``,
        cropped at the right/bottom edge), decoded by ``threads`` threads."""
        out = np.empty((height, width, 3), np.uint8)

        def one(index: int) -> None:
            ty, tx = divmod(index, self._cols)
            y, x = ty * tile_h, tx * tile_w
            h, w = min(tile_h, height - y), min(tile_w, width - x)
            out[y:y + h, x:x + w] = decode(index)[:h, :w]

        n = len(self._offsets)
        if threads <= 1:
            for i in range(n):
                one(i)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, range(n)))
        return out

    def _cached_tile(self, index: int) -> np.ndarray:
        """Decoded tile ``index`` through the LRU cache (thread-safe; a tile decoded by two threads
        at once is simply decoded twice)."""
        with self._lock:
            tile = self._cache.get(index)
            if tile is not None:
                self._cache.move_to_end(index)
                return tile
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDONLY)
            fd = self._fd
        tile = self.decode_tile(fd, index)
        with self._lock:
            self._cache[index] = tile
            if len(self._cache) > self._cache_tiles:
                self._cache.popitem(last=False)
        return tile

    def region(self, x: int, y: int, w: int, h: int) -> np.ndarray | None:
        """A region ``[h, w, 3]`` uint8 RGB (a new array) at level pixel (x, y), or None when it is
        not entirely inside the level (the caller reads it elsewhere: outside pixels are OpenSlide's)."""
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > self.width or y + h > self.height:
            return None
        out = np.empty((h, w, 3), np.uint8)
        for ty in range(y // self.tile_h, (y + h - 1) // self.tile_h + 1):
            for tx in range(x // self.tile_w, (x + w - 1) // self.tile_w + 1):
                tile = self._cached_tile(ty * self._cols + tx)
                oy, ox = ty * self.tile_h, tx * self.tile_w
                y0, y1 = max(y, oy), min(y + h, oy + self.tile_h)
                x0, x1 = max(x, ox), min(x + w, ox + self.tile_w)
                out[y0 - y:y1 - y, x0 - x:x1 - x] = tile[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        return out

    def close(self) -> None:
        """Close the file handle of region reads and drop the tile cache."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._cache.clear()

    def decode(self, threads: int) -> np.ndarray:
        """The whole level ``[height, width, 3]`` uint8 RGB (tiles decoded by ``threads`` threads)."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return self._assemble(lambda i: self.decode_tile(fd, i), self.tile_w, self.tile_h, self.width, self.height,
                                  threads)
        finally:
            os.close(fd)

    def matches(self, read_region) -> bool:
        """Whether decoded tiles equal ``read_region((x, y), size)`` (the reader's own pixels).

        Checks the middle tile and the last (edge) tile: the colour space and edge handling are
        what could differ (whole levels and regions are composed from the same tile decodes).
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
