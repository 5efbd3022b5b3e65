"""Which server instances each modality takes (SOP class), how they form items, and the cohort.yaml rule."""

from __future__ import annotations

import pytest
from clinfusion.cohort.spec import REMOTE_MODALITIES, parse_cohort_spec
from clinfusion.errors import CohortSpecError
from clinfusion.pacs.kinds import ECG_SOP_CLASSES, REMOTE_KINDS, WSI_SOP_CLASS

CT, SR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.88.33"
ECG_12, ECG_GENERAL, AMBULATORY = (*ECG_SOP_CLASSES, "1.2.840.10008.5.1.4.1.1.9.1.3")


def _answer(sop_class: str, image_type: list[str] | None = None) -> dict:
    attrs = {"00080016": {"vr": "UI", "Value": [sop_class]}}
    if image_type is not None:
        attrs["00080008"] = {"vr": "CS", "Value": image_type}
    return attrs


def _taken(modality: str) -> list[str]:
    cases = {"ct": _answer(CT), "sr": _answer(SR), "ecg12": _answer(ECG_12), "ecg_general": _answer(ECG_GENERAL),
             "ambulatory": _answer(AMBULATORY), "wsi": _answer(WSI_SOP_CLASS),
             "wsi_volume": _answer(WSI_SOP_CLASS, ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]),
             "wsi_label": _answer(WSI_SOP_CLASS, ["ORIGINAL", "PRIMARY", "LABEL", "NONE"]),
             "wsi_overview": _answer(WSI_SOP_CLASS, ["DERIVED", "PRIMARY", "overview"]), "no_class": {}}
    return sorted(k for k, a in cases.items() if REMOTE_KINDS[modality].keep(a))


def test_each_sop_class_goes_to_exactly_one_modality():
    assert _taken("radiology") == ["ct", "no_class"]
    assert _taken("pathology") == ["wsi", "wsi_volume"]  # labels/overviews never, even lower-case
    assert _taken("ecg") == ["ecg12", "ecg_general"]  # ambulatory ECG: no reader for it


def test_items_per_study_series_instance():
    members = [("s2", "i3"), ("s1", "i2"), ("s1", "i1")]
    assert REMOTE_KINDS["radiology"].groups(members) == [[("s1", "i1"), ("s1", "i2"), ("s2", "i3")]]
    assert REMOTE_KINDS["pathology"].groups(members) == [[("s1", "i1"), ("s1", "i2")], [("s2", "i3")]]
    assert REMOTE_KINDS["ecg"].groups(members) == [[("s1", "i1")], [("s1", "i2")], [("s2", "i3")]]
    assert all(k.groups([]) == [] for k in REMOTE_KINDS.values())


def test_remote_modalities_are_the_kinds():
    assert set(REMOTE_MODALITIES) == set(REMOTE_KINDS) == {"radiology", "pathology", "ecg"}


@pytest.mark.parametrize("modality", ["pathology", "ecg"])
def test_cohort_yaml_accepts_pathology_and_ecg_from_dicomweb(modality):
    spec = parse_cohort_spec({"name": "c", "modalities": {modality: {"source": "dicomweb",
                                                                     "dicomweb": {"url": "http://pacs:8042/dicom-web/"}}}})
    src = spec.modalities[modality]
    assert src.source == "dicomweb" and src.dicomweb is not None and src.dicomweb.url == "http://pacs:8042/dicom-web"


def test_cohort_yaml_refuses_dicomweb_for_genomics_naming_the_key():
    with pytest.raises(CohortSpecError, match="modalities.genomics.source 'dicomweb'") as err:
        parse_cohort_spec({"name": "c", "modalities": {"genomics": {"source": "dicomweb",
                                                                   "dicomweb": {"url": "http://pacs/dicom-web"}}}})
    assert "pathology" in str(err.value) and "ecg" in str(err.value)
