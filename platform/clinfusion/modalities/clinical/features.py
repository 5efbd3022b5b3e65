"""Clinical token encoder: one token per patient from the typed covariates.

The ``covariates`` encoder (default) encodes the de-identified clinical table with the shared
:class:`~clinfusion.tabular.TabularEncoder` in its no-statistics mode (``statistics=False``): raw
numeric values, ONE ordinal rank column per declared ordinal (``0 .. L-1``), one-hot categories
with an ``=__other`` bucket, a ``__missing`` flag per covariate. No cohort statistic enters the
cached token, so it is valid for every fold; the trainer standardises tokens on the training fold.
The column names are the ones the wide path and the flat baselines get from the same encoder
fitted on a fold (:mod:`clinfusion.tabular.encoder`). Category vocabularies come from the declared
levels, else from the labels present in the table.

Outcome columns (``survival_time``, ``event``, ``diagnosis``) are never features.

Shapes:
    tokens: ``[1, F]`` (F = ``len(feature_names)``); names: ``["clinical"]``;
    meta: ``encoding`` (the :meth:`~clinfusion.tabular.TabularEncoder.to_dict` of the token encoder).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict

from clinfusion.cohort.spec import CovariateSpec
from clinfusion.errors import FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.clinical.encode import covariate_types, declared_covariates, token_encoding
from clinfusion.modalities.clinical.read import read_clinical_artifact
from clinfusion.tabular import TabularEncoder
from clinfusion.workspace.workspace import Workspace

__all__ = ["ENCODERS", "ClinicalTokenConfig", "ClinicalTokenEncoder", "declared_covariates", "table_encoding"]


class ClinicalTokenConfig(BaseModel):
    """Settings of :class:`ClinicalTokenEncoder`.

    Attributes:
        columns: encode only these covariates (empty = all declared, else all non-outcome columns).
        max_categories: most frequent labels kept per undeclared categorical column.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: tuple[str, ...] = ()
    max_categories: int = 50


def table_encoding(table: pd.DataFrame, declared: dict[str, CovariateSpec],
                   config: ClinicalTokenConfig) -> tuple[TabularEncoder, pd.DataFrame]:
    """The stateless encoder of a de-identified clinical table and its rows (index ``patient_id``)."""
    return token_encoding(table, covariate_types(table, declared, config.columns), config.max_categories)


class ClinicalTokenEncoder(Encoder):
    """One token per patient of encoded covariates (see module docstring)."""

    modality = "clinical"
    name = "covariates"
    version = "3"
    Config: ClassVar[type[BaseModel]] = ClinicalTokenConfig

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        if len(rows) == 0:
            return
        table = read_clinical_artifact(ws.root, rows.iloc[0]["artifact_dir"])
        config = self.config
        assert isinstance(config, ClinicalTokenConfig)  # Encoder.__init__ validates it with Config
        self.encoding, self.features = table_encoding(table, declared_covariates(rows), config)
        if not self.encoding.columns:
            raise FeaturizeError("the clinical table has no covariate column to encode", field="covariates")

    def cohort_digests(self, ws: Workspace, per_patient: Mapping[str, pd.DataFrame]) -> dict[str, str]:
        """Digests of each patient's tokens (:meth:`Encoder.output_digests`): a patient added to or
        edited in the cohort-level table re-encodes that patient only."""
        return self.output_digests(ws, per_patient)

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        if not hasattr(self, "features"):
            self.setup(ws, rows)
        if patient_id not in self.features.index:
            raise FeaturizeError(f"patient {patient_id} is not in the clinical table", field="patient_id")
        vec = self.features.loc[[patient_id]].to_numpy()
        # no statistic is fitted (statistics=False), so the row count is no part of the encoding:
        # left in, it would change every patient's tokens whenever a patient joins the table
        encoding = {**self.encoding.to_dict(), "n_fit": 0}
        return TokenSet(vec, names=["clinical"], feature_names=list(self.features.columns),
                        meta={"encoding": encoding})


ENCODERS: dict[str, type[Encoder]] = {"covariates": ClinicalTokenEncoder}
DEFAULT_ENCODER = "covariates"
