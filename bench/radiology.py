"""Benchmark: DICOM volume assembly throughput and peak memory, side by side with references.

Same files, same run: (ours) scan_files + group_series + assemble; (raw) a plain pydicom loop
(dcmread + sort on z + stack + rescale); (monai) ``LoadImage(reader="PydicomReader")`` on the
folder. Series: the real CT (../shared/data, 64 x 512 x 512) and a synthetic 300 x 512 x 512 CT.
Peak memory is the tracemalloc peak (numpy buffers are traced) during one assembly.

    python bench/radiology.py [--out bench/results/radiology.json] [--slices 300] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np


def ours(folder: Path) -> np.ndarray:
    from clinfusion.cohort.discovery import DiscoveredFile
    from clinfusion.modalities.radiology.discover import scan_files
    from clinfusion.modalities.radiology.series import group_series
    from clinfusion.modalities.radiology.volume import assemble, dataset_frames

    files = [DiscoveredFile("radiology", p.name, "X", p) for p in sorted(folder.glob("*")) if p.is_file()]
    scan = scan_files(files, lambda f: f.rel)
    s = max(group_series(scan.dicoms), key=lambda s: s.n_frames)
    return assemble([fr for d in s.files for fr in dataset_frames(d.ds, d.label)], s.modality)[0].array


def raw_loop(folder: Path) -> np.ndarray:
    import pydicom

    dss = [pydicom.dcmread(p) for p in sorted(folder.glob("*")) if p.is_file() and p.suffix in ("", ".dcm")]
    dss.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    return np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss]).astype(np.float32)


def monai_load(folder: Path) -> np.ndarray:
    from monai.transforms import LoadImage

    return np.asarray(LoadImage(reader="PydicomReader", image_only=True)(str(folder)))


def _time(fn, folder: Path, repeats: int) -> tuple[float, tuple[int, ...]]:
    best, shape = float("inf"), ()
    for _ in range(repeats):
        t0 = time.perf_counter()
        arr = fn(folder)
        best = min(best, time.perf_counter() - t0)
        shape = tuple(arr.shape)
        del arr
    return best, shape


def _peak_mb(fn, folder: Path) -> float:
    tracemalloc.start()
    arr = fn(folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del arr
    return peak / 2**20


def bench_folder(folder: Path, n_slices: int, repeats: int, memory: bool) -> dict:
    res: dict = {"folder": str(folder), "slices": n_slices}
    for name, fn in (("ours", ours), ("raw_pydicom", raw_loop), ("monai_loadimage", monai_load)):
        sec, shape = _time(fn, folder, repeats)
        res[name] = {"seconds": round(sec, 3), "slices_per_s": round(n_slices / sec, 1), "shape": list(shape)}
        if memory and name != "monai_loadimage":
            res[name]["peak_mb"] = round(_peak_mb(fn, folder), 1)
    res["ratio_ours_vs_raw_speed"] = round(res["ours"]["slices_per_s"] / res["raw_pydicom"]["slices_per_s"], 3)
    res["ratio_ours_vs_monai_speed"] = round(res["ours"]["slices_per_s"] / res["monai_loadimage"]["slices_per_s"], 3)
    return res


def main() -> None:
    from clinfusion.testing import shared_data_dir
    from clinfusion.testing.dicom import ct_phantom, write_ct_series

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "radiology.json")
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    results: dict = {"series": []}
    src = shared_data_dir() / "radiology" / "ct_lung_dx_A0001"
    with tempfile.TemporaryDirectory() as tmp:
        if src.is_dir():
            # links to the 64 slices only: MONAI's folder reader would choke on annotations/ and LICENSE
            real = Path(tmp) / "real"
            real.mkdir()
            for p in src.glob("*.dcm"):
                (real / p.name).symlink_to(p)
            ours(real)  # warm-up: imports and file cache, for every method alike
            raw_loop(real)
            monai_load(real)
            results["series"].append({"name": "real_ct_64x512x512", **bench_folder(real, 64, args.repeats, False)})
        folder = Path(tmp) / "ct"
        write_ct_series(folder, n_slices=args.slices, rows=512, cols=512, hu=ct_phantom(args.slices, 512, 512),
                        slice_mm=1.0)
        results["series"].append({"name": f"synthetic_ct_{args.slices}x512x512",
                                  **bench_folder(folder, args.slices, args.repeats, True)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
