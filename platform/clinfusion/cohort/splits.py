"""Patient-level splits: stratified k-fold, and provided fold files.

A patient is never in two folds' validation sets and never in both train and validation of
one fold. Fold files follow the TCGA/MCAT layout: a CSV with an unnamed index column and
columns ``train`` and ``val`` of patient ids, the shorter column padded with empty cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.errors import CohortSpecError, ConfigError, Problem


@dataclass(frozen=True)
class Split:
    """One fold: which patients train and which validate.

    Attributes:
        fold: fold index, 0-based.
        train: training patient ids.
        val: validation patient ids.
    """

    fold: int
    train: tuple[str, ...]
    val: tuple[str, ...]


class FoldCountError(ConfigError, ValueError):
    """An impossible number of folds: a readable config error for the CLI, a ``ValueError`` for callers."""


def stratified_kfold(
    patient_ids: list[str], strata: list[object] | None, k: int = 5, seed: int = 0
) -> list[Split]:
    """Patient-level k-fold splits stratified by a label (e.g. the event indicator).

    Within each stratum patients are shuffled with ``seed`` and dealt round-robin to folds, so
    fold sizes differ by at most one per stratum and each fold keeps the stratum proportions.

    Args:
        patient_ids: unique patient ids.
        strata: one label per patient (``None``: no stratification).
        k: number of folds, 2 <= k <= number of patients.
        seed: shuffling seed.

    Returns:
        ``k`` splits; the validation sets partition the patients.
    """
    ids = [str(p) for p in patient_ids]
    if len(set(ids)) != len(ids):
        raise ValueError("patient ids must be unique")
    if not 2 <= k <= len(ids):
        raise FoldCountError(f"k must be between 2 and the number of patients ({len(ids)}), got {k}", field="folds")
    labels = [0] * len(ids) if strata is None else list(strata)
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    offset = 0
    for label in sorted(set(map(str, labels))):
        members = [p for p, s in zip(ids, labels, strict=True) if str(s) == label]
        order = rng.permutation(len(members))
        for rank, idx in enumerate(order):
            fold_of[members[idx]] = (offset + rank) % k
        offset += len(members)  # continue dealing where the last stratum stopped: balances sizes
    splits = []
    for f in range(k):
        val = tuple(p for p in ids if fold_of[p] == f)
        train = tuple(p for p in ids if fold_of[p] != f)
        splits.append(Split(f, train, val))
    return splits


def _fold_index(path: Path) -> int:
    m = re.search(r"(\d+)(?!.*\d)", path.stem)
    return int(m.group(1)) if m else 0


def read_split_file(path: Path, fold: int | None = None) -> Split:
    """Read one ``,train,val`` fold file.

    Raises:
        CohortSpecError: missing columns, or a patient in both train and val.
    """
    try:
        df = pd.read_csv(path, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise CohortSpecError(f"cannot parse split file: {err}", file=path) from None
    missing = [c for c in ("train", "val") if c not in df.columns]
    if missing:
        raise CohortSpecError(f"split file lacks column(s) {missing}; expected columns ',train,val'", file=path)
    train = tuple(dict.fromkeys(df["train"].dropna().str.strip()))
    val = tuple(dict.fromkeys(df["val"].dropna().str.strip()))
    both = sorted(set(train) & set(val))
    if both:
        raise CohortSpecError(f"patients in both train and val: {both[:5]}", file=path, field="val")
    return Split(_fold_index(path) if fold is None else fold, train, val)


def read_split_dir(directory: Path, pattern: str = "splits_*.csv") -> list[Split]:
    """Read every fold file in a directory, ordered by the number in the file name."""
    files = sorted(Path(directory).glob(pattern), key=_fold_index)
    if not files:
        raise CohortSpecError(f"no split files matching {pattern!r}", file=directory)
    return [read_split_file(f, i) for i, f in enumerate(files)]


def check_splits(splits: list[Split], known: set[str], source: str) -> list[Problem]:
    """Problems: patients in a split that the cohort does not have."""
    problems = []
    for s in splits:
        unknown = sorted((set(s.train) | set(s.val)) - known)
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else "")
            problems.append(Problem(source, f"fold {s.fold}", f"{len(unknown)} patient(s) not in the cohort: {shown}"))
    return problems
