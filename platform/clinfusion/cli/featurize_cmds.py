"""``clinfusion featurize``: run modality encoders over a workspace, with the token cache."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from clinfusion.cli.console import console, err_console, print_frame
from clinfusion.cli.locking import writes_workspace

EXIT_FAILED = 2


@writes_workspace("featurize")
def featurize(
    workspace: Path = typer.Option(..., "--workspace", "-w", help="Workspace directory (ingested)."),
    modality: list[str] = typer.Option(None, "--modality", "-m", help="Modality (repeatable); default: every "
                                       "ingested modality that has encoders."),
    encoder: str = typer.Option(None, "--encoder", "-e", help="Encoder name (default: the modality's default)."),
    workers: int = typer.Option(1, help="Worker processes."),
    force: bool = typer.Option(False, help="Recompute even when cached."),
    option: list[str] = typer.Option(None, "--option", "-o", help="Encoder setting KEY=VALUE (repeatable), e.g. "
                                     "-e local_transformer -o model_path=DIR; see the modality's guide."),
) -> int:
    """Turn ingested data into tokens per (patient, modality); cached by content hash."""
    from rich.markup import escape

    from clinfusion.configio import parse_options, validate_config
    from clinfusion.errors import ClinFusionError
    from clinfusion.featurize import featurize as run
    from clinfusion.modalities.registry import encoder_class, encoders
    from clinfusion.workspace import Workspace, read_catalog

    ws = Workspace.open(workspace)
    cat = read_catalog(ws)
    present = sorted(set(cat.loc[cat["status"] == "ingested", "modality"]))
    wanted = list(modality) if modality else [m for m in present if encoders(m)]
    if not wanted:
        err_console.print("nothing to featurize: no ingested modality has encoders yet")
        return 0
    rows, failed = [], 0
    for m in wanted:
        cls = encoder_class(m, encoder)
        enc = cls(validate_config(cls.Config, parse_options(option), f"{m} encoder {cls.name!r} (--option KEY=VALUE)"))
        try:
            rep = run(ws, enc, workers=workers, force=force)
        except ClinFusionError as err:  # one modality's setup failing must not stop the others
            err_console.print(f"[red]{m}[/]: {escape(str(err))}", highlight=False)
            rows.append({"modality": m, "encoder": enc.name, "encoded": 0, "cached": 0, "failed": "all", "seconds": 0})
            failed += 1
            continue
        rows.append(rep.as_dict())
        failed += len(rep.failed)
        for pid, reason in sorted(rep.recomputed.items()):  # a cached file that failed verification
            err_console.print(f"  [yellow]{m}[/] {pid}: cache not trusted, recomputed ({escape(reason)})", highlight=False)
        for pid, reason in sorted(rep.failed.items()):
            err_console.print(f"  [yellow]{m}[/] {pid}: {escape(reason)}", highlight=False)
    table = pd.DataFrame(rows)[["modality", "encoder", "encoded", "cached", "failed", "seconds"]]
    print_frame(table, title="featurize")
    console.print(f"tokens under {ws.tokens_dir}")
    if failed:
        raise typer.Exit(EXIT_FAILED)
    return 0


COMMANDS = {"featurize": featurize}
