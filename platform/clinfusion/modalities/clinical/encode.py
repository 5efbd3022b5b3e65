"""Typed clinical covariates -> numeric features, as a fit/apply pair whose params travel with the model.

Per covariate (types from ``cohort.yaml`` ``clinical.covariates``, else inferred: numbers ->
numeric, text -> categorical):

- **numeric** ``x``: ``(x - mean) / std`` (or raw when not standardised) and ``x__missing``;
- **categorical**: one-hot ``x=<level>`` per known level, ``x=__other`` for a value not seen when
  fitting (unseen categories at inference), ``x__missing``;
- **ordinal** (e.g. AJCC stage): ``x`` = rank / (levels - 1) in [0, 1] with levels lowest first,
  ``x__missing`` (missing or unrecognised) and ``x__other`` (present but unrecognised). Values are
  matched after upper-casing and removing a ``STAGE``/``GRADE`` prefix; a sub-stage that is not a
  declared level falls back to its main stage (``IIC`` -> ``II``), so ``Stage IIA`` < ``Stage IIB`` < ``Stage III``.

Missing values are encoded as 0 plus an indicator (never a value that looks like data).

``fit_encoding(frame, covariates, train_ids)`` computes means/stds and category vocabularies from
the training rows only; ``apply_encoding(enc, frame)`` encodes any rows with them. The stateless
token encoder (:mod:`clinfusion.modalities.clinical.features`) uses ``standardize=False`` and no
train ids: then only declared levels or category labels are taken from the table, no statistic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.cohort.spec import CovariateSpec
from clinfusion.errors import ConfigError

OUTCOME_COLUMNS = ("patient_id", "survival_time", "event", "diagnosis")
"""Columns of the de-identified clinical table that are never features (id and labels)."""
PARAMS_VERSION = 1
_PREFIX = re.compile(r"^(STAGE|GRADE)\s*", re.I)
_SUBSTAGE = re.compile(r"^(.*?[IV]+)[A-C]\d?$")


def normalize_label(value: object) -> str:
    """Canonical text of a categorical/ordinal value: upper-case, single spaces, no STAGE/GRADE prefix."""
    text = " ".join(str(value).strip().upper().split())
    return _PREFIX.sub("", text).strip()


def ordinal_rank(value: object, levels: tuple[str, ...]) -> int | None:
    """Index of ``value`` among ``levels`` (normalised), falling back from a sub-stage to its stage."""
    norm = [normalize_label(v) for v in levels]
    label = normalize_label(value)
    if label in norm:
        return norm.index(label)
    m = _SUBSTAGE.match(label)
    if m and m.group(1) in norm:
        return norm.index(m.group(1))
    return None


@dataclass(frozen=True)
class ColumnEncoding:
    """How one covariate is encoded (see module docstring)."""

    name: str
    type: str
    levels: tuple[str, ...] = ()
    mean: float = 0.0
    std: float = 1.0

    def feature_names(self) -> list[str]:
        if self.type == "numeric":
            return [self.name, f"{self.name}__missing"]
        if self.type == "ordinal":
            return [self.name, f"{self.name}__missing", f"{self.name}__other"]
        return [f"{self.name}={lv}" for lv in self.levels] + [f"{self.name}=__other", f"{self.name}__missing"]


@dataclass(frozen=True)
class ClinicalEncoding:
    """Fitted encoding of all covariates (JSON-serialisable with ``to_dict``/``from_dict``)."""

    columns: tuple[ColumnEncoding, ...]
    standardized: bool
    n_train: int = 0
    version: int = PARAMS_VERSION

    @property
    def feature_names(self) -> list[str]:
        return [f for c in self.columns for f in c.feature_names()]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClinicalEncoding:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: unknown version.
        """
        if data.get("version") != PARAMS_VERSION:
            raise ConfigError(f"clinical encoding version {data.get('version')!r}; expected {PARAMS_VERSION}", field="version")
        cols = tuple(ColumnEncoding(c["name"], c["type"], tuple(c["levels"]), float(c["mean"]), float(c["std"]))
                     for c in data["columns"])
        return cls(cols, bool(data["standardized"]), int(data["n_train"]))


def infer_covariates(frame: pd.DataFrame, declared: dict[str, CovariateSpec]) -> dict[str, CovariateSpec]:
    """Covariate types: the declared ones, else every non-outcome column (numbers -> numeric, text -> categorical)."""
    if declared:
        return dict(declared)
    out = {}
    for col in frame.columns:
        if col in OUTCOME_COLUMNS:
            continue
        values = frame[col].dropna()
        numeric = pd.to_numeric(values, errors="coerce").notna().all()
        out[str(col)] = CovariateSpec(type="numeric" if numeric else "categorical")
    return out


def _fit_column(name: str, spec: CovariateSpec, values: pd.Series, standardize: bool, max_categories: int) -> ColumnEncoding:
    if spec.type == "numeric":
        x = pd.to_numeric(values, errors="coerce").dropna()
        if not standardize or len(x) == 0:
            return ColumnEncoding(name, "numeric")
        std = float(x.std(ddof=0))
        return ColumnEncoding(name, "numeric", mean=float(x.mean()), std=std if std > 1e-8 else 1.0)
    if spec.type == "ordinal":
        return ColumnEncoding(name, "ordinal", tuple(normalize_label(v) for v in spec.levels or ()))
    if spec.levels:
        levels = tuple(dict.fromkeys(normalize_label(v) for v in spec.levels))
    else:
        counts = values.dropna().map(normalize_label).value_counts()
        levels = tuple(sorted(counts.index[:max_categories]))
    return ColumnEncoding(name, "categorical", levels)


def fit_encoding(
    frame: pd.DataFrame,
    covariates: dict[str, CovariateSpec],
    train_ids: Iterable[str] | None = None,
    *,
    standardize: bool = True,
    max_categories: int = 50,
) -> ClinicalEncoding:
    """Fit the encoding on training rows.

    Args:
        frame: de-identified clinical table with a ``patient_id`` column.
        covariates: covariate types (see :func:`infer_covariates`); outcome columns are refused.
        train_ids: training patients (``None``: every row; use only when nothing is standardised).
        standardize: z-score numeric covariates with training mean/std.
        max_categories: most frequent categories kept per undeclared categorical column.

    Raises:
        ConfigError: a covariate is an outcome column or not in the frame.
    """
    rows = frame if train_ids is None else frame[frame["patient_id"].astype(str).isin(set(map(str, train_ids)))]
    cols = []
    for name, spec in covariates.items():
        if name in OUTCOME_COLUMNS:
            raise ConfigError(f"{name!r} is an outcome/id column and cannot be a covariate", field=f"clinical.covariates.{name}")
        if name not in frame.columns:
            raise ConfigError(f"covariate {name!r} is not a column of the clinical table", field=f"clinical.covariates.{name}")
        cols.append(_fit_column(name, spec, rows[name], standardize, max_categories))
    return ClinicalEncoding(tuple(cols), standardize, len(rows))


def _encode_column(c: ColumnEncoding, values: pd.Series) -> np.ndarray:
    n = len(values)
    missing = values.isna() | (values.astype(str).str.strip() == "")
    if c.type == "numeric":
        x = pd.to_numeric(values, errors="coerce")
        miss = x.isna().to_numpy()
        z = ((x - c.mean) / c.std).fillna(0.0).to_numpy()
        return np.column_stack([z, miss.astype(float)])
    if c.type == "ordinal":
        ranks = [None if m else ordinal_rank(v, c.levels) for v, m in zip(values, missing, strict=True)]
        denom = max(len(c.levels) - 1, 1)
        val = np.array([0.0 if r is None else r / denom for r in ranks])
        miss = np.array([r is None for r in ranks], dtype=float)
        other = np.array([(r is None and not m) for r, m in zip(ranks, missing, strict=True)], dtype=float)
        return np.column_stack([val, miss, other])
    out = np.zeros((n, len(c.levels) + 2))
    pos = {lv: i for i, lv in enumerate(c.levels)}
    for i, (v, m) in enumerate(zip(values, missing, strict=True)):
        if m:
            out[i, -1] = 1.0
        else:
            out[i, pos.get(normalize_label(v), len(c.levels))] = 1.0
    return out


def apply_encoding(enc: ClinicalEncoding, frame: pd.DataFrame) -> pd.DataFrame:
    """Encode any rows with a fitted encoding.

    Returns:
        ``patients x enc.feature_names`` float32, index = ``patient_id``.
    """
    blocks = [_encode_column(c, frame[c.name] if c.name in frame else pd.Series([np.nan] * len(frame)))
              for c in enc.columns]
    data = np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
    return pd.DataFrame(data.astype("float32"), columns=enc.feature_names,
                        index=pd.Index(frame["patient_id"].astype(str), name="patient_id"))
