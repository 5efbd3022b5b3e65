"""Masking of input paths before they are stored anywhere in the workspace.

File and folder names are often identifying (``Smith_John/CT_ACC-4839.dcm``). A stored path keeps
the pattern's fixed folders (``pathology/``), replaces the patient folder by the pseudonym and
everything below it by a keyed token plus the file's extension(s):
``pathology/SMITH^J/2024/slide_ACC4839.svs`` -> ``pathology/P3f9a0c1d2e4b/f3a9c1e2b7d41.svs``.
The operator who holds the key maps them back with ``clinfusion catalog WS --cohort DIR``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Protocol

from clinfusion.privacy.pseudonym import Pseudonymizer

_EXT = re.compile(r"^\.[A-Za-z][A-Za-z0-9]{0,4}$")


class _PathLike(Protocol):
    # read-only members, so a frozen dataclass (cohort.discovery.DiscoveredFile) satisfies the protocol
    @property
    def rel(self) -> str: ...

    @property
    def patient_id(self) -> str | None: ...

    @property
    def pid_segment(self) -> int: ...


def extension(name: str) -> str:
    """Trailing extension(s) that look like file types (``.nii.gz``, ``.dcm``; not DICOM UID digits)."""
    exts: list[str] = []
    for suffix in reversed(PurePosixPath(name).suffixes):
        if not _EXT.match(suffix):
            break
        exts.insert(0, suffix)
    return "".join(exts[-2:])


def mask_path(f: _PathLike, pz: Pseudonymizer) -> str:
    """The stored form of a discovered file's cohort-relative path.

    Cohort-level files (no patient) are kept as they are: they are named by the cohort's layout.
    """
    if f.patient_id is None or f.pid_segment < 0:
        return f.rel
    parts = list(PurePosixPath(f.rel).parts)
    i = f.pid_segment
    head = [*parts[:i], parts[i].replace(f.patient_id, pz.patient(f.patient_id))]
    if i == len(parts) - 1:  # the id is part of the file name itself: mask the whole name
        head[-1] = "f" + pz.token("path", f.rel, 12) + extension(parts[-1])
        return "/".join(head)
    return "/".join([*head, "f" + pz.token("path", f.rel, 12) + extension(parts[-1])])
