"""Nothing outside the cohort: symlinks out of it are quarantined, cohort.yaml paths stay inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from clinfusion.cohort import load_cohort_spec
from clinfusion.errors import CohortSpecError
from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort
from clinfusion.workspace import quarantine_table

OUTSIDE = "points outside the cohort directory"


def _hostile(tmp_path: Path) -> tuple[Path, list[str]]:
    """A cohort with a good file, a file link and a folder link out of it, and an inside link."""
    secret = tmp_path / "outside"
    (secret / "dir").mkdir(parents=True)
    (secret / "passwd").write_text("root:x:0:0")
    (secret / "dir" / "expr.txt").write_text("outside table")
    root = tmp_path / "c"
    c = write_tiny_cohort(root, 3)
    p0, p1, p2 = c.patients
    for rel, text in {f"ecg/{p0}/good.txt": "fine", f"ecg/{p2}/real.txt": "inside"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / f"ecg/{p1}").mkdir(parents=True)
    os.symlink(secret / "passwd", root / f"ecg/{p1}/report.txt")
    os.symlink(secret / "dir", root / f"ecg/{p0}/linked")
    os.symlink(root / f"ecg/{p2}/real.txt", root / f"ecg/{p2}/alias.txt")  # stays inside: allowed
    return root, c.patients


def test_symlinks_out_of_the_cohort_are_quarantined(tmp_path: Path, fake_modality: str) -> None:
    root, _ = _hostile(tmp_path)
    rep = ingest(root, tmp_path / "ws", demo=True)
    cat = rep.catalog[rep.catalog["modality"] == "ecg"]
    reasons = sorted(cat.loc[cat["status"] == "quarantined", "reason"])
    assert reasons == [OUTSIDE, OUTSIDE]  # the file link and the file under the folder link
    assert (cat["status"] == "ingested").sum() == 3  # good.txt, real.txt, alias.txt (inside link)
    texts = {p.read_text() for p in (tmp_path / "ws" / "artifacts").rglob("text.txt")}
    assert texts == {"FINE", "INSIDE"}
    assert "root:x" not in (tmp_path / "ws" / "quarantine.csv").read_text()
    assert set(quarantine_table(rep.catalog)["reason"]) == {OUTSIDE}


def test_allow_symlinks_outside_opts_in(tmp_path: Path, fake_modality: str) -> None:
    root, _ = _hostile(tmp_path)
    data = yaml.safe_load((root / "cohort.yaml").read_text())
    data["allow_symlinks_outside"] = True
    (root / "cohort.yaml").write_text(yaml.safe_dump(data))
    rep = ingest(root, tmp_path / "ws", demo=True)
    assert (rep.catalog["status"] == "quarantined").sum() == 0


def test_clinical_table_linked_from_outside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "c"
    write_tiny_cohort(root, 3)
    (tmp_path / "clinical.csv").write_bytes((root / "clinical.csv").read_bytes())
    (root / "clinical.csv").unlink()
    os.symlink(tmp_path / "clinical.csv", root / "clinical.csv")
    with pytest.raises(CohortSpecError, match=OUTSIDE):
        ingest(root, tmp_path / "ws", demo=True)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"clinical": {"path": "../../outside/clinical.csv"}}, "clinical.path"),
        ({"clinical": {"path": "/etc/passwd"}}, "clinical.path"),
        ({"splits": {"dir": "../.."}}, "splits.dir"),
        ({"splits": {"dir": "/tmp"}}, "splits.dir"),
        ({"splits": {"pattern": "../*.csv"}}, "splits.pattern"),
        ({"modalities": {"ecg": {"paths": ["../x/{patient_id}/*"]}}}, "modalities.ecg.paths"),
    ],
)
def test_cohort_yaml_paths_must_stay_inside(tmp_path: Path, extra: dict, field: str) -> None:
    root = tmp_path / "c"
    write_tiny_cohort(root, 2, spec=extra)
    with pytest.raises(CohortSpecError) as err:
        load_cohort_spec(root)
    assert field in str(err.value)
    assert "relative to the cohort directory" in str(err.value)
