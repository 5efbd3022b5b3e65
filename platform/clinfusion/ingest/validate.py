"""Validate a cohort directory and report every problem at once.

Checks: cohort.yaml schema and reader options; clinical.csv (duplicate ids, missing or
negative survival times, events outside {0, 1}, declared covariates that are not columns);
files whose path names a patient the clinical table lacks; split files (readable, no patient in
train and val of one fold, no unknown patients).

It lives in ``ingest`` (not ``cohort``) because checking reader options needs the modality
registry, which stands above ``cohort``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinfusion.cohort.clinical_table import read_clinical_table
from clinfusion.cohort.discovery import discover_files
from clinfusion.cohort.spec import load_cohort_spec
from clinfusion.cohort.splits import check_splits, read_split_dir
from clinfusion.errors import CohortSpecError, Problem
from clinfusion.ingest.items import reader_options
from clinfusion.modalities.registry import MODALITY_PLUGINS


@dataclass
class ValidationReport:
    """Result of :func:`validate_cohort`.

    Attributes:
        cohort_dir: the directory checked.
        problems: errors (the cohort cannot be ingested as is).
        summary: counts: patients, files per modality, folds.
    """

    cohort_dir: Path
    problems: list[Problem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_cohort(cohort_dir: str | Path) -> ValidationReport:
    """Check a cohort directory; never raises for problems in the data, it reports them.

    Returns:
        The report; ``report.ok`` is True when there is nothing to fix.
    """
    root = Path(cohort_dir)
    report = ValidationReport(root)
    try:
        spec = load_cohort_spec(root)
    except CohortSpecError as err:
        report.problems += err.problems
        return report
    for m in spec.enabled_modalities():
        if m in MODALITY_PLUGINS:
            try:
                reader_options(spec, m)
            except CohortSpecError as err:
                report.problems += err.problems
    try:
        table = read_clinical_table(spec)
    except CohortSpecError as err:
        report.problems += err.problems
        return report
    report.problems += table.problems
    known = set(table.patient_ids)
    files = discover_files(spec)
    unknown = sorted({(f.modality, f.patient_id, f.rel.split("/" + f.patient_id)[0]) for f in files
                      if f.patient_id is not None and f.patient_id not in known})
    for modality, pid, _ in unknown:
        n = sum(1 for f in files if f.modality == modality and f.patient_id == pid)
        example = next(f.rel for f in files if f.modality == modality and f.patient_id == pid)
        report.problems.append(
            Problem(example, "patient_id", f"{n} {modality} file(s) name patient {pid!r}, which is not in {spec.clinical.path}")
        )
    split_dir = root / spec.splits.dir
    n_folds = 0
    if split_dir.is_dir() and any(split_dir.glob(spec.splits.pattern)):
        try:
            splits = read_split_dir(split_dir, spec.splits.pattern)
            n_folds = len(splits)
            report.problems += check_splits(splits, known, str(Path(spec.splits.dir)))
        except CohortSpecError as err:
            report.problems += err.problems
    per_mod = Counter(f.modality for f in files)
    report.summary = {
        "name": spec.name,
        "patients": len(known),
        "files": {m: per_mod.get(m, 0) for m in spec.enabled_modalities()},
        "folds": n_folds,
    }
    return report
