"""`clinfusion import tcga` on the five real TCGA cohorts, and one imported cohort end to end through the CLI."""

from __future__ import annotations

import pandas as pd
import pytest
from clinfusion.cli.app import main
from clinfusion.cohort.splits import read_split_dir
from clinfusion.importers.tcga import import_tcga
from clinfusion.importers.tcga_clinical import DAYS_PER_MONTH
from clinfusion.ingest.validate import validate_cohort
from clinfusion.testing import requires_shared_data, shared_data_dir

EXPECTED = {"blca": 373, "brca": 956, "luad": 453, "coadread": 340, "kirc": 345}
CDR = "clinical/tcga_cdr_survival_subset.csv"


def _inputs(c: str):
    base = shared_data_dir() / "genomics" / "tcga"
    return base / f"tcga_{c}_all_clean.csv.zip", base / "splits" / f"tcga_{c}"


@requires_shared_data("genomics/tcga", CDR)
@pytest.mark.parametrize("cancer", sorted(EXPECTED))
def test_five_cohorts_import_and_validate(cancer, tmp_path):
    csv, splits = _inputs(cancer)
    r = import_tcga(csv, splits, tmp_path / cancer, clinical=shared_data_dir() / CDR)
    assert r.n_patients == EXPECTED[cancer] and r.n_inconsistent == 0
    report = validate_cohort(tmp_path / cancer)
    assert report.ok, report.problems
    assert report.summary["patients"] == EXPECTED[cancer] and report.summary["folds"] == 5
    clinical = pd.read_csv(tmp_path / cancer / "clinical.csv")
    ids = set(clinical["patient_id"])
    for fold in read_split_dir(tmp_path / cancer / "splits"):
        assert set(fold.train) | set(fold.val) <= ids and not set(fold.train) & set(fold.val)
    cols = ["case_id", "survival_months", "censorship", "age"]
    slides = pd.read_csv(csv, usecols=cols).drop_duplicates("case_id").set_index("case_id")
    row = clinical.set_index("patient_id").loc[slides.index[0]]
    assert row["survival_time"] == pytest.approx(slides["survival_months"].iloc[0] * DAYS_PER_MONTH, abs=0.01)
    assert row["event"] == 1 - slides["censorship"].iloc[0]
    assert r.clinical["cdr_matched"] == EXPECTED[cancer]
    assert clinical["sex"].isin(["F", "M"]).all()  # KIRC's missing is_female filled from the CDR
    assert clinical["age"].isna().sum() <= slides["age"].isna().sum()
    assert clinical["stage"].notna().mean() > 0.5
    assert set(r.genomics) == {"rnaseq", "cnv", "mut"}
    rna = pd.read_parquet(tmp_path / cancer / "genomics" / "rnaseq.parquet")
    assert rna.shape[0] == EXPECTED[cancer] and not any(c.endswith("_rnaseq") for c in rna.columns)


@pytest.mark.slow
@requires_shared_data("genomics/tcga", "genomics/gene_sets", CDR)
def test_imported_cohort_end_to_end_via_cli(tmp_path, capsys):
    csv, splits = _inputs("coadread")
    cohort, ws = tmp_path / "coadread", tmp_path / "ws"
    assert main(["import", "tcga", "--csv", str(csv), "--splits", str(splits), "--clinical",
                 str(shared_data_dir() / CDR), "--out", str(cohort)]) == 0
    assert "340 patients" in capsys.readouterr().out
    assert main(["validate", str(cohort)]) == 0
    assert main(["ingest", str(cohort), "--workspace", str(ws)]) == 0
    assert main(["featurize", "-w", str(ws), "-m", "genomics", "-m", "clinical"]) == 0
    out = capsys.readouterr().out
    assert main(["featurize", "-w", str(ws), "-m", "genomics", "-m", "clinical"]) == 0
    rerun = capsys.readouterr().out
    assert "340" in out and rerun.count("340") >= 2  # second run: 340 cached per modality, 0 encoded
    assert main(["export", str(ws), "-m", "genomics", "-o", str(tmp_path / "g.csv")]) == 0
    assert main(["export", str(ws), "-m", "clinical", "-o", str(tmp_path / "c.csv")]) == 0
    scores = pd.read_csv(tmp_path / "g.csv")
    assert len(scores) == 340 and "HALLMARK_HYPOXIA:expr_mean" in scores and "Oncogenes:mut_count" in scores
    enc = pd.read_csv(tmp_path / "c.csv")
    assert {"enc:stage", "enc:stage__missing", "enc:age", "enc:sex=F"} <= set(enc.columns)
    assert "TCGA-" not in (tmp_path / "g.csv").read_text() + (tmp_path / "c.csv").read_text()
