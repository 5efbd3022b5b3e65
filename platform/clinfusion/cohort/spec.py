"""cohort.yaml parsed into a frozen, validated :class:`CohortSpec`.

Only ``name`` is required; every other key has the default shown in ``default_cohort.yaml``
(shipped beside this module). Schema errors are collected into one :class:`CohortSpecError`
naming cohort.yaml and each offending key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clinfusion.errors import CohortSpecError, Problem

COHORT_FILE = "cohort.yaml"
MODALITIES: tuple[str, ...] = ("radiology", "pathology", "ecg", "genomics", "reports")
"""File-based modalities discovered from patterns; ``clinical`` comes from the clinical table."""

_DEFAULT_PATHS: dict[str, tuple[str, ...]] = {
    "radiology": ("radiology/{patient_id}/**/*",),
    "pathology": ("pathology/{patient_id}/**/*",),
    "ecg": ("ecg/{patient_id}/**/*",),
    "genomics": ("genomics/**/*",),
    "reports": ("reports/{patient_id}/**/*", "reports/*.csv"),
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_relative(p: str, what: str = "path") -> str:
    """Refuse an absolute path or one with ``..``: every cohort.yaml path stays inside the cohort.

    Raises:
        ValueError: naming the offending value (pydantic turns it into a field error).
    """
    if p.startswith(("/", "\\")) or Path(p).is_absolute() or re.match(r"^[A-Za-z]:", p) or ".." in Path(p).parts:
        raise ValueError(f"{what} {p!r} must be relative to the cohort directory, without '..'")
    return p


class CovariateSpec(_Frozen):
    """Type of one clinical covariate.

    ``ordinal`` needs ``levels`` in increasing order; values are matched case-insensitively
    (``Stage IIA`` and ``iia`` both match level ``IIA`` once the ``stage`` prefix is stripped).
    """

    type: Literal["numeric", "categorical", "ordinal"]
    levels: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _levels_for_ordinal(self) -> CovariateSpec:
        if self.type == "ordinal" and not self.levels:
            raise ValueError("an ordinal covariate needs `levels` (lowest first)")
        return self


class ClinicalSpec(_Frozen):
    """Where the clinical table is and which of its columns carry the outcomes."""

    path: str = "clinical.csv"
    time_column: str = "survival_time"
    event_column: str = "event"
    diagnosis_column: str = "diagnosis"
    covariates: dict[str, CovariateSpec] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _relative(cls, p: str) -> str:
        return check_relative(p)


class ModalitySource(_Frozen):
    """Where one modality's files are, and reader options for it."""

    enabled: bool = True
    paths: tuple[str, ...]
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("paths")
    @classmethod
    def _relative(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        if not paths:
            raise ValueError("at least one path pattern is needed")
        for p in paths:
            check_relative(p, "pattern")
            if p.count("{patient_id}") > 1:
                raise ValueError(f"pattern {p!r} names {{patient_id}} more than once")
        return paths

    @property
    def per_patient(self) -> bool:
        """True when every pattern names the patient directory."""
        return all("{patient_id}" in p for p in self.paths)


class SplitsSpec(_Frozen):
    """Optional fold files shipped with the cohort."""

    dir: str = "splits"
    pattern: str = "splits_*.csv"

    @field_validator("dir", "pattern")
    @classmethod
    def _relative(cls, p: str) -> str:
        return check_relative(p)


class LimitsSpec(_Frozen):
    """Bounds on what one input may cost (see docs/security.md).

    Attributes:
        item_seconds: wall-clock budget of one item, in seconds; past it the worker process reading
            the item is killed and the item quarantined. ``None`` reads items in-process, unbounded.
        clinical_max_bytes: largest clinical table read, in bytes.
        clinical_max_columns: most columns in the clinical table header.
    """

    item_seconds: float | None = Field(default=600.0, gt=0)
    clinical_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    clinical_max_columns: int = Field(default=10_000, gt=0)


def _default_modalities() -> dict[str, ModalitySource]:
    return {m: ModalitySource(paths=p) for m, p in _DEFAULT_PATHS.items()}


class CohortSpec(_Frozen):
    """The whole cohort.yaml.

    Attributes:
        name: cohort name.
        id_column: patient id column in clinical.csv and in table inputs.
        clinical: the clinical table and its outcome columns.
        modalities: per-modality sources; modalities not named keep their default patterns.
        splits: fold files.
        limits: per-item time budget and clinical table bounds.
        allow_symlinks_outside: ingest files whose real path (after symlinks) is outside the cohort
            directory; by default they are quarantined.
        root: the cohort directory (set by :func:`load_cohort_spec`, not read from YAML).
    """

    name: str
    id_column: str = "patient_id"
    clinical: ClinicalSpec = Field(default_factory=ClinicalSpec)
    modalities: dict[str, ModalitySource] = Field(default_factory=_default_modalities)
    splits: SplitsSpec = Field(default_factory=SplitsSpec)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    allow_symlinks_outside: bool = False
    root: Path | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", v):
            raise ValueError("expected 1-64 characters: letters, digits, '-', '_' or '.'")
        return v

    @field_validator("modalities", mode="before")
    @classmethod
    def _merge_defaults(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        merged: dict[str, Any] = {m: {"paths": list(p)} for m, p in _DEFAULT_PATHS.items()}
        for name, src in v.items():
            if name not in _DEFAULT_PATHS:
                raise ValueError(f"unknown modality {name!r}; expected one of {list(MODALITIES)}")
            src = dict(src or {})
            src.setdefault("paths", list(_DEFAULT_PATHS[name]))
            merged[name] = src
        return merged

    def enabled_modalities(self) -> list[str]:
        """Names of the enabled file-based modalities, in canonical order."""
        return [m for m in MODALITIES if m in self.modalities and self.modalities[m].enabled]


def _pydantic_problems(err: ValidationError, file: str) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (see default_cohort.yaml for the valid keys)"
        out.append(Problem(file, loc, msg))
    return out


def parse_cohort_spec(data: dict[str, Any], *, file: str = COHORT_FILE, root: Path | None = None) -> CohortSpec:
    """Validate a cohort.yaml mapping.

    Raises:
        CohortSpecError: every schema problem, each naming its key.
    """
    if not isinstance(data, dict):
        raise CohortSpecError("expected a YAML mapping with at least `name:`", file=file)
    try:
        spec = CohortSpec.model_validate(data)
    except ValidationError as err:
        raise CohortSpecError(_pydantic_problems(err, file)) from None
    return spec.model_copy(update={"root": root})


def load_cohort_spec(cohort_dir: str | Path) -> CohortSpec:
    """Read ``<cohort_dir>/cohort.yaml``.

    Raises:
        CohortSpecError: the directory or file is missing, is not YAML, or breaks the schema.
    """
    root = Path(cohort_dir)
    path = root / COHORT_FILE
    if not root.is_dir():
        raise CohortSpecError("cohort directory does not exist", file=root)
    if not path.is_file():
        raise CohortSpecError("missing cohort.yaml (a one-line `name: my-cohort` is enough)", file=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CohortSpecError(f"not valid YAML: {err}", file=path) from None
    return parse_cohort_spec(data, file=str(path), root=root.resolve())


def default_cohort_yaml() -> str:
    """The commented default cohort.yaml shipped with the package."""
    return (Path(__file__).with_name("default_cohort.yaml")).read_text(encoding="utf-8")
