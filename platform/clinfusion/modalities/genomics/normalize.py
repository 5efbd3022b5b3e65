"""Feature-space normalisation fitted on the TRAINING FOLD ONLY: per-feature z-score + variance filter.

``fit(frame, train_ids) -> params`` looks only at the rows of ``train_ids``; ``apply(params, frame)``
transforms any rows (train, validation, new patients) with those frozen numbers. The params are
plain JSON (``to_dict``/``from_dict``) so they are saved with the model and reused at inference.

It works on a raw genomic matrix (genes as columns, see
:func:`clinfusion.modalities.genomics.artifacts.load_matrices`) BEFORE gene-set scoring. Why it is not
the shared :class:`clinfusion.tabular.TabularEncoder` (which encodes every model input table:
covariates and pooled tokens): it is a per-gene normaliser plus feature SELECTION of a wide omics
matrix (``log1p`` for counts, a training-variance filter and ``top_k`` genes), it refuses NaN in
training rows instead of flagging them, and a gene missing from a new panel is filled with z = 0
without an indicator; its output feeds :func:`~clinfusion.modalities.genomics.genesets.set_scores`,
not a model. Token features and covariates must use the tabular encoder.

Example (what a trainer does per fold)::

    params = fit(expr, split.train, log1p=True, top_k=2000)
    z = apply(params, expr)                       # every patient, train statistics only
    scores = set_scores(z, gene_sets)             # fold-correct pathway scores
    json.dump(params.to_dict(), f)                # travels with the model
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.errors import ConfigError

_EPS = 1e-8
PARAMS_VERSION = 1


@dataclass(frozen=True)
class StandardizeParams:
    """Frozen normalisation fitted on training rows.

    Attributes:
        columns: kept features, in output order.
        mean: per kept feature, mean over training rows (after ``log1p`` when set).
        std: per kept feature, population standard deviation (1.0 where it was ~0).
        log1p: ``log(1 + x)`` applied first (for counts).
        n_train: number of training rows the statistics come from.
        version: format version of these params.
    """

    columns: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    log1p: bool = False
    n_train: int = 0
    version: int = PARAMS_VERSION

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StandardizeParams:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: a missing key or an unknown version.
        """
        if data.get("version") != PARAMS_VERSION:
            raise ConfigError(f"normalisation params version {data.get('version')!r}; expected {PARAMS_VERSION}",
                              field="version")
        try:
            return cls(columns=tuple(data["columns"]), mean=tuple(data["mean"]), std=tuple(data["std"]),
                       log1p=bool(data["log1p"]), n_train=int(data["n_train"]))
        except KeyError as err:
            raise ConfigError(f"normalisation params lack {err.args[0]!r}", field=str(err.args[0])) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> StandardizeParams:
        return cls.from_dict(json.loads(text))


def _transform(x: pd.DataFrame, log1p: bool) -> pd.DataFrame:
    x = x.astype("float64")
    if log1p:
        if (x.to_numpy() < 0).any():
            raise ConfigError("log1p needs values >= 0 (counts); got negative values", field="log1p")
        x = np.log1p(x)
    return x


def fit(
    frame: pd.DataFrame,
    train_ids: Iterable[str],
    *,
    log1p: bool = False,
    min_variance: float = 0.0,
    top_k: int | None = None,
) -> StandardizeParams:
    """Fit z-score parameters and a variance filter on the training rows only.

    Args:
        frame: ``patients x features`` (index = patient ids); other rows are never read.
        train_ids: training patient ids; ids without a row are ignored (patient lacks the modality).
        log1p: apply ``log(1 + x)`` before everything (declare it for counts).
        min_variance: drop features whose training variance is <= this.
        top_k: then keep at most the ``top_k`` features of highest training variance.

    Returns:
        The fitted params.

    Raises:
        ConfigError: no training id has a row, or NaNs among training rows.
    """
    ids = [i for i in dict.fromkeys(map(str, train_ids)) if i in frame.index]
    if not ids:
        raise ConfigError("none of the training ids has a row in the frame; cannot fit", field="train_ids")
    x = _transform(frame.loc[ids], log1p)
    if x.isna().to_numpy().any():
        raise ConfigError("training rows contain NaN; impute (per sample) before fitting", field="frame")
    var = x.var(axis=0, ddof=0)
    keep = var[var > min_variance]
    if top_k is not None:
        keep = keep.sort_values(ascending=False, kind="stable").iloc[:top_k]
    cols = [c for c in x.columns if c in keep.index]
    mean = x[cols].mean(axis=0)
    std = np.sqrt(var[cols]).where(lambda s: s > _EPS, 1.0)
    return StandardizeParams(tuple(map(str, cols)), tuple(map(float, mean)), tuple(map(float, std)), log1p, len(ids))


def apply(params: StandardizeParams, frame: pd.DataFrame) -> pd.DataFrame:
    """Transform any rows with fitted params.

    Features the frame lacks are filled with the training mean (z = 0), so a new cohort with a
    smaller gene panel still gets every column; extra columns are ignored.

    Returns:
        ``rows x params.columns`` float32, same row index.
    """
    cols = list(params.columns)
    mean = pd.Series(params.mean, index=cols)
    x = _transform(frame.reindex(columns=cols), False)
    if params.log1p:
        present = [c for c in cols if c in frame.columns]
        x[present] = _transform(x[present], True)
    x = x.fillna(mean)
    return ((x - mean) / pd.Series(params.std, index=cols)).astype("float32")
