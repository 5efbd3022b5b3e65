"""One slide from open backend to tissue mask, checked tiles and tile features (no file output).

Shared by the ingest reader and the benchmark, so both measure the same work.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing as mp
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from clinfusion.errors import IngestError
from clinfusion.modalities.pathology.backends import BACKENDS
from clinfusion.modalities.pathology.backends.base import SlideBackend, render_thumbnail
from clinfusion.modalities.pathology.handcrafted import FEATURE_STRIDE, features_from_planes
from clinfusion.modalities.pathology.quality import (
    REASONS,
    QualityConfig,
    drop_reason,
    gray_planes,
    planes,
    quality_from_planes,
)
from clinfusion.modalities.pathology.tiling import (
    GridPlan,
    TilingConfig,
    grid_coordinates,
    iter_tile_batches,
    plan_grid,
    read_threads,
    read_tile,
)
from clinfusion.modalities.pathology.tissue import TissueConfig, tile_tissue_fraction, tissue_mask

# Levels above this many pixels are decoded reduced for the thumbnail (JPEG DCT scaling) instead of
# whole. Below it, a whole full-resolution decode is faster: libjpeg-turbo spends most of its time
# in entropy decoding, which DCT scaling does not skip (CMU-1 small region, 6.6 MPx, 130 tiles: 1/2
# scale 54 ms against 60 ms full, but its 29 tissue tiles then cost ~30 ms more to decode on their
# own than to cut from the decoded level; see docs/pathology.md, round 3). Above it, the whole level
# would cost 3 bytes per pixel of memory (a 40k x 40k single-level slide: 4.8 GB).
REDUCED_DECODE_MIN_PX = 32 << 20


class PathologyOptions(BaseModel):
    """Reader options (``modalities.pathology.options`` in cohort.yaml).

    Attributes:
        tiling, tissue, quality: see their modules.
        mpp_override: level-0 um/px to use instead of the slide's own value (required for
            slides that do not record it).
        stain_normalize: Macenko-normalise tiles before features (fit per slide on its tissue).
        features: compute the default handcrafted tile features during ingest (the slide is
            open and the tiles are in memory; see docs/pathology.md).
        store_tiles: keep the kept tiles' pixels in the workspace (``tile_pixels.npy``, see
            :mod:`.tile_store` for the cost), so that pixel encoders (``cnn``) featurize from the
            workspace alone.
        backend: force a backend (default: chosen by file content).
        max_pixels: largest TIFF page allowed, in pixels (declared ImageWidth x ImageLength,
            checked with the tile table before decoding; see :mod:`.limits`).
        workers: processes per slide reading, checking and featurizing tile batches (0 = the
            share of ``clinfusion ingest --workers`` left over when there are fewer items than
            workers; see :func:`process_slide`). Tokens do not depend on it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    tiling: TilingConfig = TilingConfig()
    tissue: TissueConfig = TissueConfig()
    quality: QualityConfig = QualityConfig()
    mpp_override: float | None = Field(None, gt=0.0)
    stain_normalize: bool = False
    features: bool = True
    store_tiles: bool = True
    backend: str | None = None
    max_pixels: int = Field(50_000_000_000, ge=1_000_000)
    workers: int = Field(0, ge=0, le=64)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v is not None and v not in BACKENDS:
            raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {v!r}")
        return v


@dataclass
class SlideTiles:
    """What processing found on one slide.

    Attributes:
        mpp: level-0 (x, y) um/px used; mpp_source: ``"slide"`` or ``"override"``.
        thumbnail: ``[h, w, 3]`` uint8; thumb_downsample: level-0 px per thumbnail px.
        mask: ``[h, w]`` bool tissue mask of the thumbnail.
        plan: the grid plan.
        tiles: one row per candidate tile (tissue above the minimum): x, y, tile_l0, tissue,
            quality statistics, kept, reason.
        features: ``[kept, D]`` float32 tile features of the kept tiles (row order of
            ``tiles[tiles.kept]``), or ``None``.
        grid_tiles: tiles in the full grid (before the tissue filter).
        seconds: wall time of the per-slide part (``fixed``: thumbnail, tissue mask, grid) and of
            the per-tile part (``tiles``: reads, quality checks, features).
    """

    mpp: tuple[float, float]
    mpp_source: str
    thumbnail: np.ndarray
    thumb_downsample: float
    mask: np.ndarray
    plan: GridPlan
    tiles: pd.DataFrame
    features: np.ndarray | None
    grid_tiles: int
    stats: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def slide_mpp(slide: SlideBackend, override: float | None) -> tuple[tuple[float, float], str]:
    """The level-0 resolution to use.

    Raises:
        IngestError: unknown and no override configured.
    """
    if override is not None:
        return (override, override), "override"
    mpp = slide.mpp
    if mpp is None:
        raise IngestError(
            "slide does not record its resolution (mpp); set modalities.pathology.options.mpp_override in cohort.yaml",
            file=slide.path, field="mpp",
        )
    return mpp, "slide"


def process_slide(slide: SlideBackend, options: PathologyOptions,
                  kept_tiles: Callable[[np.ndarray], None] | None = None, *, workers: int = 1,
                  reopen: Callable[[], SlideBackend] | None = None) -> SlideTiles:
    """Tissue mask, tile grid, quality checks and (optionally) features of one slide.

    Tiles stream in batches of ``options.tiling.batch``: memory is a few batches plus the
    per-tile table (a few dozen bytes per tile with tissue), whatever the slide's size.

    Args:
        kept_tiles: called with each batch's kept tiles ``[n, tile_px, tile_px, 3]`` uint8, in
            the order of ``tiles[tiles.kept]`` (the array is reused afterwards: copy it).
        workers: processes that read, check and featurize tile batches (see :func:`tile_workers`);
            1 = this process. The batches and the per-batch code are the same for any value, so
            the results are identical (byte for byte).
        reopen: opens the same slide again (each worker process opens its own handle); default
            for the OpenSlide backend: :func:`open_slide` of ``slide.path``. Other backends (a
            DICOM series spans several files) run in this process unless it is given.

    Raises:
        IngestError: unknown mpp, too coarse a slide, or no tile survives the checks.
    """
    t0 = time.perf_counter()
    mpp, source = slide_mpp(slide, options.mpp_override)
    plan = plan_grid(slide, mpp[0], options.tiling)
    threads = read_threads(slide, options.tiling.read_threads)
    level = slide.thumbnail_level(options.tissue.thumbnail_px)
    # A large level much larger than the thumbnail (single-level slide) is decoded reduced where
    # the backend can (JPEG DCT scaling): its tissue tiles are then decoded on their own, lazily.
    lw, lh = slide.level_dimensions[level]
    if lw * lh > REDUCED_DECODE_MIN_PX:
        region, factor = slide.read_level_reduced(level, max(lw, lh) / options.tissue.thumbnail_px, threads)
    else:
        region, factor = slide.read_level(level, threads), 1
    extent = (lw / factor, lh / factor) if factor > 1 else None
    thumb, thumb_ds = render_thumbnail(region, slide.dimensions, options.tissue.thumbnail_px, extent)
    # Otherwise a single-level slide was just decoded whole for the thumbnail: cut its tiles from memory.
    full = factor == 1 and level == plan.level and slide.level_downsamples[level] == 1.0
    level_image = region if full else None
    del region
    mask = tissue_mask(thumb, thumb_ds * mpp[0], options.tissue)
    xs, ys = grid_coordinates(slide.dimensions, plan.tile_l0)
    frac = tile_tissue_fraction(mask, xs, ys, plan.tile_l0, thumb_ds)
    cand = np.flatnonzero(frac >= options.tiling.min_tissue)
    tiles = pd.DataFrame({"x": xs[cand], "y": ys[cand], "tile_l0": plan.tile_l0, "tissue": frac[cand].astype(np.float32)})
    stats = {k: np.zeros(len(cand), np.float32) for k in ("background_frac", "sharpness", "pen_frac")}
    reasons = np.full(len(cand), "", dtype=object)
    feats: list[np.ndarray] = []
    fit = _stain_fit(thumb, mask) if options.stain_normalize and options.features else None
    t1 = time.perf_counter()
    # Without stain normalisation, quality checks and features share one subsampled planar copy.
    shared = options.features and fit is None and options.quality.stride == FEATURE_STRIDE
    xs_c, ys_c = tiles["x"].to_numpy(), tiles["y"].to_numpy()
    procs = tile_workers(workers, len(cand), options.tiling.batch)
    if reopen is None and slide.name == "openslide":
        reopen = functools.partial(open_slide, slide.path, backend=slide.name)
    if procs > 1 and reopen is not None:
        results = _batches_in_workers(reopen, xs_c, ys_c, plan, options, fit, shared,
                                      kept_tiles is not None, procs, level_image)
    else:
        batches = iter_tile_batches(slide, xs_c, ys_c, plan, options.tiling.batch, threads, level_image)
        results = (_check_batch(idx, batch, options, fit, shared, kept_tiles is not None) for idx, batch in batches)
    for idx, q, reason, kept, feat in results:
        for k in stats:
            stats[k][idx] = q[k]
        reasons[idx] = reason
        if kept_tiles is not None and kept is not None and len(kept):
            kept_tiles(kept)
        if feat is not None:
            feats.append(feat)
    seconds = {"fixed": t1 - t0, "tiles": time.perf_counter() - t1}
    for k, v in stats.items():
        tiles[k] = v
    tiles["reason"] = reasons.astype(str)
    tiles["kept"] = tiles["reason"] == ""
    if not tiles["kept"].any():
        raise IngestError(
            f"no tile passed the tissue and quality checks ({len(xs)} grid tiles, {len(cand)} with tissue >= "
            f"{options.tiling.min_tissue})", file=slide.path, field="tiles",
        )
    features = np.concatenate(feats) if options.features else None
    counts = {"grid": int(len(xs)), "no_tissue": int(len(xs) - len(cand)), "kept": int(tiles["kept"].sum())}
    counts.update({f"dropped_{r}": int((tiles["reason"] == r).sum()) for r in REASONS})
    return SlideTiles(mpp, source, thumb, thumb_ds, mask, plan, tiles, features, len(xs), counts, seconds)


BatchResult = tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, "np.ndarray | None", "np.ndarray | None"]
"""``(indices [B], quality statistics {name: [B]}, drop reasons [B], kept tiles [k, px, px, 3] uint8
or None, features [k, D] float32 or None)`` of one batch."""


def _check_batch(idx: np.ndarray, batch: np.ndarray, options: PathologyOptions, fit: Any, shared: bool,
                 want_tiles: bool) -> BatchResult:
    """Quality checks and features of one batch of tiles ``[B, px, px, 3]`` uint8 (the same code in
    this process and in workers, so results do not depend on the worker count)."""
    p = planes(batch[:, ::options.quality.stride, ::options.quality.stride])
    gray = gray_planes(p)
    q = quality_from_planes(p, options.quality, gray)
    reason = drop_reason(q)
    keep = reason == ""
    kept = batch[keep] if want_tiles and keep.any() else None
    feat = None
    if options.features and keep.any():
        if not shared:
            feat = _features(batch[keep], fit)
        else:
            feat = features_from_planes(p, gray) if keep.all() else features_from_planes(p[:, keep], gray[keep])
    return idx, {k: q[k] for k in _STAT_KEYS}, reason, kept, feat


_STAT_KEYS = ("background_frac", "sharpness", "pen_frac")


def tile_workers(requested: int, n_tiles: int, batch: int) -> int:
    """Worker processes used for a slide of ``n_tiles`` tiles with tissue: ``requested``, at most one
    per batch of ``batch`` tiles."""
    return max(1, min(int(requested), -(-n_tiles // max(batch, 1))))


def open_slide(path: Any, files: Any = None, backend: str | None = None) -> SlideBackend:
    """:func:`clinfusion.modalities.pathology.backends.open_slide` (imported on use)."""
    from clinfusion.modalities.pathology.backends import open_slide as _open

    return _open(path, files=files, backend=backend)


@contextlib.contextmanager
def _allow_children() -> Iterator[bool]:
    """Let a daemonic process (an ingest item run under its time budget) start worker processes.

    multiprocessing refuses children in a daemonic process so that they are not orphaned when it
    is killed; the tile workers are instead killed by the kernel with their parent
    (``PR_SET_PDEATHSIG``, see :func:`_init_worker`). Yields False where the flag cannot be
    changed (then the slide is processed in this process).
    """
    proc = mp.current_process()
    was = proc.daemon
    if not was:
        yield True
        return
    try:
        proc.daemon = False
    except AssertionError:  # a started process object (not the forked child itself): keep the rule
        yield False
        return
    try:
        yield True
    finally:
        proc.daemon = was


_WORKER: dict[str, Any] = {}


def _init_worker(reopen: Callable[[], SlideBackend], xs: np.ndarray, ys: np.ndarray, plan: GridPlan,
                 options: PathologyOptions, fit: Any, shared: bool, want_tiles: bool,
                 level_image: np.ndarray | None) -> None:
    """Tile worker start: die with the parent (Linux), open the slide, keep the batch inputs."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    _WORKER.update(slide=reopen(), xs=xs, ys=ys, plan=plan, options=options, fit=fit, shared=shared,
                   want_tiles=want_tiles, level_image=level_image)


def _worker_batch(start: int) -> BatchResult:
    """Read and check the batch starting at candidate ``start`` (in a worker process)."""
    w = _WORKER
    options: PathologyOptions = w["options"]
    stop = min(start + options.tiling.batch, len(w["xs"]))
    idx = np.arange(start, stop)
    batch = np.empty((len(idx), w["plan"].tile_px, w["plan"].tile_px, 3), np.uint8)
    for k, i in enumerate(idx):
        batch[k] = read_tile(w["slide"], w["xs"][i], w["ys"][i], w["plan"], w["level_image"])
    return _check_batch(idx, batch, options, w["fit"], w["shared"], w["want_tiles"])


def _batches_in_workers(reopen: Callable[[], SlideBackend], xs: np.ndarray, ys: np.ndarray, plan: GridPlan,
                        options: PathologyOptions, fit: Any, shared: bool, want_tiles: bool, workers: int,
                        level_image: np.ndarray | None) -> Iterator[BatchResult]:
    """Batch results in order from ``workers`` forked processes, at most ``2 * workers`` batches in
    flight (memory stays bounded when the consumer, e.g. the tile-pixel writer, is slower)."""
    from concurrent.futures import ProcessPoolExecutor

    starts = list(range(0, len(xs), options.tiling.batch))
    with _allow_children() as allowed:
        if not allowed:
            slide = reopen()
            try:
                for idx, batch in iter_tile_batches(slide, xs, ys, plan, options.tiling.batch, 1, level_image):
                    yield _check_batch(idx, batch, options, fit, shared, want_tiles)
            finally:
                slide.close()
            return
        ctx = mp.get_context("fork") if sys.platform.startswith("linux") else None
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(reopen, xs, ys, plan, options, fit, shared, want_tiles, level_image)) as pool:
            pending: deque = deque()
            todo = iter(starts)
            for start in todo:
                pending.append(pool.submit(_worker_batch, start))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                result = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(_worker_batch, nxt))
                yield result


def _stain_fit(thumb: np.ndarray, mask: np.ndarray):
    from clinfusion.modalities.pathology.stain import fit_macenko

    return fit_macenko(thumb[mask])


def _features(tiles: np.ndarray, fit) -> np.ndarray:
    from clinfusion.modalities.pathology.handcrafted import handcrafted_features

    if fit is not None:
        from clinfusion.modalities.pathology.stain import normalize_macenko

        tiles = normalize_macenko(tiles, fit)
    return handcrafted_features(tiles)
