"""``clinfusion export-sr``: the served prediction as a Comprehensive SR, round-tripped through Orthanc."""

from __future__ import annotations

import pydicom
import pytest
import yaml
from clinfusion.cli.app import main
from clinfusion.pacs.sr import SrPrediction, content_tree, read_values, survival_at

TRAIN_CFG = {"model": {"hidden": 8, "n_bins": 3}, "optim": {"epochs": 2, "patience": 1, "inner_val_fraction": 0.45},
             "loss": {"diagnosis": 0.3}, "bootstrap": 0, "baselines": []}


def test_content_tree_values_pure():
    p = SrPrediction(risk=0.5, percentile=40.0, risk_group="intermediate", source="out-of-fold", model="m v1",
                     survival=[(0.9, 0.8, 0.95)], bin_days=[365.0], diagnosis={"a": 0.7, "b": 0.3},
                     contributions={f"m{i}": 0.1 * i for i in range(7)})
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.ContentSequence = content_tree(p, top_contributions=3).ContentSequence
    v = read_values(ds)
    assert v["Risk score"] == 0.5 and v["Risk group"] == "intermediate" and v["End of bin 0"] == 365.0
    assert v["Survival lower bound, bin 0"] == 0.8 and v["Probability of a"] == 0.7
    assert [k for k in v if k.startswith("Risk change")] == ["Risk change without m6", "Risk change without m5",
                                                             "Risk change without m4"]


def test_survival_at_years_interpolates_between_bin_ends():
    days = [400.0, 1000.0, 2000.0]
    surv = [(0.9, 0.8, 0.95), (0.6, 0.5, 0.7), (0.3, 0.2, 0.4)]
    assert survival_at(days, surv, 200.0) == pytest.approx((0.95, 0.9, 0.975))  # halfway from S(0) = 1
    assert survival_at(days, surv, 1000.0) == pytest.approx((0.6, 0.5, 0.7))
    assert survival_at(days, surv, 1500.0) == pytest.approx((0.45, 0.35, 0.55))
    assert survival_at(days, surv, 2001.0) is None and survival_at([], surv, 10.0) is None
    p = SrPrediction(risk=0.1, percentile=1.0, risk_group="low", source="s", model="m", survival=surv, bin_days=days)
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.ContentSequence = content_tree(p).ContentSequence
    v = read_values(ds)
    assert v["Survival probability at 1 year(s)"] == pytest.approx(survival_at(days, surv, 365.25)[0])
    assert "Survival probability at 3 year(s)" in v and "Survival upper bound at 5 year(s)" in v  # 1826 d < 2000 d


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from clinfusion.ingest import ingest
    from clinfusion.synth import generate_cohort

    base = tmp_path_factory.mktemp("sr")
    cohort, ws = base / "cohort", base / "ws"
    generate_cohort(cohort, n_patients=6, seed=0, scale="small")
    ingest(cohort, ws, demo=True)
    assert main(["featurize", "--workspace", str(ws)]) in (0, 2)
    (base / "train.yaml").write_text(yaml.safe_dump(TRAIN_CFG))
    assert main(["train", "--workspace", str(ws), "--config", str(base / "train.yaml"), "--folds", "2"]) == 0
    return ws, cohort


@pytest.mark.slow
def test_sr_round_trips_through_orthanc(trained, orthanc, tmp_path):
    from clinfusion.review.predictions import load_predictions
    from dicomweb_client.api import DICOMwebClient

    trained, _ = trained
    out = tmp_path / "sr"
    assert main(["export-sr", "-w", str(trained), "--all", "--stow", orthanc.dicomweb_url, "--out", str(out)]) == 0
    files = sorted(out.glob("*.dcm"))
    assert files
    preds, _ = load_predictions(trained)
    client = DICOMwebClient(url=orthanc.dicomweb_url)
    for f in files:
        local = pydicom.dcmread(f)
        pid = f.stem
        assert local.PatientID == pid and local.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"
        back = client.retrieve_instance(local.StudyInstanceUID, local.SeriesInstanceUID, local.SOPInstanceUID)
        values = read_values(back)
        assert values["Risk score"] == pytest.approx(float(preds.table.loc[pid, "risk"]))
        assert values["Risk group"] == preds.table.loc[pid, "risk_group"]
        assert values["Model"] == preds.model_version
        band = preds.survival_band(pid)
        assert values["Survival probability, bin 0"] == pytest.approx(float(band.survival.iloc[0]))
        ends = [values[f"End of bin {k}"] for k in range(len(band))]
        assert ends == sorted(ends) and ends[0] > 0
        if ends[-1] >= 365.25:
            k = next(i for i, e in enumerate(ends) if e >= 365.25)
            lo, hi = float(band.survival.iloc[k]), 1.0 if k == 0 else float(band.survival.iloc[k - 1])
            assert lo - 1e-9 <= values["Survival probability at 1 year(s)"] <= hi + 1e-9
        for cls, p in preds.diagnosis(pid).items():
            assert values[f"Probability of {cls}"] == pytest.approx(float(p))
        # it joins the patient's de-identified study, referencing the selected series' instance
        ref = back.CurrentRequestedProcedureEvidenceSequence[0]
        assert ref.StudyInstanceUID == back.StudyInstanceUID and back.StudyInstanceUID.startswith("2.25.")
    # a second export replaces the same SR (stable UIDs), not a new one
    before = len(orthanc.get_json("/instances"))
    assert main(["export-sr", "-w", str(trained), "--all", "--stow", orthanc.dicomweb_url, "--out", str(out)]) == 0
    assert len(orthanc.get_json("/instances")) == before


@pytest.mark.slow
def test_reidentified_sr_joins_the_original_study(trained, tmp_path):
    ws, cohort = trained
    assert main(["export-sr", "-w", str(ws), "--all", "--reidentify", str(cohort), "--out", str(ws / "x")]) == 1
    out = tmp_path / "identified"
    assert main(["export-sr", "-w", str(ws), "--all", "--reidentify", str(cohort), "--out", str(out)]) == 0
    studies = set()
    for f in (cohort / "radiology").rglob("*"):
        try:
            studies.add(str(pydicom.dcmread(f, stop_before_pixels=True).StudyInstanceUID))
        except Exception:  # NIfTI, junk files of the synthetic cohort
            continue
    files = sorted(out.glob("*.dcm"))
    assert files
    for f in files:
        sr = pydicom.dcmread(f)
        assert str(sr.StudyInstanceUID) in studies and str(sr.PatientID) != f.stem  # the original identity


@pytest.mark.slow
def test_usage_errors(trained):
    trained, _ = trained
    assert main(["export-sr", "-w", str(trained)]) == 1
    assert main(["export-sr", "-w", str(trained), "--patient", "Pnot-a-patient"]) == 1


@pytest.mark.slow
def test_stow_with_basic_auth_from_named_variables(trained, tmp_path, monkeypatch):
    from clinfusion.testing.orthanc import orthanc_missing, start_orthanc

    if orthanc_missing():
        pytest.skip(orthanc_missing())
    ws, _ = trained
    server = start_orthanc(user=("clin", "s3cret-pw"))
    try:
        base = ["export-sr", "-w", str(ws), "--all", "--stow", server.dicomweb_url, "--out", str(tmp_path / "sr")]
        assert main(base) == 1  # HTTP 401 without auth
        auth = ["--stow-auth", "basic", "--stow-user-env", "PACS_USER", "--stow-password-env", "PACS_PASSWORD"]
        monkeypatch.setenv("PACS_USER", "clin")
        monkeypatch.setenv("PACS_PASSWORD", "s3cret-pw")
        assert main(base + auth) == 0
        stored = server.get_json("/instances")
        assert stored and len(stored) == len(list((tmp_path / "sr").glob("*.dcm")))
    finally:
        server.stop()
