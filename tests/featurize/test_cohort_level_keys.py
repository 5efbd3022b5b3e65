"""Cohort-level items (clinical table, genomics matrices) keyed per patient: a patient added to the
tables re-encodes that patient only, and a changed value re-encodes exactly its patient."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from clinfusion.featurize import featurize, load_tokens
from clinfusion.ingest import ingest
from clinfusion.modalities.clinical.features import ClinicalTokenEncoder
from clinfusion.modalities.genomics.features import GeneSetEncoder
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.privacy.keys import KEY_ENV
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.genomics import write_tiny_genomics
from clinfusion.workspace import read_catalog
from clinfusion.workspace.catalog import row_patients


@pytest.fixture
def growing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A tiny cohort whose 8th patient (covariates and genomics copied from the 1st, so no category
    or gene is new) is left out of every table until ``add_last()`` is called."""
    monkeypatch.setenv(KEY_ENV, "cohort-level-keys-test-key-0123")
    root = tmp_path / "c"
    cohort = write_tiny_cohort(root, 8)
    full = cohort.clinical.copy()
    last, first = cohort.patients[-1], cohort.patients[0]
    full.loc[7, [c for c in full.columns if c != "patient_id"]] = full.loc[0, [c for c in full.columns if c != "patient_id"]]
    full.iloc[:7].to_csv(root / "clinical.csv", index=False)
    write_tiny_genomics(root, cohort.patients[:7])
    gdir = root / "genomics"

    def add_last() -> None:
        full.to_csv(root / "clinical.csv", index=False)
        expr = pd.read_csv(gdir / "expression.tsv", sep="\t", index_col=0)
        expr[last] = expr[first]
        expr.to_csv(gdir / "expression.tsv", sep="\t")
        cnv = pd.read_csv(gdir / "cnv.csv", index_col=0)
        cnv.loc[last] = cnv.loc[first]
        cnv.to_csv(gdir / "cnv.csv")
        muts = pd.read_csv(gdir / "mutations.tsv", sep="\t")
        extra = muts[muts["patient_id"] == first].assign(patient_id=last)
        pd.concat([muts, extra]).to_csv(gdir / "mutations.tsv", sep="\t", index=False)

    ws = ingest(root, tmp_path / "ws").workspace
    return cohort, root, ws, add_last, Pseudonymizer(load_key(ws.root))


@pytest.mark.parametrize("encoder", [ClinicalTokenEncoder, GeneSetEncoder], ids=["clinical", "genomics"])
def test_new_patient_in_cohort_table_encodes_only_that_patient(growing, encoder) -> None:
    cohort, root, ws, add_last, pz = growing
    first = featurize(ws, encoder())
    assert len(first.encoded) == 7 and not first.failed
    before = load_tokens(ws, encoder.modality)
    add_last()
    ingest(root, ws.root)
    second = featurize(ws, encoder())
    assert second.encoded == [pz.patient(cohort.patients[-1])]
    assert len(second.cached) == 7 and not second.failed
    after = load_tokens(ws, encoder.modality)
    for pid, ts in before.items():
        assert ts.content_digest() == after[pid].content_digest()
    new = after[pz.patient(cohort.patients[-1])]
    assert new.content_digest() == after[pz.patient(cohort.patients[0])].content_digest()  # same values
    # and the cache is exact: a forced run gives the same tokens
    featurize(ws, encoder(), force=True)
    forced = load_tokens(ws, encoder.modality)
    assert {p: t.content_digest() for p, t in forced.items()} == {p: t.content_digest() for p, t in after.items()}


def test_edited_value_reencodes_exactly_its_patient(growing) -> None:
    cohort, root, ws, _, pz = growing
    featurize(ws, ClinicalTokenEncoder())
    table = pd.read_csv(root / "clinical.csv")
    table.loc[2, "age"] = table.loc[2, "age"] + 1
    table.to_csv(root / "clinical.csv", index=False)
    ingest(root, ws.root)
    again = featurize(ws, ClinicalTokenEncoder())
    assert again.encoded == [pz.patient(cohort.patients[2])] and len(again.cached) == 6


def test_cohort_item_reread_when_only_the_clinical_table_grows(growing) -> None:
    """The genomics tables already hold a patient the clinical table lacks (an unknown sample);
    once the clinical table gains that patient, the unchanged genomics files are read again."""
    cohort, root, ws, add_last, pz = growing
    add_last()
    table = pd.read_csv(root / "clinical.csv")
    table.iloc[:7].to_csv(root / "clinical.csv", index=False)
    ingest(root, ws.root)  # genomics files now hold the 8th patient, still unknown
    table.to_csv(root / "clinical.csv", index=False)  # the clinical table catches up
    ingest(root, ws.root)
    cat = read_catalog(ws)
    row = cat[cat["modality"] == "genomics"].iloc[0]
    assert pz.patient(cohort.patients[-1]) in row_patients(row)
