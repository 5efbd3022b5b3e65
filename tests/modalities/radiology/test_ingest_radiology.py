"""End to end: ingest a tiny cohort with radiology, quarantine, PHI search, featurize cache, export."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from clinfusion.cli.app import main
from clinfusion.errors import CohortSpecError
from clinfusion.featurize.cache import load_tokens
from clinfusion.ingest import ingest
from clinfusion.modalities.radiology.features import MonaiCNNEncoder, build_network
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.dicom import PLANTED_PHI, write_bad_files, write_ct_series, write_enhanced_ct
from clinfusion.workspace import Workspace, read_catalog


def _all_bytes(root):
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    base = tmp_path_factory.mktemp("rad")
    cohort = write_tiny_cohort(base / "cohort", n_patients=3)
    p0, p1, p2 = cohort.patients
    d0 = cohort.root / "radiology" / p0
    ct = write_ct_series(d0 / "study" / "ct", n_slices=8, rows=32, cols=32)
    write_ct_series(d0 / "study" / "scout", n_slices=1, rows=16, cols=16, series_number=2, prefix="SC")
    write_bad_files(d0 / "junk", ct[0])
    write_enhanced_ct(cohort.root / "radiology" / p1 / "mf.dcm", n_frames=5, rows=16, cols=16)
    nifti_src = base / "src.nii.gz"
    import nibabel as nib

    nib.save(nib.Nifti1Image(np.full((6, 6, 3), -1000, np.int16), np.eye(4)), nifti_src)
    shutil.copy(nifti_src, cohort.root / "radiology" / p1 / "extra.nii.gz")
    (cohort.root / "radiology" / p2).mkdir(parents=True)
    (cohort.root / "radiology" / p2 / "bad.dcm").write_text("nope")
    ws = base / "ws"
    report = ingest(cohort.root, ws, demo=True)
    return cohort, Workspace.open(ws), report


def test_catalog_series_and_quarantine(ingested):
    cohort, ws, report = ingested
    cat = read_catalog(ws)
    rad = cat[cat.modality == "radiology"]
    assert sorted(rad.status) == ["ingested", "ingested", "ingested", "quarantined"]
    q = pd.read_csv(ws.quarantine_path)
    reasons = " | ".join(q.reason)
    for expected in ("DICOMDIR index (ignored)", "not DICOM", "no pixel data", "truncated",
                     "single slice where a volume is required", "no usable DICOM image"):
        assert expected in reasons, expected
    row = rad[(rad.status == "ingested") & (rad.n_files > 5)].iloc[0]
    meta = json.loads(row.meta_json)
    assert meta["n_series"] == 2
    chosen = meta["series"][meta["selected"]]
    assert chosen["shape"] == [8, 32, 32] and chosen["spacing_mm"] == [2.5, 0.8, 0.8]
    assert chosen["hu_range"] == [-1000.0, 40.0]
    assert {s["status"] for s in meta["series"]} == {"ok", "failed"}
    art = ws.root / row.artifact_dir
    assert (art / "series_00.nii.gz").exists() and (art / "series_00_lung.png").exists()


def test_no_planted_phi_anywhere_in_workspace(ingested):
    cohort, ws, _ = ingested
    needles = [s.encode() for s in PLANTED_PHI.strings()] + [p.encode() for p in cohort.patients]
    for path, data in _all_bytes(ws.root):
        if path.parts[-2] == ".secrets":
            continue
        for n in needles:
            assert n not in data, f"{n!r} in {path}"


def test_uids_consistent_within_series(ingested):
    _, ws, _ = ingested
    cat = read_catalog(ws)
    for _, row in cat[(cat.modality == "radiology") & (cat.status == "ingested")].iterrows():
        for rec in json.loads(row.meta_json)["series"]:
            if rec.get("header"):
                hdr = json.loads((ws.root / row.artifact_dir / rec["header"]).read_text())
                assert hdr["SeriesInstanceUID"] == rec["series_uid"]
                assert hdr["PatientIdentityRemoved"] == "YES"


def test_featurize_fills_cache_then_does_no_work(ingested, capsys):
    _, ws, _ = ingested
    assert main(["featurize", "--workspace", str(ws.root), "--modality", "radiology"]) == 0
    first = capsys.readouterr().out
    assert main(["featurize", "--workspace", str(ws.root), "--modality", "radiology"]) == 0
    index = json.loads((ws.tokens_dir / "radiology" / "radiomics" / "index.json").read_text())
    assert len(index["patients"]) == 2 and not index["failed"]
    lineage = [json.loads(x) for x in ws.lineage_path.read_text().splitlines() if '"featurize"' in x]
    assert lineage[-2]["encoded"] == 2 and lineage[-1]["encoded"] == 0 and lineage[-1]["cached"] == 2
    assert "radiology" in first
    toks = load_tokens(ws, "radiology")
    multi = [t for t in toks.values() if t.groups is not None and len(set(t.groups)) == 2]
    assert multi, "the patient with a multi-frame DICOM and a NIfTI has two series groups"
    big = max(toks.values(), key=lambda t: t.n_tokens)
    assert big.positions.shape == (big.n_tokens, 3) and big.dim == 19


def test_cnn_encoder_loads_local_checkpoint(ingested, tmp_path):
    import torch
    from clinfusion.featurize import featurize

    _, ws, _ = ingested
    cfg = {"embed_dim": 8, "seed": 3, "preprocess": {"spatial_size": [16, 16, 16], "pixdim_mm": [2.0, 2.0, 2.0]}}
    ref = build_network(MonaiCNNEncoder.Config.model_validate(cfg))
    ck = tmp_path / "ck.pt"
    torch.save(ref.state_dict(), ck)
    enc = MonaiCNNEncoder({**cfg, "seed": 99, "checkpoint": str(ck)})
    rep = featurize(ws, enc)
    assert len(rep.encoded) == 2 and not rep.failed
    toks = load_tokens(ws, "radiology", "monai_cnn")
    t = next(iter(toks.values()))
    assert t.dim == 8
    from clinfusion.modalities.radiology.features import load_network

    with pytest.raises(Exception, match="checkpoint"):
        load_network(MonaiCNNEncoder.Config.model_validate({**cfg, "embed_dim": 4, "checkpoint": str(ck)}))


def test_export_per_series(ingested, tmp_path):
    _, ws, _ = ingested
    out = tmp_path / "rad.csv"
    assert main(["export", str(ws.root), "--modality", "radiology", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 3 and {"spacing_slice_mm", "intensity_min", "rad_mean", "rad_glcm_contrast"} <= set(table)


def test_bad_series_rule_fails_at_cohort_load(tmp_path):
    cohort = write_tiny_cohort(tmp_path / "c", n_patients=1,
                               spec={"modalities": {"radiology": {"options": {"series_rule": "biggest"}}}})
    with pytest.raises(CohortSpecError, match="most_slices"):
        ingest(cohort.root, tmp_path / "ws", demo=True)
