"""Benchmark `clinfusion synth`: time and size of a default-size cohort against the issue targets.

Writes JSON (default ``bench/results/synth.json``) with, side by side in the same run: the
generation time and on-disk size, the I/O floor (copying the very same tree with
``shutil.copytree``) and the issue targets (200 patients in < 180 s and < 1 GB), as ratios.

Usage: ``python bench/synth.py --patients 200 --workers 1``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

TARGET_SECONDS, TARGET_BYTES = 180.0, 1_000_000_000


def _size(root: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in root.rglob("*"):
        if p.is_file():
            top = p.relative_to(root).parts[0]
            out[top] = out.get(top, 0) + p.stat().st_size
    return out


def main(argv: list[str] | None = None) -> int:
    from clinfusion.synth import generate_cohort

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--scale", default="small")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--missing-rate", type=float, default=0.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "synth.json")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = generate_cohort(Path(tmp) / "cohort", args.patients, seed=0, scale=args.scale,
                              missing_rate=args.missing_rate, workers=args.workers)
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        shutil.copytree(res.root, Path(tmp) / "copy")
        copy_s = time.perf_counter() - t0
        sizes = _size(res.root)
        n_files = sum(1 for p in res.root.rglob("*") if p.is_file())
    total = sum(sizes.values())
    result = {
        "patients": args.patients, "scale": args.scale, "workers": args.workers, "cpu_count": os.cpu_count(),
        "generate_seconds": round(gen_s, 2), "seconds_per_patient": round(gen_s / args.patients, 3),
        "bytes_total": total, "bytes_by_folder": sizes, "files": n_files,
        "reference_copytree_seconds": round(copy_s, 2), "generate_over_copy": round(gen_s / max(copy_s, 1e-9), 1),
        "target_seconds": TARGET_SECONDS, "seconds_over_target": round(gen_s / TARGET_SECONDS, 3),
        "target_bytes": TARGET_BYTES, "bytes_over_target": round(total / TARGET_BYTES, 3),
        "oracle_cindex": res.summary["oracle_cindex"], "oracle_diagnosis_auroc": res.summary["oracle_diagnosis_auroc"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
