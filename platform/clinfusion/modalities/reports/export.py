"""Reports export: one row per report with section counts and every finding's status."""

from __future__ import annotations

import pandas as pd

from clinfusion.modalities.reports.findings import FINDINGS, report_findings
from clinfusion.modalities.reports.record import read_records, sentences_of
from clinfusion.workspace.catalog import row_patients
from clinfusion.workspace.workspace import Workspace


def export_reports(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """Extracted findings per report.

    Columns: ``patient_id`` (pseudonym), ``item_id``, ``report``, ``kind``, ``date`` (shifted),
    ``n_sections``, ``sections`` (``;``-joined names), ``n_sentences``, then one column per
    finding of :data:`~clinfusion.modalities.reports.findings.FINDINGS` with
    ``present``/``uncertain``/``absent``/``not_mentioned``.
    """
    rows = []
    for _, r in catalog.iterrows():
        for pid in row_patients(r):
            for rec in read_records(ws.root / r["artifact_dir"], pid):
                sents = sentences_of(rec)
                rows.append({
                    "patient_id": pid, "item_id": r["item_id"], "report": rec["report"], "kind": rec["kind"],
                    "date": rec["date"], "n_sections": len(rec["sections"]),
                    "sections": ";".join(s["name"] for s in rec["sections"]), "n_sentences": len(sents),
                    **report_findings([s for _, s in sents]),
                })
    cols = ["patient_id", "item_id", "report", "kind", "date", "n_sections", "sections", "n_sentences", *FINDINGS]
    return pd.DataFrame(rows, columns=cols).sort_values(["patient_id", "item_id", "report"]).reset_index(drop=True)
