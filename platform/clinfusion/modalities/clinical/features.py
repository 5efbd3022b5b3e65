"""Clinical encoder: one token per patient from the typed covariates.

The ``covariates`` encoder (default) encodes the de-identified clinical table with
:mod:`clinfusion.modalities.clinical.encode` WITHOUT standardisation (raw numeric values, one-hot
categories, ordinal ranks in [0, 1], missing indicators): no cohort statistic enters the cached
token, so it is valid for every fold. Category vocabularies come from the declared levels, else
from the labels present in the table. The trainer z-scores on the training fold with
``fit_encoding(..., train_ids, standardize=True)`` / ``apply_encoding``, or with
:mod:`clinfusion.modalities.genomics.normalize` on the token features.

Outcome columns (``survival_time``, ``event``, ``diagnosis``) are never features.

Shapes:
    tokens: ``[1, F]`` (F = ``len(feature_names)``); names: ``["clinical"]``;
    meta: ``encoding`` (the :class:`~clinfusion.modalities.clinical.encode.ClinicalEncoding` dict).
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict

from clinfusion.cohort.spec import CovariateSpec
from clinfusion.errors import FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.clinical.encode import (
    ClinicalEncoding,
    apply_encoding,
    fit_encoding,
    infer_covariates,
)
from clinfusion.modalities.clinical.read import read_clinical_artifact
from clinfusion.workspace.catalog import row_meta
from clinfusion.workspace.workspace import Workspace


class CovariateConfig(BaseModel):
    """Settings of :class:`CovariateEncoder`.

    Attributes:
        columns: encode only these covariates (empty = all declared, else all non-outcome columns).
        max_categories: most frequent labels kept per undeclared categorical column.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: tuple[str, ...] = ()
    max_categories: int = 50


def table_encoding(table: pd.DataFrame, declared: dict[str, CovariateSpec], config: CovariateConfig) -> ClinicalEncoding:
    """The stateless (unstandardised) encoding of a de-identified clinical table."""
    covs = infer_covariates(table, declared)
    if config.columns:
        covs = {c: s for c, s in covs.items() if c in config.columns}
    return fit_encoding(table, covs, None, standardize=False, max_categories=config.max_categories)


def declared_covariates(rows: pd.DataFrame) -> dict[str, CovariateSpec]:
    """Covariate types recorded by the clinical reader in the catalog metadata."""
    for _, row in rows.iterrows():
        covs = row_meta(row).get("covariates")
        if covs:
            return {k: CovariateSpec.model_validate(v) for k, v in covs.items()}
    return {}


class CovariateEncoder(Encoder):
    """One token per patient of encoded covariates (see module docstring)."""

    modality = "clinical"
    name = "covariates"
    version = "1"
    Config: ClassVar[type[BaseModel]] = CovariateConfig

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        if len(rows) == 0:
            return
        row = rows.iloc[0]
        table = read_clinical_artifact(ws.root, row["artifact_dir"])
        self.encoding = table_encoding(table, declared_covariates(rows), self.config)  # type: ignore[arg-type]
        if not self.encoding.columns:
            raise FeaturizeError("the clinical table has no covariate column to encode", field="covariates")
        self.features = apply_encoding(self.encoding, table)

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        if not hasattr(self, "features"):
            self.setup(ws, rows)
        if patient_id not in self.features.index:
            raise FeaturizeError(f"patient {patient_id} is not in the clinical table", field="patient_id")
        vec = self.features.loc[[patient_id]].to_numpy()
        return TokenSet(vec, names=["clinical"], feature_names=list(self.features.columns),
                        meta={"encoding": self.encoding.to_dict()})


ENCODERS: dict[str, type[Encoder]] = {"covariates": CovariateEncoder}
DEFAULT_ENCODER = "covariates"
