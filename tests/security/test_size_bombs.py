"""Declared image sizes are checked before decoding (issue 23: size bombs).

An RLE DICOM claiming 65535 x 65535 x 4 frames tried to allocate 64 GiB; a 7 kB TIFF claiming
200,000 x 200,000 px took 2.7 GB and 17 s. Here both bombs sit in a small cohort beside good
files; ingest runs in a subprocess whose address space is capped (``RLIMIT_AS`` 3 GiB), so an
allocation of the declared size fails the test instead of the machine. Each bomb is
quarantined with a reason naming the field and the limit, and the rest of the cohort ingests.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clinfusion.modalities.pathology.limits import tiff_size_problem
from clinfusion.modalities.radiology.discover import declared_size_problem
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.dicom import write_ct_series
from clinfusion.testing.slides import write_synthetic_slide


def _rle_bomb(good: Path, out: Path) -> Path:
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    ds = pydicom.dcmread(good)
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.Rows, ds.Columns, ds.NumberOfFrames = 65535, 65535, 4
    header = struct.pack("<16I", 1, 64, *([0] * 14))
    ds.PixelData = encapsulate([header + b"\x81\x00" * 40] * 4)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.save_as(out, enforce_file_format=True)
    return out


def _tiff_bomb(out: Path) -> Path:
    """A small tiled TIFF whose ImageWidth/ImageLength tags are rewritten to 200,000."""
    import numpy as np
    import tifffile

    tifffile.imwrite(out, np.full((512, 512, 3), 200, np.uint8), tile=(256, 256), photometric="rgb",
                     compression="zlib")
    with tifffile.TiffFile(out) as tif:
        entries = [tif.pages[0].tags[code].offset for code in (256, 257)]
    with open(out, "r+b") as fh:
        for offset in entries:
            fh.seek(offset + 2)
            fh.write(struct.pack("<HII", 4, 1, 200_000))  # type LONG, count 1, value
    return out


@pytest.fixture(scope="module")
def bomb_cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("bombs")
    tc = write_tiny_cohort(root, n_patients=2)
    p0, p1 = tc.patients
    good = write_ct_series(root / "radiology" / p0, n_slices=4, rows=16, cols=16)[0]
    (root / "radiology" / p1).mkdir(parents=True)
    _rle_bomb(good, root / "radiology" / p1 / "bomb.dcm")
    write_synthetic_slide(root / "pathology" / p0 / "good.tiff", size=(768, 640), levels=2)
    (root / "pathology" / p1).mkdir(parents=True)
    _tiff_bomb(root / "pathology" / p1 / "bomb.tiff")
    return tc


_INGEST = textwrap.dedent('''
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from clinfusion.ingest.locate import real_paths
    from clinfusion.ingest.runner import ingest
    report = ingest(sys.argv[1], sys.argv[2], demo=True)
    real = real_paths(report.workspace, sys.argv[1])
    cat = report.catalog
    rows = [{"modality": r.modality, "status": r.status, "reason": str(r.reason or ""),
             "source": real.get(r.source, r.source)} for r in cat.itertuples()]
    print(json.dumps(rows))
''')


def _ingest_capped(cohort_root: Path, ws: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", _INGEST, str(cohort_root), str(ws)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode in (0, 2), done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bombs_quarantined_rest_ingests(bomb_cohort, tmp_path):
    rows = _ingest_capped(bomb_cohort.root, tmp_path / "ws")
    by_modality = {(r["modality"], r["status"]) for r in rows}
    assert ("radiology", "ingested") in by_modality and ("pathology", "ingested") in by_modality, rows
    reasons = " | ".join(r["reason"] for r in rows if r["status"] != "ingested")
    assert "max_decoded_bytes" in reasons and "NumberOfFrames" in reasons, reasons
    assert "bomb.tiff" in json.dumps([r for r in rows if r["status"] != "ingested"]), rows
    assert "[ImageWidth/ImageLength]: page 0 declares 200000 x 200000 px" in reasons and "TileOffsets" in reasons, reasons
    assert "unexpected" not in reasons and "MemoryError" not in reasons


def test_rle_ratio_bound_catches_a_small_bomb(bomb_cohort, tmp_path):
    import pydicom

    bomb = next(Path(bomb_cohort.root / "radiology" / bomb_cohort.patients[1]).glob("*.dcm"))
    ds = pydicom.dcmread(bomb)
    ds.Rows = ds.Columns = 4096
    ds.NumberOfFrames = 1  # 32 MiB: inside the budget, but not from ~400 bytes of RLE
    assert "cannot come from" in declared_size_problem(ds)
    ds.Rows = "many"
    assert "Rows" in declared_size_problem(ds)


def test_tiff_tile_table_must_match_declared_size(tmp_path):
    bomb = _tiff_bomb(tmp_path / "b.tiff")
    assert "TileOffsets lists 4" in tiff_size_problem(bomb)
    assert "more than max_pixels 1000000" in tiff_size_problem(bomb, max_pixels=10**6)
