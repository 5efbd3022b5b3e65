"""Streaming tiles and per-slide worker processes (issue #20): 1 and 2 workers give identical
tokens, in-process, under the ingest time budget (daemonic item process) and end to end."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest
from clinfusion.ingest import ingest
from clinfusion.ingest.budget import run_with_budget
from clinfusion.modalities.pathology.backends import open_slide
from clinfusion.modalities.pathology.process import PathologyOptions, process_slide, tile_workers
from clinfusion.modalities.pathology.tiling import TilingConfig
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.slides import write_synthetic_slide

# small batches: the 2048 px slide's ~36 tissue tiles make several batches to spread over workers
OPTS = PathologyOptions(tiling=TilingConfig(batch=8))


@pytest.fixture(scope="module")
def slide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_slide(tmp_path_factory.mktemp("stream") / "s.tiff", (2048, 2048), seed=3, pen=True).path


def _run(path: Path, workers: int) -> tuple:
    kept: list[np.ndarray] = []
    with open_slide(path) as s:
        r = process_slide(s, OPTS, lambda a: kept.append(a.copy()), workers=workers)
    return r, np.concatenate(kept)


def test_tile_workers_is_capped_by_batches() -> None:
    assert tile_workers(4, 20, 8) == 3
    assert tile_workers(2, 0, 8) == 1
    assert tile_workers(1, 1000, 8) == 1


def test_one_and_two_workers_give_identical_tiles_and_features(slide: Path) -> None:
    (r1, k1), (r2, k2) = _run(slide, 1), _run(slide, 2)
    assert r1.stats["kept"] > 2 * OPTS.tiling.batch  # several batches really went to the workers
    assert r1.features is not None and r2.features is not None
    assert r1.features.dtype == r2.features.dtype and r1.features.tobytes() == r2.features.tobytes()
    assert k1.tobytes() == k2.tobytes() and len(k1) == r1.stats["kept"]
    assert r1.tiles.equals(r2.tiles)
    assert r1.stats == r2.stats


def _features_in_budget_process(path: str) -> tuple[bool, bytes]:
    daemon = mp.current_process().daemon
    with open_slide(path) as s:
        r = process_slide(s, OPTS, workers=2)
    assert r.features is not None
    return daemon and mp.current_process().daemon, r.features.tobytes()


def test_workers_start_inside_a_daemonic_item_process(slide: Path) -> None:
    """Ingest items run in daemonic forked processes (limits.item_seconds); the tile workers still
    start there, and the process is left daemonic afterwards."""
    [(_, (kind, value))] = list(run_with_budget(_features_in_budget_process, [str(slide)], seconds=120))
    assert kind == "ok", value
    still_daemon, feats = value
    assert still_daemon
    assert feats == _run(slide, 1)[0].features.tobytes()


def test_ingest_workers_reach_the_slide_and_give_identical_tokens(tmp_path: Path, slide: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """One slide, ``ingest --workers 4``: 2 items (clinical + slide) leave 2 tile workers for the
    slide; the stored features and tile pixels equal a 1-worker ingest's byte for byte."""
    root = tmp_path / "cohort"
    c = write_tiny_cohort(root, 1, spec={"modalities": {"pathology": {
        "paths": ["pathology/{patient_id}/**/*"], "options": {"tiling": {"batch": 8}}}}})
    dest = root / "pathology" / c.patients[0] / "a.tiff"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(slide.read_bytes())
    import clinfusion.modalities.pathology.process as process

    used = tmp_path / "used.txt"  # the item runs in a forked process: it reports through a file

    def recording(requested: int, n_tiles: int, batch: int) -> int:
        n = tile_workers(requested, n_tiles, batch)
        with open(used, "a") as fh:
            fh.write(f"{n}\n")
        return n

    monkeypatch.setattr(process, "tile_workers", recording)
    arrays = {}
    for workers in (1, 4):
        rep = ingest(root, tmp_path / f"ws{workers}", workers=workers, demo=True)
        row = rep.catalog[rep.catalog["modality"] == "pathology"].iloc[0]
        assert row["status"] == "ingested", row["reason"]
        art = rep.workspace.root / row["artifact_dir"]
        arrays[workers] = [np.load(art / f) for f in ("features.npy", "tile_pixels.npy")]
    assert used.read_text().split() == ["1", "2"]
    for a, b in zip(arrays[1], arrays[4], strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_tile_writer_streams_into_the_npy_with_its_header_rewritten_in_place(tmp_path: Path) -> None:
    from clinfusion.modalities.pathology.tile_store import HEADER_BYTES, TileStackWriter, npy_header

    rng = np.random.default_rng(0)
    parts = [rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8) for n in (3, 0, 5)]
    w = TileStackWriter(tmp_path / "t.npy")
    for p in parts:
        w.append(p)
    path = w.close()
    with open(path, "rb") as fh:
        np.lib.format.read_magic(fh)
        shape, _, _ = np.lib.format.read_array_header_1_0(fh)
        assert fh.tell() == HEADER_BYTES and shape == (8, 16, 16, 3)
    assert np.array_equal(np.load(path, mmap_mode="r"), np.concatenate(parts))
    assert path.stat().st_size == HEADER_BYTES + 8 * 16 * 16 * 3
    assert len(npy_header((10**15, 4096, 4096, 3))) == HEADER_BYTES  # any real tile count fits
    with pytest.raises(ValueError, match="more than"):
        npy_header((1,) * 40)
