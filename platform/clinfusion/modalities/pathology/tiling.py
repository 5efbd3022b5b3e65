"""The tile grid at a target resolution and reading its tiles from the best pyramid level.

A tile of ``tile_px`` pixels at ``target_mpp`` covers ``tile_px * target_mpp / mpp0`` level-0
pixels. Tiles are read from the deepest level that is still at least as fine as the target
(never upsampling a coarse level when a finer one exists) and resized to ``tile_px`` when the
level's resolution is not exactly the target. Coordinates are always level-0 pixels.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from clinfusion.errors import IngestError
from clinfusion.modalities.pathology.backends.base import SlideBackend


class TilingConfig(BaseModel):
    """Tiling settings.

    Attributes:
        target_mpp: tile resolution in um/px (0.5 ~ 20x objective).
        tile_px: tile side in pixels at ``target_mpp``.
        min_tissue: minimum tissue fraction (0..1) under a tile for it to be read.
        max_upsample: the largest factor by which a slide coarser than ``target_mpp`` may be
            upsampled; beyond it the slide is rejected (its detail cannot support the target).
        batch: tiles read and checked per batch (memory ~ 2 * batch * tile_px^2 * 3 bytes: the
            next batch is read while one is checked).
        read_threads: threads reading tiles (0 = one per core, at most 4; backends that are not
            thread-safe always use one background thread).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    target_mpp: float = Field(0.5, gt=0.0)
    tile_px: int = Field(256, ge=16, le=4096)
    min_tissue: float = Field(0.5, ge=0.0, le=1.0)
    max_upsample: float = Field(2.0, ge=1.0)
    batch: int = Field(64, ge=1)
    read_threads: int = Field(0, ge=0, le=64)


@dataclass(frozen=True)
class GridPlan:
    """How tiles are read.

    Attributes:
        tile_l0: tile side in level-0 pixels.
        level: pyramid level read from.
        read_px: tile side in pixels of that level (resized to ``tile_px`` when different).
        tile_px: output tile side.
    """

    tile_l0: int
    level: int
    read_px: int
    tile_px: int


def plan_grid(slide: SlideBackend, mpp0: float, config: TilingConfig) -> GridPlan:
    """Choose the level and sizes for tiles at ``config.target_mpp``.

    Raises:
        IngestError: the slide is coarser than the target by more than ``max_upsample``.
    """
    factor = config.target_mpp / mpp0
    if factor * config.max_upsample < 1.0:
        raise IngestError(
            f"slide resolution {mpp0:.3f} um/px is too coarse for target_mpp {config.target_mpp} "
            f"(more than {config.max_upsample}x upsampling); set modalities.pathology.options.tiling.target_mpp "
            f">= {mpp0 / config.max_upsample:.3f}",
            file=slide.path, field="mpp",
        )
    tile_l0 = max(1, round(config.tile_px * factor))
    level = slide.best_level_for_downsample(max(factor, 1.0))
    read_px = max(1, round(tile_l0 / slide.level_downsamples[level]))
    return GridPlan(tile_l0, level, read_px, config.tile_px)


def grid_coordinates(dimensions: tuple[int, int], tile_l0: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners (level-0 px) of the non-overlapping tiles that lie fully inside the slide.

    Returns:
        ``(xs, ys)``, each ``[N]`` int64, row-major order.
    """
    w, h = dimensions
    gx, gy = np.arange(0, w - tile_l0 + 1, tile_l0), np.arange(0, h - tile_l0 + 1, tile_l0)
    yy, xx = np.meshgrid(gy, gx, indexing="ij")
    return xx.ravel().astype(np.int64), yy.ravel().astype(np.int64)


def read_tile(slide: SlideBackend, x: int, y: int, plan: GridPlan, level_image: np.ndarray | None = None) -> np.ndarray:
    """One tile ``[tile_px, tile_px, 3]`` uint8 at level-0 corner (x, y).

    Args:
        level_image: the whole level ``plan.level`` already in memory (only for a level with
            downsample 1, so level and level-0 pixels coincide); the tile is cut from it
            instead of being decoded again. Same pixels as a read (the grid lies inside the slide).
    """
    if level_image is not None:
        region = level_image[int(y):int(y) + plan.read_px, int(x):int(x) + plan.read_px]
    else:
        region = slide.read_region((int(x), int(y)), plan.level, (plan.read_px, plan.read_px))
    if plan.read_px != plan.tile_px:
        from PIL import Image

        region = np.asarray(Image.fromarray(np.ascontiguousarray(region)).resize((plan.tile_px, plan.tile_px),
                                                                                 Image.Resampling.BILINEAR))
    return region


def read_threads(slide: SlideBackend, requested: int = 0) -> int:
    """Tile-reading threads: ``requested``, or (0) one per core up to 4 for thread-safe backends, else 1."""
    if not slide.concurrent_reads:
        return 1
    return requested or max(1, min(4, os.cpu_count() or 1))


def iter_tile_batches(slide: SlideBackend, xs: np.ndarray, ys: np.ndarray, plan: GridPlan, batch: int,
                      threads: int = 1, level_image: np.ndarray | None = None,
                      ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Read tiles in batches, in background threads, one batch ahead of the consumer.

    While the caller computes on batch k, batch k+1 is being read (OpenSlide and PIL release
    the GIL), so reading overlaps with quality checks and features. Tiles are written straight
    into the batch array (no per-tile stacking copy).

    Args:
        threads: reader threads (use :func:`read_threads`; 1 for backends that are not thread-safe,
            still overlapping with the consumer).
        level_image: see :func:`read_tile`.

    Yields:
        ``(indices [B], tiles [B, tile_px, tile_px, 3] uint8)`` in order.
    """
    from concurrent.futures import ThreadPoolExecutor

    n = len(xs)
    starts = list(range(0, n, batch))

    def fill(out: np.ndarray, k: int, i: int) -> None:
        out[k] = read_tile(slide, xs[i], ys[i], plan, level_image)

    def submit(start: int):
        idx = np.arange(start, min(start + batch, n))
        out = np.empty((len(idx), plan.tile_px, plan.tile_px, 3), np.uint8)
        return idx, out, [pool.submit(fill, out, k, int(i)) for k, i in enumerate(idx)]

    if not starts:
        return
    pool = ThreadPoolExecutor(max(1, threads))
    try:
        pending = deque([submit(starts[0])])
        for nxt in [*starts[1:], None]:
            idx, out, futures = pending.popleft()
            for f in futures:
                f.result()
            if nxt is not None:
                pending.append(submit(nxt))
            yield idx, out
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
