"""The one fold-fitted encoder of tables: covariates and pooled token features -> a numeric matrix.

Per input column (see :mod:`clinfusion.tabular.columns` for the kinds):

- ``numeric`` ``x``: ``(x - mean) / std`` of the fit rows, a missing value imputed with the mean
  (so it is 0); output ``x``;
- ``ordinal`` ``x``: its rank among the declared levels (``0 .. L-1``), then as numeric: ONE
  ordered column ``x`` (never one-hot); a value that is not a level counts as missing;
- ``categorical`` ``x``: one-hot ``x=<LEVEL>`` per vocabulary level (declared, else learnt from
  the fit rows) and ``x=__other`` for a label outside it (e.g. unseen in the training fold);
- plus a 0/1 missing flag: ``x__missing`` per column, or one ``<block>__missing`` for columns that
  share a ``block`` (the pooled tokens of one modality). Flags are always emitted, so the output
  columns depend only on the column types and vocabularies, never on which rows had gaps.

``statistics=False`` fits no number (mean 0, std 1: raw values, missing -> 0), for the stateless
clinical token that is cached once for every fold; categorical vocabularies of undeclared columns
still come from the labels of the table.

Output blocks are in input-column order: a column's values then its flag, or a block's columns
then the block flag. Everything fitted is in :meth:`TabularEncoder.to_dict` (plain JSON), saved
with the model, so inference applies exactly what the training fold fitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.errors import ConfigError
from clinfusion.tabular.columns import (
    ColumnType,
    infer_type,
    numeric_values,
    one_hot,
    ordinal_values,
    vocabulary,
)
from clinfusion.tabular.labels import normalize_label

ENCODER_VERSION = 2
"""Format of :meth:`TabularEncoder.to_dict` (1 was the pre-#22 ``clinical.encode`` format)."""
_EPS = 1e-8


@dataclass(frozen=True)
class FittedColumn:
    """One input column with what was fitted for it.

    Attributes:
        name: input column name.
        type: its :class:`~clinfusion.tabular.columns.ColumnType`.
        levels: categorical vocabulary or ordinal levels, normalised labels.
        center, scale: numeric/ordinal ``(value - center) / scale`` (0 and 1 without statistics).
    """

    name: str
    type: ColumnType
    levels: tuple[str, ...] = ()
    center: float = 0.0
    scale: float = 1.0

    @property
    def value_names(self) -> list[str]:
        """Output value columns (the flag aside)."""
        if self.type.kind == "categorical":
            return [f"{self.name}={lv}" for lv in self.levels] + [f"{self.name}=__other"]
        return [self.name]


def _layout(columns: tuple[FittedColumn, ...]) -> tuple[list[str], list[str], list[int], list[tuple[int, list[int]]]]:
    """Output names, their sources, each column's first output position, and per block (flag
    position, member column indices)."""
    blocks: dict[tuple[bool, str], list[int]] = {}  # (shared block?, block or column name) -> members
    for i, c in enumerate(columns):
        key = (True, c.type.block) if c.type.block is not None else (False, c.name)
        blocks.setdefault(key, []).append(i)
    names: list[str] = []
    sources: list[str] = []
    starts = [0] * len(columns)
    flags = []
    for (_, label), members in blocks.items():
        for i in members:
            starts[i] = len(names)
            names += columns[i].value_names
            sources += [columns[i].type.source] * len(columns[i].value_names)
        flags.append((len(names), members))
        names.append(f"{label}__missing")
        sources.append(columns[members[0]].type.source)
    return names, sources, starts, flags


def _moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column mean and population std over the present values (0 and 1 where none / constant)."""
    if values.shape[1] == 0:
        return np.zeros(0), np.ones(0)
    with np.errstate(all="ignore"):
        present = ~np.isnan(values)
        count = present.sum(0)
        mean = np.where(count > 0, np.nansum(values, 0) / np.maximum(count, 1), 0.0)
        var = np.where(count > 0, np.nansum((values - mean) ** 2, 0) / np.maximum(count, 1), 1.0)
    std = np.sqrt(var)
    return mean, np.where(std > _EPS, std, 1.0)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(np.nan, index=frame.index, dtype=object)


@dataclass(frozen=True)
class TabularEncoder:
    """Fitted encoding of a table (see module docstring); build it with :meth:`fit`.

    Attributes:
        columns: the fitted input columns, in output order.
        statistics: whether means/stds were fitted (False: the stateless token mode).
        n_fit: number of rows it was fitted on.
    """

    columns: tuple[FittedColumn, ...]
    statistics: bool = True
    n_fit: int = 0
    feature_names: list[str] = field(init=False, repr=False, compare=False)
    feature_sources: list[str] = field(init=False, repr=False, compare=False)
    _starts: list[int] = field(init=False, repr=False, compare=False)
    _flags: list[tuple[int, list[int]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names, sources, starts, flags = _layout(self.columns)
        dup = sorted(pd.Index(names)[pd.Index(names).duplicated()].unique())
        if dup:
            raise ConfigError(f"encoded column names collide: {dup[:5]}; rename the input columns", field=dup[0])
        for attr, value in (("feature_names", names), ("feature_sources", sources), ("_starts", starts),
                            ("_flags", flags)):
            object.__setattr__(self, attr, value)

    @classmethod
    def fit(cls, frame: pd.DataFrame, types: Mapping[str, ColumnType] | None = None, *,
            statistics: bool = True, max_categories: int = 50) -> TabularEncoder:
        """Fit on the rows of ``frame`` (the TRAINING rows of a fold: no other row is read).

        Args:
            frame: ``rows x columns``; every column is encoded.
            types: declared column types; a column not in it is inferred
                (:func:`~clinfusion.tabular.columns.infer_type`); types of absent columns are ignored.
            statistics: fit means/stds (False: raw values, see module docstring).
            max_categories: most frequent labels kept per undeclared categorical column.
        """
        types = types or {}
        typed = [(str(c), types.get(str(c)) or infer_type(frame[c])) for c in frame.columns]
        num = [n for n, t in typed if t.kind == "numeric"]
        values = {n: v for n, v in zip(num, numeric_values(frame[num]).T, strict=True)}
        for n, t in typed:
            if t.kind == "ordinal":
                values[n] = ordinal_values(frame[n], t.levels)
        names = list(values)
        mean, std = _moments(np.column_stack([values[n] for n in names]) if names else np.zeros((len(frame), 0)))
        stats = {n: (float(m), float(s)) for n, m, s in zip(names, mean, std, strict=True)} if statistics else {}
        cols = []
        for n, t in typed:
            if t.kind == "categorical":
                cols.append(FittedColumn(n, t, vocabulary(frame[n], t.levels, max_categories)))
            else:
                levels = tuple(normalize_label(v) for v in t.levels) if t.kind == "ordinal" else ()
                cols.append(FittedColumn(n, t, levels, *stats.get(n, (0.0, 1.0))))
        return cls(tuple(cols), statistics, len(frame))

    @property
    def width(self) -> int:
        """Number of output columns."""
        return len(self.feature_names)

    def indices(self, *sources: str) -> np.ndarray:
        """Output positions whose column comes from one of ``sources`` (e.g. ``"clinical"``)."""
        return np.array([i for i, s in enumerate(self.feature_sources) if s in sources], dtype=np.int64)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode any rows with the fitted numbers (columns by name; an absent column is missing).

        Shapes:
            output: ``[len(frame), self.width]`` float32.
        """
        out = np.zeros((len(frame), self.width), dtype=np.float64)
        missing = np.zeros((len(frame), len(self.columns)), dtype=bool)
        num = [i for i, c in enumerate(self.columns) if c.type.kind == "numeric"]
        if num:
            sub = frame.reindex(columns=[self.columns[i].name for i in num])
            self._put_scaled(out, missing, num, numeric_values(sub))
        for i, c in enumerate(self.columns):
            if c.type.kind == "ordinal":
                self._put_scaled(out, missing, [i], ordinal_values(_column(frame, c.name), c.levels)[:, None])
            elif c.type.kind == "categorical":
                hot, missing[:, i] = one_hot(_column(frame, c.name), c.levels)
                out[:, self._starts[i]:self._starts[i] + hot.shape[1]] = hot
        for pos, members in self._flags:
            out[:, pos] = missing[:, members].any(1)
        return out.astype(np.float32)

    def _put_scaled(self, out: np.ndarray, missing: np.ndarray, idx: list[int], values: np.ndarray) -> None:
        center = np.array([self.columns[i].center for i in idx])
        scale = np.array([self.columns[i].scale for i in idx])
        miss = np.isnan(values)
        missing[:, idx] = miss
        out[:, [self._starts[i] for i in idx]] = np.where(miss, 0.0, (values - center) / scale)

    def transform_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """:meth:`transform` as a frame: columns ``feature_names``, the index of ``frame``."""
        return pd.DataFrame(self.transform(frame), columns=self.feature_names, index=frame.index)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (inverse: :meth:`from_dict`)."""
        return {"version": ENCODER_VERSION, "statistics": self.statistics, "n_fit": self.n_fit,
                "columns": [{"name": c.name, "kind": c.type.kind, "levels": list(c.levels),
                             "declared": list(c.type.levels), "source": c.type.source, "block": c.type.block,
                             "center": c.center, "scale": c.scale} for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TabularEncoder:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: another format version (a model saved before the one-encoder change:
                retrain it), or a missing key.
        """
        if data.get("version") != ENCODER_VERSION:
            raise ConfigError(f"tabular encoder format {data.get('version')!r}; expected {ENCODER_VERSION} "
                              "(models saved before the shared encoder must be retrained)", field="version")
        try:
            cols = tuple(FittedColumn(str(c["name"]), ColumnType(c["kind"], tuple(c["declared"]), c["source"], c["block"]),
                                      tuple(c["levels"]), float(c["center"]), float(c["scale"]))
                         for c in data["columns"])
            return cls(cols, bool(data["statistics"]), int(data["n_fit"]))
        except KeyError as err:
            raise ConfigError(f"tabular encoder params lack {err.args[0]!r}", field=str(err.args[0])) from None
