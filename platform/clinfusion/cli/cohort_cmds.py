"""Commands on cohorts and workspaces: validate, ingest, catalog, export."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from clinfusion.cli.console import console, err_console, print_frame
from clinfusion.cli.locking import writes_workspace

EXIT_QUARANTINED = 2


def validate(cohort_dir: Path = typer.Argument(..., help="Cohort directory (with cohort.yaml).")) -> int:
    """Check a cohort directory and list every problem found."""
    from clinfusion.ingest.validate import validate_cohort

    report = validate_cohort(cohort_dir)
    if report.ok:
        s = report.summary
        files = ", ".join(f"{m} {n}" for m, n in s["files"].items())
        console.print(f"[green]ok[/]: cohort {s['name']!r}: {s['patients']} patients; files: {files}; folds: {s['folds']}")
        return 0
    err_console.print(f"[bold red]{len(report.problems)} problem(s)[/] in {cohort_dir}:")
    for p in report.problems:
        err_console.print(f"  - {p}", highlight=False, markup=False)
    raise typer.Exit(1)


@writes_workspace("ingest", create=True)
def ingest(
    cohort_dir: Path = typer.Argument(..., help="Cohort directory (with cohort.yaml)."),
    workspace: Path = typer.Option(..., "--workspace", "-w", help="Workspace directory (created if missing)."),
    workers: int = typer.Option(1, help="Worker processes for reading items; with fewer items than workers, "
                                "the rest read tiles of a slide in parallel (same results)."),
    force: bool = typer.Option(False, help="Re-read every item even if unchanged."),
    demo: bool = typer.Option(False, help="Generate a local pseudonymisation key if none is configured."),
) -> int:
    """Ingest a cohort into a workspace: read, validate, de-identify; quarantine bad items."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from clinfusion.ingest import ingest as run_ingest

    with Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("ingest", total=None)

        def on_item(done: int, total: int, row: dict) -> None:
            bar.update(task, completed=done, total=total)

        report = run_ingest(cohort_dir, workspace, demo=demo, workers=workers, force=force, on_item=on_item)
    console.print(f"ingested into {workspace}: {report.processed} item(s) read, {report.reused} unchanged, "
                  f"{report.removed} removed ({report.seconds:.1f} s)")
    print_frame(report.summary, title="catalog")
    if report.n_quarantined:
        err_console.print(f"[yellow]{report.n_quarantined} item(s)/file(s) quarantined[/]: see "
                          f"`clinfusion catalog {workspace}` or {report.workspace.quarantine_path}")
        raise typer.Exit(EXIT_QUARANTINED)
    return 0


def catalog(
    workspace: Path = typer.Argument(..., help="Workspace directory."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    cohort: Path = typer.Option(None, "--cohort", help="Cohort directory: also show the real paths of "
                                "quarantined files (operator view; needs the key; nothing is written)."),
) -> int:
    """Per modality: items, ingested, quarantined, with the quarantine reasons."""
    from clinfusion.workspace import Workspace, quarantine_table, read_catalog, summarize

    ws = Workspace.open(workspace)
    cat = read_catalog(ws)
    summary, quarantine = summarize(cat), quarantine_table(cat)
    if cohort is not None:
        from clinfusion.ingest.locate import real_paths

        real = real_paths(ws, cohort)
        quarantine.insert(3, "path", [real.get(s, "(no longer in the cohort)") for s in quarantine["source"]])
    if as_json:
        out = {"workspace": str(workspace), "modalities": summary.to_dict(orient="records"),
               "quarantine": quarantine.to_dict(orient="records")}
        console.print_json(json.dumps(out, default=str))
        return 0
    print_frame(summary, title=f"catalog of {workspace}")
    if len(quarantine):
        print_frame(quarantine, title="quarantine")
    return 0


def export(
    workspace: Path = typer.Argument(..., help="Workspace directory."),
    modality: str = typer.Option(..., "--modality", "-m", help="Modality to export."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .csv or .parquet."),
) -> int:
    """Write a table of a modality's interpretable per-item features and metadata."""
    from clinfusion.errors import ConfigError
    from clinfusion.modalities.export import export_modality
    from clinfusion.workspace import Workspace
    from clinfusion.workspace.csvsafe import write_csv

    if out.suffix not in (".csv", ".parquet"):
        raise ConfigError("expected an output file ending in .csv or .parquet", file=out, field="--out")
    table = export_modality(Workspace.open(workspace), modality)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        write_csv(table, out)  # text cells starting like a formula get a leading ' (OWASP)
    else:
        table.to_parquet(out, index=False)
    from clinfusion.review import audit
    from clinfusion.review.users import cli_actor

    audit.record(workspace, cli_actor(), "cli", "export", modality=modality, rows=len(table), file=out.name)
    console.print(f"wrote {len(table)} row(s) x {table.shape[1]} column(s) of {modality} to {out}")
    return 0


COMMANDS = {"validate": validate, "ingest": ingest, "catalog": catalog, "export": export}
