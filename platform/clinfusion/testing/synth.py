"""Search any folder (a workspace, an export, logs) for the PHI a synthetic cohort planted.

``truth/phi.csv`` lists every planted string. Names, MRNs, phones, addresses and accession numbers
are distinctive across the cohort, so finding one anywhere is a leak. Dates are not: a
date-shifted date of one patient can equal the real date of another, so dates count only when
``patient_of`` maps the file to the same patient.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

_DATE_FIELD = re.compile(r"date|dob|acquired", re.IGNORECASE)
_PIXEL_FIELDS = {"label image pixels"}


@dataclass(frozen=True)
class PhiHit:
    """One planted value found in a file.

    Attributes:
        file: path relative to the searched root.
        value: the planted string.
        patient_id: raw id of a patient it was planted for (institutions and physicians are
            shared by several patients; dates are reported for the file's own patient).
        field: where it was planted (``truth/phi.csv`` field).
    """

    file: str
    value: str
    patient_id: str
    field: str


def planted_phi(truth_dir: str | Path) -> pd.DataFrame:
    """``truth/phi.csv`` without the rows rendered as pixels, with an ``is_date`` column."""
    phi = pd.read_csv(Path(truth_dir) / "phi.csv", dtype=str)
    phi = phi[~phi["field"].isin(_PIXEL_FIELDS)].copy()
    phi["is_date"] = phi["field"].str.contains(_DATE_FIELD)
    return phi.reset_index(drop=True)


def find_planted_phi(root: str | Path, truth_dir: str | Path, *,
                     patient_of: Callable[[str], str | None] | None = None,
                     skip: Callable[[str], bool] | None = None) -> list[PhiHit]:
    """Every planted value found in the bytes of the files under ``root``.

    Args:
        root: folder to search (every file, any format, read as bytes).
        truth_dir: the synthetic cohort's ``truth/`` folder.
        patient_of: maps a relative path to the raw patient id it holds (e.g. via the
            workspace pseudonyms); when given, dates are checked for that patient only.
            Without it dates are not checked (they collide across patients).
        skip: relative paths to ignore (e.g. the key folder).

    Returns:
        The hits, sorted by file then value; empty when nothing leaked.
    """
    phi = planted_phi(truth_dir)
    distinct = phi[~phi["is_date"]]
    owners = dict(zip(distinct["value"], zip(distinct["patient_id"], distinct["field"], strict=True), strict=False))
    dates = phi[phi["is_date"]].groupby("patient_id")
    pattern = re.compile(b"|".join(re.escape(v.encode()) for v in sorted(owners, key=len, reverse=True)))
    root = Path(root)
    hits: set[PhiHit] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if skip is not None and skip(rel):
            continue
        blob = path.read_bytes()
        for m in set(pattern.findall(blob)) if owners else ():
            value = m.decode()
            hits.add(PhiHit(rel, value, *owners[value]))
        pid = patient_of(rel) if patient_of is not None else None
        if pid is not None and pid in dates.groups:
            for _, r in dates.get_group(pid).iterrows():
                if r["value"].encode() in blob:
                    hits.add(PhiHit(rel, r["value"], pid, r["field"]))
    return sorted(hits, key=lambda h: (h.file, h.value))
