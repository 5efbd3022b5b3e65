"""``clinfusion privacy-scan WS``: search a whole workspace for identifier strings (exit 1 on a hit)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from clinfusion.cli.console import console


def _cohort_ids(cohort_dir: Path, workspace: Path) -> list[str]:
    """Raw patient ids of the cohort's clinical table; the key must be the workspace's (operator mode)."""
    import pandas as pd

    from clinfusion.cohort.spec import load_cohort_spec
    from clinfusion.errors import PrivacyError
    from clinfusion.privacy import load_key
    from clinfusion.workspace import Workspace

    ws = Workspace.open(workspace)
    key = load_key(ws.root)
    recorded = json.loads((ws.root / "workspace.json").read_text()).get("key_fingerprint")
    if recorded and recorded != key.fingerprint:
        raise PrivacyError("the configured key is not the key this workspace was made with (fingerprints differ)",
                           file=ws.root / "workspace.json", field="key_fingerprint")
    spec = load_cohort_spec(cohort_dir)
    table = Path(cohort_dir) / spec.clinical.path
    ids = pd.read_csv(table, dtype=str, usecols=[spec.id_column])[spec.id_column].dropna()
    return sorted({str(i).strip() for i in ids if str(i).strip()})


def privacy_scan(
    workspace: Path = typer.Argument(..., help="Workspace directory (everything under it is scanned)."),
    tokens: Path = typer.Option(None, "--tokens", help="File of identifier strings to look for, one per line "
                                "(names, MRNs, raw patient ids, accession numbers)."),
    cohort: Path = typer.Option(None, "--cohort", help="Operator mode: also look for every raw patient id of this "
                                "cohort's clinical table (needs the workspace's key)."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
) -> int:
    """Scan a workspace (Parquet, SQLite, JSON, NIfTI headers, PNG text, MLflow artifacts, raw bytes) for
    identifiers; exits 1 when any is found. Identifiers are never printed in full."""
    from clinfusion.privacy.scan import check_tokens, scan_workspace

    wanted: list[str] = []
    if tokens is not None:
        wanted += tokens.read_text(encoding="utf-8").splitlines()
    if cohort is not None:
        wanted += _cohort_ids(cohort, workspace)
    wanted = check_tokens(wanted)
    hits = scan_workspace(workspace, wanted)
    if as_json:
        console.print_json(json.dumps({"workspace": str(workspace), "n_tokens": len(wanted),
                                       "hits": [h.__dict__ for h in hits]}))
    else:
        for h in hits:
            console.print(str(h), markup=False, highlight=False)
        console.print(f"{len(hits)} hit(s) for {len(wanted)} identifier(s) under {workspace}", markup=False)
    return 1 if hits else 0


COMMANDS = {"privacy-scan": privacy_scan}
