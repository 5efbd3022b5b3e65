"""Find each modality's input files from the cohort.yaml path patterns.

A pattern is a glob relative to the cohort directory in which ``{patient_id}`` stands for the
path segment (or part of a segment) that holds the patient id, e.g. ``ecg/{patient_id}/**/*``
or ``reports/{patient_id}.txt``. Patterns without it name cohort-level files such as an
expression matrix, whose rows or columns carry the ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from clinfusion.cohort.spec import CohortSpec
from clinfusion.errors import CohortSpecError

_PLACEHOLDER = "{patient_id}"


@dataclass(frozen=True, order=True)
class DiscoveredFile:
    """One input file of one modality.

    Attributes:
        modality: modality name.
        rel: path relative to the cohort directory, POSIX separators.
        patient_id: the patient the path names, or ``None`` for a cohort-level file.
        path: absolute path.
        pid_segment: index of the path segment holding the patient id (-1 if none).
    """

    modality: str
    rel: str
    patient_id: str | None
    path: Path
    pid_segment: int = -1


def _glob_part_to_regex(part: str) -> str:
    out = []
    for ch in part:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _placeholder_regex(segment: str) -> re.Pattern[str]:
    before, after = segment.split(_PLACEHOLDER, 1)
    return re.compile(_glob_part_to_regex(before) + r"(?P<pid>.+?)" + _glob_part_to_regex(after) + r"\Z")


def _hidden(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _outside(path: Path, root: Path) -> bool:
    try:
        return not path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return True


def _candidates(root: Path, glob: str, follow_outside: bool) -> list[Path]:
    """Files the glob matches, plus symlinked folders that lead out of the cohort.

    ``**`` does not descend into symlinked folders, so a link to a folder outside the cohort would
    be silently dropped: it is returned itself (and quarantined by the planner) or, when
    ``follow_outside``, replaced by the files under it. Links to folders inside the cohort are
    skipped: their target is found on its own path.
    """
    out = []
    for path in root.glob(glob):
        if path.is_file():
            out.append(path)
        elif path.is_symlink() and path.is_dir() and _outside(path, root):
            out += [p for p in sorted(path.rglob("*")) if p.is_file()] if follow_outside else [path]
    return out


def _match_pattern(root: Path, pattern: str, modality: str, follow_outside: bool = False) -> list[DiscoveredFile]:
    segments = PurePosixPath(pattern).parts
    pid_index = next((i for i, s in enumerate(segments) if _PLACEHOLDER in s), None)
    if pid_index is not None and "**" in segments[:pid_index]:
        raise CohortSpecError(
            f"pattern {pattern!r}: '**' may not come before {_PLACEHOLDER}",
            file="cohort.yaml",
            field=f"modalities.{modality}.paths",
        )
    glob = pattern.replace(_PLACEHOLDER, "*")
    pid_re = _placeholder_regex(segments[pid_index]) if pid_index is not None else None
    found = []
    for path in _candidates(root, glob, follow_outside):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        if _hidden(rel):
            continue
        pid = None
        if pid_re is not None and pid_index is not None:
            m = pid_re.match(rel.parts[pid_index])
            if m is None:
                continue
            pid = m.group("pid")
        found.append(DiscoveredFile(modality, rel.as_posix(), pid, path, -1 if pid_index is None else pid_index))
    return found


def discover_files(spec: CohortSpec, modalities: list[str] | None = None) -> list[DiscoveredFile]:
    """All input files of the enabled modalities, sorted by (modality, rel).

    Args:
        spec: cohort spec with ``root`` set.
        modalities: restrict to these modalities (default: all enabled).

    Returns:
        One entry per (modality, file); a file matched by two patterns of a modality appears once.
    """
    assert spec.root is not None, "CohortSpec.root must be set (use load_cohort_spec)"
    wanted = modalities or spec.enabled_modalities()
    out: dict[tuple[str, str], DiscoveredFile] = {}
    for modality in wanted:
        source = spec.modalities[modality]
        for pattern in source.paths:
            for f in _match_pattern(spec.root, pattern, modality, spec.allow_symlinks_outside):
                out.setdefault((modality, f.rel), f)
    return sorted(out.values())
