"""Column types and the per-column pieces of :class:`~clinfusion.tabular.encoder.TabularEncoder`.

A column is one of three kinds:

- ``numeric``: a number; missing = NaN, blank or not parseable as a number;
- ``ordinal``: a label among declared ``levels`` (lowest first), read as its rank ``0 .. L-1`` and
  from then on treated as a number; missing = NaN, blank or not a level;
- ``categorical``: a label; missing = NaN or blank; a label outside the vocabulary is "other".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.errors import ConfigError
from clinfusion.tabular.labels import normalize_label, ordinal_rank

KINDS = ("numeric", "categorical", "ordinal")
"""The column kinds, in the order their names are listed in errors."""
DEFAULT_SOURCE = "clinical"


@dataclass(frozen=True)
class ColumnType:
    """How one input column is to be encoded.

    Attributes:
        kind: one of :data:`KINDS`.
        levels: ``ordinal``: the declared levels, lowest first (required); ``categorical``: the
            declared vocabulary (optional; else learnt from the fit rows).
        source: where the column comes from (``"clinical"``, or a modality name for pooled
            tokens); :meth:`TabularEncoder.indices` selects output columns by it.
        block: columns sharing a block share ONE missing flag ``<block>__missing`` (1 when any of
            them is missing: a modality absent as a whole); None: the column has its own flag.

    Raises:
        ConfigError: unknown kind, or an ordinal column without levels.
    """

    kind: str
    levels: tuple[str, ...] = ()
    source: str = DEFAULT_SOURCE
    block: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"column kind {self.kind!r} must be one of {list(KINDS)}", field="type")
        if self.kind == "ordinal" and not self.levels:
            raise ConfigError("an ordinal column needs its levels (lowest first)", field="levels")
        object.__setattr__(self, "levels", tuple(str(v) for v in self.levels))

    @classmethod
    def from_spec(cls, spec: Any, *, source: str = DEFAULT_SOURCE) -> ColumnType:
        """A column type from a declaration: a ``{"type", "levels"}`` mapping or an object with
        ``type``/``levels`` attributes (e.g. ``cohort.yaml``'s ``CovariateSpec``)."""
        get = spec.get if isinstance(spec, Mapping) else lambda k, d=None: getattr(spec, k, d)
        return cls(str(get("type")), tuple(get("levels") or ()), source)


def infer_type(values: pd.Series, *, source: str = DEFAULT_SOURCE) -> ColumnType:
    """Undeclared column: ``numeric`` when every present value parses as a number, else ``categorical``."""
    present = values.dropna()
    numeric = bool(pd.to_numeric(present, errors="coerce").notna().all())
    return ColumnType("numeric" if numeric else "categorical", source=source)


def missing_text(values: pd.Series) -> np.ndarray:
    """``[N]`` bool: NaN/None or blank text."""
    blank = values.map(lambda v: isinstance(v, str) and not v.strip())
    return (values.isna() | blank.astype(bool)).to_numpy()


def numeric_values(frame: pd.DataFrame) -> np.ndarray:
    """``[N, k]`` float64 of numeric columns, NaN where missing or not a number."""
    try:
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64)
                                for c in frame.columns]) if frame.shape[1] else np.zeros((len(frame), 0))


def ordinal_values(values: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    """``[N]`` float64 ranks ``0 .. L-1`` against ``levels``, NaN where missing or not a level."""
    miss = missing_text(values)
    ranks = [np.nan if m else ordinal_rank(v, levels) for v, m in zip(values, miss, strict=True)]
    return np.array([np.nan if r is None else r for r in ranks], dtype=np.float64)


def category_labels(values: pd.Series) -> pd.Series:
    """Normalised labels (:func:`~clinfusion.tabular.labels.normalize_label`), None where missing."""
    miss = missing_text(values)
    return pd.Series([None if m else normalize_label(v) for v, m in zip(values, miss, strict=True)],
                     index=values.index, dtype=object)


def vocabulary(values: pd.Series, declared: tuple[str, ...], max_categories: int) -> tuple[str, ...]:
    """Levels of a categorical column: the declared ones, else the ``max_categories`` most
    frequent labels of the fit rows (ties by label), sorted."""
    if declared:
        return tuple(dict.fromkeys(normalize_label(v) for v in declared))
    counts = category_labels(values).dropna().value_counts()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(sorted(label for label, _ in ranked[:max_categories]))


def one_hot(values: pd.Series, levels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``([N, L + 1] one-hot incl. a last "other" column, [N] missing)``; a missing row is all zeros."""
    labels = category_labels(values)
    miss = labels.isna().to_numpy()
    pos = {lv: i for i, lv in enumerate(levels)}
    out = np.zeros((len(values), len(levels) + 1))
    idx = np.array([pos.get(lv, len(levels)) if lv is not None else -1 for lv in labels], dtype=np.int64)
    rows = np.flatnonzero(~miss)
    out[rows, idx[rows]] = 1.0
    return out, miss
