from __future__ import annotations

from pathlib import Path

import pandas as pd
from clinfusion.ingest import ingest
from clinfusion.modalities.clinical.deid import deidentify_clinical, identifier_columns
from clinfusion.modalities.export import export_modality
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.testing import write_tiny_cohort


def test_identifier_columns_by_name() -> None:
    cols = ["patient_name", "MRN", "home_address", "phone", "age", "stage", "names_of_drugs_count", "email"]
    assert identifier_columns(cols) == ["patient_name", "MRN", "home_address", "phone", "email"]


def test_deidentify_drops_caps_and_shifts() -> None:
    pz = Pseudonymizer(load_key())
    df = pd.DataFrame({"pid": ["a", "b"], "patient_name": ["Ann Smith", "Bob Jones"], "age": [95, 40],
                       "diagnosis_date": ["2020-01-10", "2021-06-01"]})
    out, report = deidentify_clinical(df, "pid", pz)
    assert list(out.columns) == ["patient_id", "age", "diagnosis_date"]
    assert out["patient_id"].tolist() == [pz.patient("a"), pz.patient("b")]
    assert out["age"].tolist() == [90, 40]
    shifted = pd.to_datetime(out["diagnosis_date"]) - pd.to_datetime(df["diagnosis_date"])
    assert shifted.dt.days.tolist() == [pz.date_shift_days("a"), pz.date_shift_days("b")]
    assert report == {"dropped": ["patient_name"], "ages_capped": ["age"], "dates_shifted": ["diagnosis_date"]}


def test_clinical_ingest_and_export(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "c", 5)
    rep = ingest(c.root, tmp_path / "ws")
    (row,) = rep.catalog.itertuples()
    assert row.status == "ingested" and row.patient_id == ""
    table = export_modality(rep.workspace, "clinical")
    assert list(table.columns[:3]) == ["patient_id", "age", "sex"]
    assert set(table["patient_id"]) == set(__import__("json").loads(row.patients_json))
    assert table["event"].dtype.kind == "i" and table["survival_time"].dtype.kind == "f"
    assert not set(c.patients) & set(table["patient_id"])
