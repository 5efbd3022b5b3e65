"""Clinical reader: clinical.csv -> de-identified ``clinical.parquet`` with standard outcome names.

Output columns: ``patient_id`` (pseudonym), ``survival_time`` (days), ``event`` (0/1),
``diagnosis`` (when declared and present), then the covariates as in the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clinfusion.cohort.clinical_table import read_clinical_table
from clinfusion.errors import IngestError
from clinfusion.modalities.base import IngestContext, IngestResult, Item, Reader
from clinfusion.modalities.clinical.deid import deidentify_clinical

ARTIFACT = "clinical.parquet"


class ClinicalReader(Reader):
    """Reads the cohort's clinical table (a cohort-level item)."""

    modality = "clinical"
    version = "2"

    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        table = read_clinical_table(ctx.spec)
        if table.problems:
            raise IngestError("; ".join(str(p) for p in table.problems), file=item.primary.rel)
        spec = ctx.spec.clinical
        df = table.frame.rename(
            columns={spec.time_column: "survival_time", spec.event_column: "event", spec.diagnosis_column: "diagnosis"}
        )
        if "survival_time" in df:
            df["survival_time"] = pd.to_numeric(df["survival_time"]).astype("float64")
            df["event"] = pd.to_numeric(df["event"]).astype("int64")
        deid, report = deidentify_clinical(df, ctx.spec.id_column, ctx.pseudonymizer)
        deid.to_parquet(out_dir / ARTIFACT, index=False)
        meta = {
            "n_patients": len(deid),
            "columns": [c for c in deid.columns if c != "patient_id"],
            "has_survival": "survival_time" in deid,
            "has_diagnosis": "diagnosis" in deid,
            "covariates": {k: v.model_dump(mode="json") for k, v in ctx.spec.clinical.covariates.items()},
            **report,
        }
        if "survival_time" in deid:
            meta["events"] = int(deid["event"].sum())
            meta["median_followup_days"] = float(deid["survival_time"].median())
        if "diagnosis" in deid:
            meta["diagnosis_counts"] = {str(k): int(v) for k, v in deid["diagnosis"].value_counts().sort_index().items()}
        return IngestResult(artifacts=[ARTIFACT], metadata=meta, patients=table.patient_ids)


def read_clinical_artifact(ws_root: Path, artifact_dir: str) -> pd.DataFrame:
    """The de-identified clinical table written by :class:`ClinicalReader`."""
    return pd.read_parquet(Path(ws_root) / artifact_dir / ARTIFACT)
