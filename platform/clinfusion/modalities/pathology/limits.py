"""Check the declared size of a TIFF slide before any decoder trusts it (TIFF "size bombs").

A 7 kB TIFF can declare a 200,000 x 200,000 px page; OpenSlide and the thumbnail code then
plan (and allocate) for that size before finding out that the tiles are not there. Every page
of a TIFF is checked from its tags alone (``tifffile`` reads the IFDs, no pixel data):

- ``ImageWidth x ImageLength`` must be at most ``max_pixels`` (configurable per cohort:
  ``modalities.pathology.options.max_pixels``);
- a tiled page must list one ``TileOffsets`` entry per tile its size implies
  (``ceil(W / TileWidth) x ceil(H / TileLength)`` x planes), and its tile data must lie inside
  the file: a page whose tiles are not in the file cannot be the size it declares.
"""

from __future__ import annotations

import math
from pathlib import Path

DEFAULT_MAX_PIXELS = 50_000_000_000
"""Default largest page, in pixels (50 Gpx: a 40x scan of 250,000 x 200,000 px)."""
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def is_tiff(path: Path) -> bool:
    """True when the file starts with a TIFF or BigTIFF signature."""
    with open(path, "rb") as fh:
        return fh.read(4) in _TIFF_MAGIC


def _page_problem(page, index: int, size: int, max_pixels: int) -> str:
    width, length = int(page.imagewidth), int(page.imagelength)
    if width * length > max_pixels:
        return (f"page {index} declares ImageWidth x ImageLength = {width} x {length} = {width * length} px, "
                f"more than max_pixels {max_pixels} (not decoded)")
    if not page.is_tiled:
        return ""
    tiles = page.tags.get(324)  # TileOffsets
    tw, tl = int(page.tilewidth), int(page.tilelength)
    if tiles is None or tw <= 0 or tl <= 0:
        return f"page {index} is tiled but has no valid TileWidth/TileLength/TileOffsets"
    planes = int(page.samplesperpixel) if int(page.planarconfig) == 2 else 1
    expected = math.ceil(width / tw) * math.ceil(length / tl) * planes
    if tiles.count != expected:
        return (f"page {index} declares {width} x {length} px in {expected} tiles of {tw} x {tl} but TileOffsets "
                f"lists {tiles.count} (not decoded)")
    if expected * 4 > size:
        return f"page {index} declares {expected} tiles, more than a {size}-byte file can hold (not decoded)"
    return ""


def tiff_size_problem(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """Why a TIFF's declared page sizes cannot be trusted (``""`` when they can, or not a TIFF).

    Args:
        path: the slide file.
        max_pixels: largest page allowed, in pixels.
    """
    path = Path(path)
    if not is_tiff(path):
        return ""
    import tifffile

    size = path.stat().st_size
    try:
        with tifffile.TiffFile(path) as tif:
            for i, page in enumerate(tif.pages):
                problem = _page_problem(page, i, size, max_pixels)
                if problem:
                    return problem
    except Exception as err:  # tifffile raises many types on broken IFDs: the slide detector explains them
        return f"TIFF header is corrupt ({type(err).__name__})"
    return ""
