from __future__ import annotations

from pathlib import Path

import pytest
from clinfusion.cohort.spec import CohortSpec, default_cohort_yaml, load_cohort_spec, parse_cohort_spec
from clinfusion.errors import CohortSpecError


def test_one_line_spec_gets_every_default(tmp_path: Path) -> None:
    (tmp_path / "cohort.yaml").write_text("name: my-cohort\n")
    spec = load_cohort_spec(tmp_path)
    assert spec.name == "my-cohort"
    assert spec.id_column == "patient_id"
    assert spec.clinical.path == "clinical.csv"
    assert spec.clinical.time_column == "survival_time"
    assert spec.enabled_modalities() == ["radiology", "pathology", "ecg", "genomics", "reports"]
    assert spec.modalities["ecg"].paths == ("ecg/{patient_id}/**/*",)
    assert spec.modalities["ecg"].per_patient and not spec.modalities["genomics"].per_patient
    assert spec.root == tmp_path.resolve()


def test_default_yaml_shipped_parses_to_the_defaults() -> None:
    import yaml

    shipped = parse_cohort_spec(yaml.safe_load(default_cohort_yaml()))
    assert shipped == CohortSpec(name="my-cohort")


def test_overrides_keep_other_defaults() -> None:
    spec = parse_cohort_spec({
        "name": "c1",
        "modalities": {"ecg": {"paths": ["signals/{patient_id}.hea"], "options": {"fs_hz": 250}}, "radiology": {"enabled": False}},
        "clinical": {"covariates": {"stage": {"type": "ordinal", "levels": ["I", "II"]}}},
    })
    assert spec.modalities["ecg"].paths == ("signals/{patient_id}.hea",)
    assert spec.modalities["ecg"].options == {"fs_hz": 250}
    assert spec.modalities["pathology"].paths == ("pathology/{patient_id}/**/*",)
    assert "radiology" not in spec.enabled_modalities()
    assert spec.clinical.covariates["stage"].levels == ("I", "II")


def test_spec_is_frozen() -> None:
    spec = parse_cohort_spec({"name": "c1"})
    with pytest.raises(Exception, match="frozen"):
        spec.name = "other"  # type: ignore[misc]


def test_every_schema_problem_is_reported_with_its_key() -> None:
    with pytest.raises(CohortSpecError) as exc:
        parse_cohort_spec({
            "name": "bad name!",
            "colour": "blue",
            "clinical": {"covariates": {"stage": {"type": "ordinal"}}},
        })
    fields = {p.field for p in exc.value.problems}
    assert "name" in fields
    assert "colour" in fields
    assert any(f.startswith("clinical.covariates.stage") for f in fields)
    assert all(p.file == "cohort.yaml" for p in exc.value.problems)


def test_unknown_modality_lists_the_valid_ones() -> None:
    with pytest.raises(CohortSpecError, match="expected one of .*radiology"):
        parse_cohort_spec({"name": "c", "modalities": {"mri": {"paths": ["x/*"]}}})


@pytest.mark.parametrize("pattern", ["/abs/{patient_id}/*", "../up/{patient_id}/*", "a/{patient_id}/{patient_id}"])
def test_bad_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(CohortSpecError, match="modalities.ecg.paths"):
        parse_cohort_spec({"name": "c", "modalities": {"ecg": {"paths": [pattern]}}})


def test_missing_file_and_bad_yaml_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CohortSpecError, match="cohort.yaml"):
        load_cohort_spec(tmp_path)
    (tmp_path / "cohort.yaml").write_text("name: [unclosed\n")
    with pytest.raises(CohortSpecError, match="not valid YAML"):
        load_cohort_spec(tmp_path)
    (tmp_path / "cohort.yaml").write_text("- a list\n")
    with pytest.raises(CohortSpecError, match="mapping"):
        load_cohort_spec(tmp_path)
