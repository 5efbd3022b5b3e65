"""Write a real-size 40x Aperio-style SVS for benchmarks, streaming (never the whole image in memory).

The slide: level 0 at 0.25 um/px (40x), ``--size`` px on a side (default 65,536), JPEG tiles of
256 px, a pyramid by 4 as consecutive tiled TIFF pages (the layout OpenSlide's Aperio reader
takes as levels), and an Aperio ImageDescription (``Aperio Image Library ...|AppMag = 40|MPP =
0.2500``) on the first page. No label or macro image (nothing identifying is planted).

Content: several tissue islands (a smooth random boundary per island) on glass. Inside, the
texture is the real H&E of the CMU-1 small region (``../shared/data/pathology``, 20x at 0.499
um/px, CC0): its most tissue-dense window, rescaled to the level's resolution (2x up at level 0)
and mirror-tiled, with a different offset per island. Every level is rendered from the same
level-0 coordinate mapping with the texture prefiltered to that level's scale, so the levels are
consistent downsamples of each other without ever building level 0.

Memory: the texture window at each level's scale (level 0: ~2k x 3k px), the coarse island
mask (1 px per 64 level-0 px) and the tiles tifffile is encoding; tiles are produced by a
generator, row by row.

Usage: ``python bench/big_slide.py OUT.svs [--size 65536] [--islands 6] [--coverage 0.25] [--seed 0]``
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TILE = 256
MASK_PX = 64  # level-0 px per island-mask px
GLASS = np.array([242, 241, 244], np.float32)
CMU1 = "pathology/cmu-1-small-region.svs"
CMU1_MPP = 0.499


@dataclass(frozen=True)
class BigSlide:
    """What was written.

    Attributes:
        path: the SVS. size: level-0 side in px. mpp: level-0 um/px. levels: (width, height) per
        level. tissue_fraction: fraction of level 0 under the island mask (> 0.5). seconds: write time.
        bytes: file size.
    """

    path: Path
    size: int
    mpp: float
    levels: list[tuple[int, int]]
    tissue_fraction: float
    seconds: float
    bytes: int


def _default_texture_source() -> Path:
    from clinfusion.testing import shared_data_dir

    return shared_data_dir() / CMU1


def texture_window(source: Path, window: tuple[int, int] = (1024, 1536)) -> np.ndarray:
    """The most tissue-dense ``window`` (w, h) of the CMU-1 small region, ``[h, w, 3]`` uint8.

    Raises:
        FileNotFoundError: the source slide is missing (names the path and CLINFUSION_SHARED_DATA).
    """
    if not Path(source).is_file():
        raise FileNotFoundError(f"H&E texture source {source} not found: set CLINFUSION_SHARED_DATA to the folder "
                                f"holding {CMU1} (see ../shared/data/README.md)")
    import openslide

    with openslide.OpenSlide(str(source)) as o:
        img = np.asarray(o.read_region((0, 0), 0, o.dimensions).convert("RGB"))
    w, h = min(window[0], img.shape[1]), min(window[1], img.shape[0])
    mx, mn = img.max(axis=2).astype(np.float32), img.min(axis=2).astype(np.float32)
    tissue = ((mx - mn) / np.maximum(mx, 1.0) > 0.12).astype(np.int64)
    integral = np.pad(tissue.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w]
    y, x = np.unravel_index(int(np.argmax(sums[::16, ::16])), sums[::16, ::16].shape)
    y, x = y * 16, x * 16
    return np.ascontiguousarray(img[y:y + h, x:x + w])


def island_mask(size: int, islands: int, coverage: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Coarse tissue mask ``[n, n]`` float32 in [0, 1] (n = size / 64): ``islands`` blobs with
    random wavy boundaries, their total area about ``coverage`` of the slide, edges smoothed; and
    the island centres ``[islands, 2]`` (x, y) in level-0 px."""
    from scipy import ndimage

    n = max(8, math.ceil(size / MASK_PX))
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    mask = np.zeros((n, n), bool)
    r0 = n * math.sqrt(coverage / (math.pi * islands))
    centres: list[tuple[float, float]] = []
    for _ in range(islands):
        for _try in range(200):  # keep islands apart (they are separate tissue pieces)
            cx, cy = rng.uniform(r0 * 1.3, n - r0 * 1.3, 2)
            if all(math.hypot(cx - a, cy - b) > 2.1 * r0 for a, b in centres):
                break
        centres.append((cx, cy))
        radius = r0 * rng.uniform(0.8, 1.2)
        theta = np.arctan2(yy - cy, xx - cx)
        wobble = np.ones_like(theta)
        for k in range(2, 7):
            wobble += rng.uniform(0.02, 0.12) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
        aspect = rng.uniform(0.7, 1.0)
        rot = rng.uniform(0, math.pi)
        u = (xx - cx) * math.cos(rot) + (yy - cy) * math.sin(rot)
        v = ((yy - cy) * math.cos(rot) - (xx - cx) * math.sin(rot)) / aspect
        mask |= np.hypot(u, v) < radius * wobble
    smooth = np.clip(ndimage.gaussian_filter(mask.astype(np.float32), 0.8), 0.0, 1.0)
    return smooth, np.array(centres, np.float64) * MASK_PX


def _mirror(idx: np.ndarray, n: int) -> np.ndarray:
    m = np.mod(idx, 2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


class _Renderer:
    """Renders any tile of any level from the texture and the island mask."""

    def __init__(self, texture: np.ndarray, mask: np.ndarray, centres: np.ndarray, mpp: float, seed: int,
                 max_downsample: int) -> None:
        from PIL import Image

        self.mask = mask
        self.pad = TILE * max_downsample // MASK_PX + 4  # mask px: tiles of a level may overhang the slide edge
        self.padded = np.pad(mask, self.pad)
        self.mpp = mpp
        self.Image = Image
        # Level-0 texture: the window at 0.25 um/px, cropped to a multiple of the deepest downsample so
        # that every level's texture is an exact box-downsample with the same mirror period (in level-0
        # px); the offsets are multiples of it too, so the levels stay aligned everywhere.
        h, w = texture.shape[:2]
        scale = CMU1_MPP / mpp  # level-0 px per source px
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        tex0 = Image.fromarray(texture).resize(size, Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.LANCZOS)
        cw, ch = (size[0] // max_downsample) * max_downsample, (size[1] // max_downsample) * max_downsample
        if cw == 0 or ch == 0:
            raise ValueError(f"texture window {w}x{h} px is too small for a pyramid down to 1/{max_downsample}")
        self.tex0 = tex0.crop((0, 0, cw, ch))
        self.textures: dict[int, np.ndarray] = {}
        rng = np.random.default_rng(seed + 1)
        self.centres = centres  # [islands, 2] level-0 px: each pixel takes the texture offset of its nearest island
        self.offsets = rng.integers(0, 1 << 14, (len(centres), 2)) * max_downsample

    def texture(self, downsample: int) -> np.ndarray:
        """The texture at a level's scale (level px = ``downsample`` level-0 px), float32 ``[h, w, 3]``."""
        if downsample not in self.textures:
            w, h = self.tex0.size
            img = self.tex0 if downsample == 1 else self.tex0.resize((w // downsample, h // downsample),
                                                                     self.Image.Resampling.BOX)
            self.textures[downsample] = np.asarray(img).astype(np.float32)
        return self.textures[downsample]

    def tile(self, level_ds: int, tx: int, ty: int) -> np.ndarray:
        """Tile (tx, ty) of the level with downsample ``level_ds``: ``[256, 256, 3]`` uint8."""
        x0, y0 = tx * TILE * level_ds, ty * TILE * level_ds  # level-0 px
        span = TILE * level_ds / MASK_PX  # mask px under the tile
        pad = self.pad
        mx0, my0 = x0 / MASK_PX + pad, y0 / MASK_PX + pad  # in the padded mask
        ix0, iy0 = int(mx0) - 1, int(my0) - 1
        ix1, iy1 = int(mx0 + span) + 2, int(my0 + span) + 2
        crop = np.ascontiguousarray(self.padded[iy0:iy1, ix0:ix1])
        if float(crop.max()) <= 0.0:
            return np.broadcast_to(GLASS.astype(np.uint8), (TILE, TILE, 3))
        box = (mx0 - ix0 - 0.5, my0 - iy0 - 0.5, mx0 - ix0 - 0.5 + span, my0 - iy0 - 0.5 + span)
        alpha = np.asarray(self.Image.fromarray(crop, mode="F").resize((TILE, TILE), self.Image.Resampling.BILINEAR,
                                                                        box=box))
        alpha = np.clip((alpha - 0.5) * 6.0 + 0.5, 0.0, 1.0)[..., None]
        tex = self.texture(level_ds)
        th, tw = tex.shape[:2]
        lx = x0 + (np.arange(TILE) + 0.5) * level_ds  # level-0 px of the tile's pixel centres
        ly = y0 + (np.arange(TILE) + 0.5) * level_ds
        corners = np.array([[lx[0], ly[0]], [lx[-1], ly[0]], [lx[0], ly[-1]], [lx[-1], ly[-1]]])
        near = {int(np.argmin(np.hypot(*(self.centres - c).T))) for c in corners}
        if len(near) == 1:  # one island's Voronoi cell: separable indexing
            ox, oy = self.offsets[near.pop()]
            rows = _mirror(np.arange(TILE) + (y0 + int(oy)) // level_ds, th)
            cols = _mirror(np.arange(TILE) + (x0 + int(ox)) // level_ds, tw)
            pix = tex[rows[:, None], cols[None, :]]
        else:  # the tile straddles cells: per pixel
            d = np.hypot(lx[None, :, None] - self.centres[None, None, :, 0], ly[:, None, None] - self.centres[None, None, :, 1])
            which = np.argmin(d, axis=2)
            ox, oy = self.offsets[which, 0], self.offsets[which, 1]
            rows = _mirror(np.arange(TILE)[:, None] + (y0 + oy) // level_ds, th)
            cols = _mirror(np.arange(TILE)[None, :] + (x0 + ox) // level_ds, tw)
            pix = tex[rows, cols]
        out = alpha * pix + (1.0 - alpha) * GLASS
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def aperio_description(size: int, mpp: float, level_size: tuple[int, int]) -> str:
    """An Aperio ImageDescription: OpenSlide's Aperio reader needs the leading ``Aperio`` and reads
    ``MPP`` and ``AppMag`` from the ``|``-separated fields."""
    w, h = level_size
    return (f"Aperio Image Library v12.0.15 \r\n{size}x{size} [0,0 {w}x{h}] ({TILE}x{TILE}) JPEG/RGB Q=80"
            f"|AppMag = {round(10 / mpp)}|MPP = {mpp:.4f}|ScanScope ID = SYNTHETIC"
            "|Filename = synthetic-big|Title = synthetic real-size slide (clinfusion bench/big_slide.py)")


def write_big_slide(path: str | Path, size: int = 65536, *, islands: int = 6, coverage: float = 0.25, seed: int = 0,
                    mpp: float = 0.25, min_level_px: int = 1024, texture_source: str | Path | None = None,
                    quality: int = 80, workers: int = 2) -> BigSlide:
    """Write the slide (see the module docstring).

    Args:
        path: output ``.svs``.
        size: level-0 side in px (square); a multiple of 256 is not required.
        islands: tissue pieces; coverage: their total area as a fraction of the slide (0..0.6).
        seed: island shapes and texture offsets.
        mpp: level-0 um/px (0.25 = 40x).
        min_level_px: the pyramid (by 4) stops before a level's side would drop below this.
        texture_source: the CMU-1 small region SVS (default: under CLINFUSION_SHARED_DATA).
        quality: JPEG quality. workers: tifffile encoder threads.

    Raises:
        ValueError: bad size/islands/coverage. FileNotFoundError: no texture source.
    """
    import tifffile

    if size < TILE or islands < 1 or not 0.0 < coverage <= 0.6:
        raise ValueError(f"size must be >= {TILE} px, islands >= 1 and coverage in (0, 0.6]; got size={size}, "
                         f"islands={islands}, coverage={coverage}")
    t0 = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    texture = texture_window(Path(texture_source) if texture_source else _default_texture_source())
    mask, centres = island_mask(size, islands, coverage, seed)
    levels: list[tuple[int, int]] = []
    ds = 1
    while True:
        side = math.ceil(size / ds)
        levels.append((side, side))
        if math.ceil(size / (ds * 4)) < min_level_px:
            break
        ds *= 4
    render = _Renderer(texture, mask, centres, mpp, seed, ds)
    px_per_cm = 1e4 / mpp

    def tiles(level: int) -> Iterator[np.ndarray]:
        w, h = levels[level]
        for ty in range(math.ceil(h / TILE)):
            for tx in range(math.ceil(w / TILE)):
                yield render.tile(4**level, tx, ty)

    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        for i, (w, h) in enumerate(levels):
            tif.write(tiles(i), shape=(h, w, 3), dtype=np.uint8, tile=(TILE, TILE), photometric="rgb",
                      compression="jpeg", compressionargs={"level": quality}, maxworkers=workers,
                      description=aperio_description(size, mpp, (w, h)) if i == 0 else None, metadata=None,
                      resolution=(px_per_cm / 4**i, px_per_cm / 4**i), resolutionunit="CENTIMETER",
                      subfiletype=0 if i == 0 else 1)
    cover = float((mask > 0.5).mean())
    return BigSlide(path, size, mpp, levels, round(cover, 4), round(time.perf_counter() - t0, 2), path.stat().st_size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--size", type=int, default=65536)
    ap.add_argument("--islands", type=int, default=6)
    ap.add_argument("--coverage", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="JPEG encoder threads")
    args = ap.parse_args()
    s = write_big_slide(args.out, args.size, islands=args.islands, coverage=args.coverage, seed=args.seed,
                        workers=args.workers)
    print(json.dumps({"path": str(s.path), "size": s.size, "mpp": s.mpp, "levels": s.levels,
                      "tissue_fraction": s.tissue_fraction, "seconds": s.seconds, "bytes": s.bytes}, indent=1))


if __name__ == "__main__":
    main()
