"""The kept tiles' pixels, stored at ingest so that pixel encoders read only the workspace.

``tile_pixels.npy``: ``[kept tiles, tile_px, tile_px, 3]`` uint8 RGB, in the row order of the
kept rows of ``tiles.parquet``, read at the grid's level and resized to ``tile_px`` exactly as
the reader's quality checks saw them (before any stain normalisation). A plain ``.npy`` so that
an encoder memory-maps it and reads one batch at a time.

Cost: ``tile_px**2 * 3`` bytes per kept tile (256 px: 192 KiB; a slide with 5,000 kept tiles:
~0.94 GiB). ``options.store_tiles: false`` skips it; pixel encoders then cannot run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.errors import FeaturizeError

TILE_PIXELS_FILE = "tile_pixels.npy"


HEADER_BYTES = 128
"""Bytes reserved for the ``.npy`` header (magic, version, length, dict; a multiple of numpy's
64-byte alignment): room for any tile count, so the header is rewritten in place at the end."""


def npy_header(shape: tuple[int, ...], size: int = HEADER_BYTES) -> bytes:
    """A version 1.0 ``.npy`` header for a C-order uint8 array of ``shape``, padded to ``size`` bytes.

    Raises:
        ValueError: the header does not fit in ``size`` bytes.
    """
    body = repr({"descr": "|u1", "fortran_order": False, "shape": tuple(int(n) for n in shape)})
    prefix = np.lib.format.MAGIC_PREFIX + bytes([1, 0])
    room = size - len(prefix) - 2 - 1  # 2: header length (uint16, little-endian); 1: the final newline
    if len(body) > room:
        raise ValueError(f"npy header for shape {shape} needs {len(body)} bytes, more than {room}")
    text = (body + " " * (room - len(body)) + "\n").encode("latin1")
    return prefix + len(text).to_bytes(2, "little") + text


class TileStackWriter:
    """Appends uint8 tile batches to the ``.npy`` file as they come.

    Memory stays at one batch: the count is only known at the end, so a fixed-size header is
    reserved first and rewritten in place by :meth:`close` (no second pass over the tile bytes,
    which for a real-size slide are gigabytes).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._out = open(self.path, "wb")  # noqa: SIM115 (closed by close/discard)
        self._out.write(npy_header((0, 0, 0, 3)))
        self._tile_shape: tuple[int, ...] | None = None
        self.count = 0

    def append(self, tiles: np.ndarray) -> None:
        """Add ``[n, px, px, 3]`` uint8 tiles (written at once: the caller may reuse the array).

        Raises:
            ValueError: not uint8, or a tile shape other than the first batch's.
        """
        if tiles.dtype != np.uint8 or tiles.ndim != 4:
            raise ValueError(f"tiles must be [n, px, px, 3] uint8, got {tiles.dtype} {tiles.shape}")
        if self._tile_shape is None:
            self._tile_shape = tuple(tiles.shape[1:])
        elif tuple(tiles.shape[1:]) != self._tile_shape:
            raise ValueError(f"tile shape {tiles.shape[1:]} differs from the first batch's {self._tile_shape}")
        if tiles.size:
            np.ascontiguousarray(tiles).tofile(self._out)  # straight from the array, no bytes copy
        self.count += len(tiles)

    def close(self) -> Path:
        """Write the final header (the tile count) in place and close; returns ``path``."""
        shape = (self.count, *(self._tile_shape or (0, 0, 3)))
        self._out.seek(0)
        self._out.write(npy_header(shape))
        self._out.close()
        return self.path

    def discard(self) -> None:
        """Drop what was written (the slide failed)."""
        self._out.close()
        self.path.unlink(missing_ok=True)


def open_tile_pixels(artifact_dir: str | Path, n_kept: int) -> np.ndarray:
    """The stored tiles of one slide, memory-mapped read-only: ``[n_kept, px, px, 3]`` uint8.

    Raises:
        FeaturizeError: the slide was ingested without tile pixels (``store_tiles: false`` or a
            reader version before 4), or the file does not match the tile table.
    """
    path = Path(artifact_dir) / TILE_PIXELS_FILE
    if not path.is_file():
        raise FeaturizeError("slide was ingested without tile pixels; re-ingest with pathology options "
                             "store_tiles: true (the default)", file=path, field="store_tiles")
    tiles = np.load(path, mmap_mode="r")
    if tiles.ndim != 4 or tiles.shape[0] != n_kept or tiles.dtype != np.uint8:
        raise FeaturizeError(f"tile pixels {tiles.dtype} {tiles.shape} do not match the {n_kept} kept tiles of "
                             "tiles.parquet: re-ingest the slide", file=path, field="shape")
    return tiles
