"""``clinfusion import <source>``: convert public dataset layouts into a cohort directory."""

from __future__ import annotations

from pathlib import Path

import typer

from clinfusion.cli.console import console

import_app = typer.Typer(help="Import a public dataset layout into a cohort directory.", no_args_is_help=True)


@import_app.command("tcga")
def tcga(
    csv: Path = typer.Option(..., "--csv", help="tcga_<c>_all_clean.csv[.zip] (one row per slide)."),
    splits: Path = typer.Option(..., "--splits", help="Folder of splits_{k}.csv (,train,val case ids)."),
    out: Path = typer.Option(..., "--out", "-o", help="Cohort directory to create."),
    clinical: Path = typer.Option(None, "--clinical", help="TCGA-CDR CSV (adds AJCC stage and grade)."),
    gene_sets: list[Path] = typer.Option(None, "--gene-sets", help="Gene-set file (GMT/CSV), repeatable; default: "
                                         "*_signatures.csv in ../gene_sets beside the CSV's folder, else the "
                                         "packaged default collection (34 curated sets)."),
    name: str = typer.Option(None, help="Cohort name (default from the CSV name, e.g. tcga-blca)."),
    fmt: str = typer.Option("parquet", "--format", help="Genomic table format: parquet or tsv."),
    overwrite: bool = typer.Option(False, help="Replace a non-empty output directory."),
) -> int:
    """TCGA multi-omics CSV + splits (+ TCGA-CDR) -> cohort dir with clinical.csv, genomics/ and splits/."""
    from clinfusion.errors import ConfigError
    from clinfusion.importers.tcga import import_tcga

    if fmt not in ("parquet", "tsv"):
        raise ConfigError(f"unknown format {fmt!r}; expected one of ['parquet', 'tsv']", field="--format")
    r = import_tcga(csv, splits, out, clinical=clinical, gene_sets=list(gene_sets) if gene_sets else None,
                    name=name, fmt=fmt, overwrite=overwrite)  # type: ignore[arg-type]  # fmt checked against the Literal above
    blocks = ", ".join(f"{b} {p}x{g}" for b, (p, g) in r.genomics.items())
    console.print(f"imported {r.name} into {r.out}: {r.n_slides} slides -> {r.n_patients} patients; genomics: {blocks}; "
                  f"CDR matched: {r.clinical.get('cdr_matched', 0)}; folds: {r.n_folds}")
    cov = r.gene_set_coverage
    console.print(f"gene sets ({r.gene_set_source}): {', '.join(r.gene_set_files)}; {cov['sets_with_genes']} of "
                  f"{cov['sets']} sets have genes in the data ({cov['genes_found']} genes)", highlight=False)
    if r.gene_set_source == "packaged default":
        console.print("  no gene sets given or found beside the data: using ClinFusion's packaged default collection; "
                      "pass --gene-sets FILE for your own (e.g. MSigDB Hallmark)", highlight=False)
    return 0


COMMANDS = {"import": import_app}
