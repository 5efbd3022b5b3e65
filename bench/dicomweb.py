"""Benchmark: radiology ingest from Orthanc over DICOMweb vs from files vs a raw retrieve loop.

One run, the same synthetic cohort (``clinfusion.testing.pacs_cohort``: per imaged patient one
study with a CT series, every second one with a scout) three ways:

- ``files``: ``clinfusion ingest`` of the cohort directory (read, de-identify, NIfTI, previews);
- ``dicomweb``: the same ingest with ``source: dicomweb`` against a local Orthanc holding the same
  files (QIDO-RS per patient, WADO-RS per instance, then the same read path);
- ``raw_retrieve`` (the reference): a plain ``dicomweb-client`` loop over the same server, QIDO-RS
  studies by PatientID then ``retrieve_instance`` for every instance, nothing written: the
  network floor the DICOMweb ingest cannot beat.

Series/s counts every series (CT and scout); MB/s the DICOM bytes (sizes of the uploaded files).
Ingest runs in-process (``limits.item_seconds: null``), one worker; each is timed once on a fresh
workspace (a second, unchanged run is timed too: it must request nothing).

    nice -n 10 .venv/bin/python bench/dicomweb.py [--patients 12] [--slices 32] [--size 128]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


def _ingest(cohort: Path, ws: Path) -> float:
    from clinfusion.ingest import ingest

    t0 = time.perf_counter()
    report = ingest(cohort, ws)
    seconds = time.perf_counter() - t0
    assert (report.catalog["status"] == "ingested").sum() >= 1
    return seconds


def _raw_loop(url: str, patients: list[str]) -> tuple[float, int]:
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(url=url)
    t0 = time.perf_counter()
    n = 0
    for pid in patients:
        for st in client.search_for_studies(search_filters={"PatientID": pid}):
            study = st["0020000D"]["Value"][0]
            for inst in client.search_for_instances(study_instance_uid=study):
                client.retrieve_instance(study, inst["0020000E"]["Value"][0], inst["00080018"]["Value"][0])
                n += 1
    return time.perf_counter() - t0, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=12)
    ap.add_argument("--slices", type=int, default=32)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "dicomweb.json")
    args = ap.parse_args()
    os.environ.setdefault("CLINFUSION_PSEUDONYM_KEY", "bench-key-not-secret-0123456789")
    from clinfusion.testing.orthanc import orthanc_missing, start_orthanc
    from clinfusion.testing.pacs_cohort import write_dicomweb_cohort, write_pacs_cohort

    if orthanc_missing():
        raise SystemExit(orthanc_missing())
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        limits = {"limits": {"item_seconds": None}}
        pc = write_pacs_cohort(base, n_patients=args.patients + 1, n_slices=args.slices, size=args.size, spec=limits)
        files = pc.all_files()
        n_series = sum(1 + (k % 2 == 0) for k in range(len(pc.files)))
        mb = sum(f.stat().st_size for f in files) / 1e6
        server = start_orthanc()
        try:
            t0 = time.perf_counter()
            server.upload(files)
            upload_s = time.perf_counter() - t0
            web = write_dicomweb_cohort(pc.files_cohort, base / "web", server.dicomweb_url, limits)
            files_s = _ingest(pc.files_cohort.root, base / "ws_files")
            web_s = _ingest(web, base / "ws_web")
            rerun_s = _ingest(web, base / "ws_web")
            raw_s, n_raw = _raw_loop(server.dicomweb_url, list(pc.files))
        finally:
            server.stop()
    assert n_raw == len(files)

    def rates(seconds: float) -> dict[str, float]:
        return {"seconds": round(seconds, 3), "series_per_s": round(n_series / seconds, 2), "mb_per_s": round(mb / seconds, 2)}

    result = {
        "cohort": {"patients_imaged": len(pc.files), "series": n_series, "instances": len(files), "mb": round(mb, 2),
                   "ct_shape": [args.slices, args.size, args.size]},
        "files": rates(files_s),
        "dicomweb": rates(web_s),
        "raw_retrieve_reference": rates(raw_s),
        "dicomweb_rerun_unchanged_s": round(rerun_s, 3),
        "orthanc_upload_s": round(upload_s, 3),
        "dicomweb_over_files": round(web_s / files_s, 2),
        "dicomweb_minus_raw_s": round(web_s - raw_s, 3),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
