"""One exception hierarchy for the whole platform.

Every message names the file, the field and what was expected, so a user can fix the input
without reading a traceback. ``ClinFusionError.location`` keeps those parts separately for reports
(quarantine tables, validation reports).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is and what was expected.

    Attributes:
        file: path of the offending file (relative where possible), or ``""``.
        field: column, tag, key or row the problem is in, or ``""``.
        message: what is wrong and what was expected.
    """

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file or "<cohort>"
        if self.field:
            where = f"{where} [{self.field}]"
        return f"{where}: {self.message}"


def _restore(cls: type[Exception], args: tuple, state: dict) -> Exception:
    """Unpickle a :class:`ClinFusionError` with its attributes (see ``__reduce__``)."""
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class ClinFusionError(Exception):
    """Base class of every error the platform raises on purpose.

    Errors cross process boundaries (ingest workers, Ray tasks) by pickle; ``__reduce__`` keeps
    ``file``/``field``/``message`` (and subclasses' attributes) instead of re-calling ``__init__``
    with the formatted text, which would nest "file: message" inside the message.
    """

    def __reduce__(self) -> tuple:
        return _restore, (type(self), self.args, self.__dict__.copy())

    def __init__(self, message: str, *, file: str | Path = "", field: str = "") -> None:
        self.file = str(file)
        self.field = field
        self.message = message
        super().__init__(str(Problem(self.file, field, message)))

    @property
    def problem(self) -> Problem:
        """The error as a :class:`Problem` row."""
        return Problem(self.file, self.field, self.message)


class CohortSpecError(ClinFusionError):
    """cohort.yaml or the cohort directory does not follow the expected schema.

    May carry several problems at once (validation reports everything it finds).
    """

    def __init__(self, problems: list[Problem] | str, *, file: str | Path = "", field: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(str(file), field, problems)]
        self.problems = list(problems)
        head = self.problems[0] if self.problems else Problem(str(file), field, "invalid cohort")
        super().__init__(head.message, file=head.file, field=head.field)
        if len(self.problems) > 1:
            self.args = ("\n".join(str(p) for p in self.problems),)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class ConfigError(ClinFusionError):
    """A configuration value is invalid (unknown registry name, bad range, missing key)."""


class IngestError(ClinFusionError):
    """An input item could not be read or validated; the item is quarantined with this reason.

    ``file_reasons`` (cohort-relative path -> reason) gives member files their own reasons when the
    reader looked at each of them (e.g. every file of a DICOM series was unusable for its own cause).
    """

    def __init__(self, message: str, *, file: str | Path = "", field: str = "",
                 file_reasons: dict[str, str] | None = None) -> None:
        super().__init__(message, file=file, field=field)
        self.file_reasons = dict(file_reasons or {})


class PrivacyError(ClinFusionError):
    """A privacy requirement is not met (e.g. no pseudonymisation key configured)."""


class WorkspaceError(ClinFusionError):
    """The workspace is missing, corrupt or belongs to another cohort or key."""


class FeaturizeError(ClinFusionError):
    """A modality could not be turned into tokens."""
