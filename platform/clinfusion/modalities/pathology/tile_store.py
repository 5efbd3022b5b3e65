"""The kept tiles' pixels, stored at ingest so that pixel encoders read only the workspace.

``tile_pixels.npy``: ``[kept tiles, tile_px, tile_px, 3]`` uint8 RGB, in the row order of the
kept rows of ``tiles.parquet``, read at the grid's level and resized to ``tile_px`` exactly as
the reader's quality checks saw them (before any stain normalisation). A plain ``.npy`` so that
an encoder memory-maps it and reads one batch at a time.

Cost: ``tile_px**2 * 3`` bytes per kept tile (256 px: 192 KiB; a slide with 5,000 kept tiles:
~0.94 GiB). ``options.store_tiles: false`` skips it; pixel encoders then cannot run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from clinfusion.errors import FeaturizeError

TILE_PIXELS_FILE = "tile_pixels.npy"


class TileStackWriter:
    """Appends uint8 tile batches to a side file and writes the ``.npy`` when closed.

    Memory stays at one batch: the count is only known at the end, so the array header (which
    holds the shape) is written then, followed by the appended bytes.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._part_path = self.path.with_name(self.path.name + ".part")
        self._part = open(self._part_path, "wb")  # noqa: SIM115 (closed by close/discard)
        self._tile_shape: tuple[int, ...] | None = None
        self.count = 0

    def append(self, tiles: np.ndarray) -> None:
        """Add ``[n, px, px, 3]`` uint8 tiles (copied out at once: the caller may reuse the array).

        Raises:
            ValueError: not uint8, or a tile shape other than the first batch's.
        """
        if tiles.dtype != np.uint8 or tiles.ndim != 4:
            raise ValueError(f"tiles must be [n, px, px, 3] uint8, got {tiles.dtype} {tiles.shape}")
        if self._tile_shape is None:
            self._tile_shape = tuple(tiles.shape[1:])
        elif tuple(tiles.shape[1:]) != self._tile_shape:
            raise ValueError(f"tile shape {tiles.shape[1:]} differs from the first batch's {self._tile_shape}")
        self._part.write(np.ascontiguousarray(tiles).tobytes())
        self.count += len(tiles)

    def close(self) -> Path:
        """Write ``path`` (header, then the tiles) and remove the side file; returns ``path``."""
        self._part.close()
        shape = (self.count, *(self._tile_shape or (0, 0, 3)))
        with open(self.path, "wb") as out, open(self._part_path, "rb") as part:
            np.lib.format.write_array_header_1_0(out, {"descr": "|u1", "fortran_order": False, "shape": shape})
            shutil.copyfileobj(part, out, 16 << 20)
        self._part_path.unlink()
        return self.path

    def discard(self) -> None:
        """Drop what was written (the slide failed)."""
        self._part.close()
        self._part_path.unlink(missing_ok=True)


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
