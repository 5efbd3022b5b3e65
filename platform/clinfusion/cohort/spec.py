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
TABLE_MODALITIES: tuple[str, ...] = ("clinical",)
"""Modalities read from a cohort table (``clinical.csv``) rather than from discovered files."""
ALL_MODALITIES: tuple[str, ...] = (*TABLE_MODALITIES, *MODALITIES)
"""Every modality: the one list (``clinfusion.modalities.registry`` has one plugin per name)."""

REMOTE_MODALITIES: tuple[str, ...] = ("radiology", "pathology", "ecg")
"""Modalities that may name a DICOMweb server as their source (``source: dicomweb``): radiology
(image series by study), pathology (DICOM-WSI series) and ECG (DICOM waveforms), chosen by SOP class
(``clinfusion.pacs.kinds``)."""

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


class DicomWebAuth(_Frozen):
    """How to authenticate to a DICOMweb server: secrets come from environment variables, never the file.

    Attributes:
        type: ``basic`` (user name and password) or ``bearer`` (a token).
        username_env, password_env: variables holding the basic credentials.
        token_env: variable holding the bearer token.
    """

    type: Literal["basic", "bearer"]
    username_env: str | None = None
    password_env: str | None = None
    token_env: str | None = None

    @model_validator(mode="after")
    def _names(self) -> DicomWebAuth:
        need = ("username_env", "password_env") if self.type == "basic" else ("token_env",)
        for key in need:
            value = getattr(self, key)
            if not value or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
                raise ValueError(f"auth type {self.type!r} needs `{key}`: the NAME of an environment variable")
        return self


class DicomWebSpec(_Frozen):
    """A DICOMweb server as the source of a modality (docs/pacs.md).

    Attributes:
        url: base URL of the DICOMweb service (QIDO-RS, WADO-RS, STOW-RS below it), http(s).
        auth: optional basic/bearer authentication from environment variables.
        patients: optional CSV (cohort-relative) with columns ``patient_id`` and ``dicom_patient_id``
            mapping clinical-table ids to the PACS PatientID; default: PatientID = patient_id.
        timeout_s: per-request timeout in seconds.
        retries: attempts per request on network errors, timeouts, 408/429 and 5xx (>= 1).
        backoff_s: first wait between attempts in seconds, doubled each time (capped at 30 s).
    """

    url: str
    auth: DicomWebAuth | None = None
    patients: str | None = None
    timeout_s: float = Field(30.0, gt=0)
    retries: int = Field(3, ge=1, le=10)
    backoff_s: float = Field(1.0, ge=0, le=30)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.fullmatch(r"https?://[^\s/@]+(/\S*)?", v):
            raise ValueError("expected an http(s) URL without credentials, e.g. http://HOST:PORT/dicom-web")
        return v.rstrip("/")

    @field_validator("patients")
    @classmethod
    def _relative(cls, p: str | None) -> str | None:
        return check_relative(p) if p is not None else p


class ModalitySource(_Frozen):
    """Where one modality's files are (``source: files``, the default) or which DICOMweb server holds
    them (``source: dicomweb`` with a ``dicomweb`` block), and reader options for it."""

    enabled: bool = True
    paths: tuple[str, ...]
    options: dict[str, Any] = Field(default_factory=dict)
    source: Literal["files", "dicomweb"] = "files"
    dicomweb: DicomWebSpec | None = None

    @model_validator(mode="after")
    def _remote(self) -> ModalitySource:
        if self.source == "dicomweb" and self.dicomweb is None:
            raise ValueError("source 'dicomweb' needs a `dicomweb:` block with at least `url:`")
        if self.source == "files" and self.dicomweb is not None:
            raise ValueError("a `dicomweb:` block needs `source: dicomweb`")
        return self

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

    @model_validator(mode="after")
    def _remote_sources(self) -> CohortSpec:
        for name, src in self.modalities.items():
            if src.source != "files" and name not in REMOTE_MODALITIES:
                raise ValueError(f"modalities.{name}.source {src.source!r}: only {list(REMOTE_MODALITIES)} can come "
                                 "from a DICOMweb server (DICOM SOP classes; docs/pacs.md)")
        return self

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
