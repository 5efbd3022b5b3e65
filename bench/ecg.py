"""ECG benchmark: records/s of read + resample + filter + measure + features vs ``wfdb.rdrecord`` alone.

Also, in the same run and on the same records: neurokit2's ``ecg_process`` on lead II (clean,
R peaks, dwt delineation of one lead: the usual one-lead reference), and ``legacy``, our
pipeline routed through the code it replaced (``nk.ecg_delineate``, a fresh filter design per
call, quality one lead at a time), whose measurements and quality flags must equal the current ones (``values_identical``).
Run on one core: ``OMP_NUM_THREADS=1 nice -n 10 python bench/ecg.py``.

Runs both on the same real WFDB files (the 40 CinC 12-leads and PTB s0010_re from
``../shared/data/ecg``; MIT-BIH 100 with ``--holter``), alternating repeats, and writes JSON with
both rates and their ratio. Also records heart-rate agreement with the independent references
(MIT-BIH beat annotations, the machine RR interval in pydicom's ``waveform_ecg.dcm``).

    python bench/ecg.py [--repeats 3] [--holter] [--out bench/results/ecg.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform as _stdlib_platform
import time
from pathlib import Path

import numpy as np


def _files(base: Path, holter: bool) -> list[Path]:
    files = sorted((base / "ecg/cinc2021").glob("*.hea")) + [base / "ecg/ptb/s0010_re.hea"]
    if holter:
        files.append(base / "ecg/mitbih/100.hea")
    return [f for f in files if f.exists()]


def _ours(files: list[Path]) -> None:
    from clinfusion.modalities.ecg.artifact import EcgArtifact
    from clinfusion.modalities.ecg.features import lead_tokens
    from clinfusion.modalities.ecg.formats import wfdb as fmt
    from clinfusion.modalities.ecg.options import EcgOptions
    from clinfusion.modalities.ecg.process import process

    opts = EcgOptions()
    for f in files:
        rec = process(fmt.read(f, opts), opts)
        m = rec.measurements
        art = EcgArtifact(rec.windows, rec.valid, rec.present, rec.extra, rec.extra_names, m["lead_features"],
                          rec.fs_hz)
        lead_tokens({**m, "quality": rec.quality}, art)


def _legacy():
    """Context: measurements and quality through the replaced code paths (see module docstring)."""
    import contextlib
    import warnings

    import clinfusion.modalities.ecg.delineation as dl
    import clinfusion.modalities.ecg.process as proc
    import clinfusion.modalities.ecg.signal as sig
    import neurokit2 as nk
    from clinfusion.modalities.ecg import quality
    from scipy.signal import butter

    def via_neurokit(x, rpeaks, fs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = nk.ecg_delineate(x, rpeaks, sampling_rate=fs, method="dwt")[1]
        return {k: w[k] for k in dl.NEEDED}

    def fresh(order, freqs, btype, fs):
        return butter(order, list(freqs) if isinstance(freqs, tuple) else freqs, btype=btype, fs=fs, output="sos")

    def per_lead(leads, fs, notch_hz):
        return [quality.lead_flags(r, fs, notch_hz) for r in leads]

    @contextlib.contextmanager
    def patched():
        saved = dl.dwt_waves, sig.butter_sos, proc.record_flags
        dl.dwt_waves, sig.butter_sos, proc.record_flags = via_neurokit, fresh, per_lead
        try:
            yield
        finally:
            dl.dwt_waves, sig.butter_sos, proc.record_flags = saved

    return patched()


def _measured(files: list[Path]) -> list:
    from clinfusion.modalities.ecg.formats import wfdb as fmt
    from clinfusion.modalities.ecg.options import EcgOptions
    from clinfusion.modalities.ecg.process import process

    opts = EcgOptions()
    out = []
    for f in files:
        rec = process(fmt.read(f, opts), opts)
        m = rec.measurements
        out.append((rec.quality, {k: m[k] for k in ("hr_bpm", "rr_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "axis_deg")},
                    np.asarray(m["lead_features"])))
    return out


def _same(a: list, b: list) -> bool:
    return all(qa == qb and all(np.array_equal(ma[k], mb[k], equal_nan=True) for k in ma)
               and np.array_equal(fa, fb, equal_nan=True) for (qa, ma, fa), (qb, mb, fb) in zip(a, b, strict=True))


def _neurokit_process(files: list[Path]) -> None:
    import warnings

    import neurokit2 as nk
    import wfdb

    for f in files:
        rec = wfdb.rdrecord(str(f.with_suffix("")), physical=True)
        names = [n.upper() for n in rec.sig_name]
        lead = rec.p_signal[:, names.index("II") if "II" in names else 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nk.ecg_process(np.nan_to_num(lead), sampling_rate=int(rec.fs))


def _reference(files: list[Path]) -> None:
    import wfdb

    for f in files:
        wfdb.rdrecord(str(f.with_suffix("")), physical=True)


def _agreement(base: Path) -> dict[str, float]:
    from clinfusion.modalities.ecg.formats import detect, format_module
    from clinfusion.modalities.ecg.options import EcgOptions
    from clinfusion.modalities.ecg.process import process
    from clinfusion.modalities.ecg.read import annotation_hr
    from pydicom.data import get_testdata_file

    opts = EcgOptions()
    out: dict[str, float] = {}
    mit = base / "ecg/mitbih/100.hea"
    if mit.exists():
        raw = format_module("wfdb").read(mit, opts)
        out["mitbih100_hr_bpm"] = process(raw, opts).measurements["hr_bpm"]
        out["mitbih100_hr_bpm_annotations"] = annotation_hr(mit.with_suffix(".atr"), raw.fs_hz) or float("nan")
    dcm = Path(get_testdata_file("waveform_ecg.dcm"))
    raw = format_module(detect(dcm)).read(dcm, opts)
    m = process(raw, opts).measurements
    out["dicom_hr_bpm"] = m["hr_bpm"]
    out["dicom_hr_bpm_machine"] = 60000.0 / raw.reference["rr_ms"]
    for k in ("pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "axis_deg"):
        out[f"dicom_{k}"] = m[k]
        out[f"dicom_{k}_machine"] = raw.reference.get(k, float("nan"))
    return {k: round(float(v), 2) for k, v in out.items()}


def main(argv: list[str] | None = None) -> dict:
    from clinfusion.testing import shared_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--holter", action="store_true", help="include MIT-BIH 100 (30 min) in the timed set")
    ap.add_argument("--out", type=Path, default=Path("bench/results/ecg.json"))
    args = ap.parse_args(argv)
    base = shared_data_dir()
    files = _files(base, args.holter)
    if not files:
        raise SystemExit(f"no ECG files under {base}/ecg")
    _ours(files[:1])
    _reference(files[:1])  # warm imports and caches for both
    _neurokit_process(files[:1])
    load_start = round(os.getloadavg()[0], 2)
    ours, ref, nkp, legacy = [], [], [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        _reference(files)
        ref.append(time.perf_counter() - t)
        t = time.perf_counter()
        _ours(files)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        _neurokit_process(files)
        nkp.append(time.perf_counter() - t)
        with _legacy():
            t = time.perf_counter()
            _ours(files)
            legacy.append(time.perf_counter() - t)
    with _legacy():
        before = _measured(files)
    identical = _same(_measured(files), before)
    ours_rps, ref_rps = len(files) / np.median(ours), len(files) / np.median(ref)
    nk_rps, legacy_rps = len(files) / np.median(nkp), len(files) / np.median(legacy)
    result = {
        "what": "records/s: clinfusion read+resample(500 Hz)+band-pass+notch+quality+measurements+lead features "
                "vs wfdb.rdrecord alone, same files, median of repeats",
        "n_records": len(files),
        "repeats": args.repeats,
        "clinfusion_records_per_s": round(float(ours_rps), 2),
        "wfdb_rdrecord_records_per_s": round(float(ref_rps), 2),
        "ratio_clinfusion_over_rdrecord": round(float(ours_rps / ref_rps), 4),
        "neurokit2_ecg_process_lead_ii_records_per_s": round(float(nk_rps), 2),
        "ratio_clinfusion_12_leads_over_neurokit2_one_lead": round(float(ours_rps / nk_rps), 2),
        "legacy_records_per_s": round(float(legacy_rps), 2),
        "speedup_over_legacy": round(float(ours_rps / legacy_rps), 2),
        "values_identical_to_legacy": bool(identical),
        "target_records_per_s": 10.0,
        "threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "load_avg_1min": [load_start, round(os.getloadavg()[0], 2)],
        "agreement": _agreement(base),
        "machine": {"python": _stdlib_platform.python_version(), "cpu": _stdlib_platform.processor() or "unknown"},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
