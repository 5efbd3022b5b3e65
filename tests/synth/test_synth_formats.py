"""The real libraries open every file of a small synthetic cohort, and the volumes are consistent."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from clinfusion.synth.genomics import load_gene_sets


def _present(cohort, modality):
    table = pd.read_csv(cohort.truth_dir / "modalities.csv", dtype={"patient_id": str})
    return set(table.loc[table[modality] == 1, "patient_id"])


def test_files_match_truth_presence(small_cohort):
    root = small_cohort.root
    for m in ("radiology", "pathology", "ecg", "reports"):
        on_disk = {p.name for p in (root / m).iterdir()} if (root / m).exists() else set()
        assert on_disk == _present(small_cohort, m), m
    expr = pd.read_csv(root / "genomics" / "expression.tsv", sep="\t", index_col=0)
    assert set(expr.columns) == _present(small_cohort, "genomics")
    absent = sum(len(small_cohort.patients) - len(_present(small_cohort, m))
                 for m in ("radiology", "pathology", "ecg", "genomics", "reports"))
    assert absent > 0  # the fixture has some missing modalities


def test_dicom_series_are_consistent_volumes(small_cohort):
    import pydicom

    files = [p for p in (small_cohort.root / "radiology").rglob("*") if p.is_file()]
    assert files and any(p.suffix == "" for p in files) == ("SYN0005" in _present(small_cohort, "radiology"))
    series = defaultdict(list)
    for p in files:
        ds = pydicom.dcmread(p)
        assert ds.Modality == "CT" and ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        series[(p.parts[-4], ds.SeriesInstanceUID)].append(ds)
    assert {pid for pid, _ in series} == _present(small_cohort, "radiology")
    pheno = pd.read_csv(small_cohort.truth_dir / "phenotypes.csv", index_col="patient_id")
    for (pid, _), slices in series.items():
        assert len(slices) == 16
        slices.sort(key=lambda d: float(d.ImagePositionPatient[2]))
        z = np.array([float(d.ImagePositionPatient[2]) for d in slices])
        assert np.allclose(np.diff(z), float(slices[0].SliceThickness))
        assert len({(d.Rows, d.Columns, tuple(d.PixelSpacing), d.StudyInstanceUID) for d in slices}) == 1
        hu = np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in slices])
        assert hu.shape == (16, 128, 128) and hu.min() < -900 and hu.max() > 400
        assert pheno.loc[pid, "lesion_radius_mm"] > 0
        assert "RequestAttributesSequence" in slices[0]


def test_slides_open_with_openslide(small_cohort):
    import openslide

    slides = sorted((small_cohort.root / "pathology").rglob("*.tiff"))
    assert {p.parent.name for p in slides} == _present(small_cohort, "pathology")
    for p in slides:
        with openslide.OpenSlide(p) as s:
            assert s.level_count >= 3
            assert s.level_dimensions[0] == (2048, 2048) and s.level_dimensions[2] == (512, 512)
            assert 0.25 <= float(s.properties[openslide.PROPERTY_NAME_MPP_X]) <= 0.5
            assert "label" in s.associated_images
            tile = np.asarray(s.read_region((768, 768), 0, (256, 256)).convert("RGB"))
            assert tile.std() > 5  # tissue, not blank
        import tifffile

        with tifffile.TiffFile(p) as tf:
            tiled = [pg.is_tiled for pg in tf.pages]
            assert tiled[:3] == [True, True, True] and tf.pages[0].compression == 7  # JPEG


def test_ecgs_read_with_wfdb(small_cohort):
    import wfdb
    from scipy.signal import find_peaks

    heads = sorted((small_cohort.root / "ecg").rglob("*.hea"))
    assert {p.parent.name for p in heads} == _present(small_cohort, "ecg")
    pheno = pd.read_csv(small_cohort.truth_dir / "phenotypes.csv", index_col="patient_id")
    for h in heads:
        rec = wfdb.rdrecord(str(h.with_suffix("")))
        assert rec.n_sig == 12 and rec.fs == 500 and rec.sig_len == 5000
        assert rec.sig_name[:3] == ["I", "II", "III"] and rec.units == ["mV"] * 12
        assert any(c.startswith("Age:") for c in rec.comments) and any(c.startswith("Sex:") for c in rec.comments)
        peaks, _ = find_peaks(rec.p_signal[:, 1], height=0.6, distance=int(500 * 0.3))
        expected = pheno.loc[h.parent.name, "heart_rate_bpm"] * 10 / 60
        assert abs(len(peaks) - expected) <= 2


def test_genomics_tables_parse(small_cohort):
    expr = pd.read_csv(small_cohort.root / "genomics" / "expression.tsv", sep="\t", index_col="gene")
    genes = {g for gs in load_gene_sets().values() for g in gs}
    assert set(expr.index) == genes and (expr.to_numpy() >= 0).all()
    assert expr.dtypes.map(lambda t: t.kind == "i").all()
    muts = pd.read_csv(small_cohort.root / "genomics" / "mutations.tsv", sep="\t")
    assert list(muts.columns) == ["patient_id", "gene", "variant_classification", "protein_change", "vaf"]
    assert set(muts["patient_id"]) <= set(expr.columns)


def test_reports_have_sections(small_cohort):
    texts = sorted((small_cohort.root / "reports").rglob("*.txt"))
    assert {p.parent.name for p in texts} == _present(small_cohort, "reports")
    assert {p.name for p in texts} == {"radiology_report.txt", "pathology_report.txt"}
    joined = ""
    for p in texts:
        t = p.read_text(encoding="utf-8")
        pos = [t.index(h) for h in ("INDICATION:", "FINDINGS:", "IMPRESSION:")]
        assert pos == sorted(pos)
        joined += t
    assert "No " in joined or "not identified" in joined  # negations are present


@pytest.mark.parametrize("argv", [["validate"]])
def test_clinfusion_validate_passes(small_cohort, argv):
    from clinfusion.cli import main

    assert main([*argv, str(small_cohort.root)]) == 0
