"""TCGA importer: PORPOISE/MCAT multi-omics CSV + published splits (+ TCGA-CDR) -> a cohort directory.

Input: ``tcga_<c>_all_clean.csv(.zip)`` with one row per diagnostic SLIDE (so cases repeat),
``case_id``, ``survival_months``, ``censorship`` (1 = censored), ``age``, ``is_female``,
``oncotree_code`` and gene blocks ``<GENE>_rnaseq``, ``<GENE>_cnv``, ``<GENE>_mut``.

Output::

    COHORT_DIR/cohort.yaml            covariate types (stage ordinal with sub-stages), genomics options
    COHORT_DIR/clinical.csv           one row per case (see tcga_clinical.py)
    COHORT_DIR/genomics/rnaseq.<fmt>  samples x genes (patient_id column, gene symbols as columns)
    COHORT_DIR/genomics/cnv.<fmt>     GISTIC -2..2
    COHORT_DIR/genomics/mut.<fmt>     0/1
    COHORT_DIR/genomics/gene_sets/    copied gene-set files (GMT/CSV): ``--gene-sets``, else the
                                      ``gene_sets/`` folder beside the TCGA data, else the packaged
                                      default collection (:func:`packaged_gene_sets`)
    COHORT_DIR/splits/splits_{k}.csv  the given folds, unchanged
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from clinfusion.cohort.splits import check_splits, read_split_dir
from clinfusion.errors import ConfigError, IngestError
from clinfusion.importers.tcga_clinical import STAGE_LEVELS, clinical_frame, read_cdr

BLOCKS: tuple[str, ...] = ("rnaseq", "cnv", "mut")
"""Column-suffix blocks of the CSV; each becomes ``genomics/<block>.<fmt>``."""
_REQUIRED = ("case_id", "survival_months", "censorship", "age", "is_female", "oncotree_code")


@dataclass
class TcgaImport:
    """What :func:`import_tcga` wrote.

    Attributes:
        out: the cohort directory.
        name: cohort name.
        n_slides: CSV rows; n_patients: unique case ids (= clinical rows).
        n_inconsistent: cases whose slide rows disagree on any non-slide column (first row kept).
        genomics: block -> (patients, genes).
        clinical: report of the clinical merge (CDR matches, missing values per column).
        n_folds: split files copied; gene_set_files: gene-set files copied.
        gene_set_source: where they came from (``--gene-sets``, ``beside the TCGA data``, ``packaged default``).
        gene_set_coverage: ``{"sets", "sets_with_genes", "genes_found"}``: how many sets have at least
            one gene in the imported tables.
    """

    out: Path
    name: str
    n_slides: int = 0
    n_patients: int = 0
    n_inconsistent: int = 0
    genomics: dict[str, tuple[int, int]] = field(default_factory=dict)
    clinical: dict[str, Any] = field(default_factory=dict)
    n_folds: int = 0
    gene_set_files: list[str] = field(default_factory=list)
    gene_set_source: str = ""
    gene_set_coverage: dict[str, int] = field(default_factory=dict)


def cancer_name(csv: Path) -> str:
    """``tcga_blca_all_clean.csv.zip`` -> ``tcga-blca`` (else the file stem, sanitised)."""
    m = re.match(r"(tcga)_([a-z0-9]+)", csv.name.lower())
    return f"{m.group(1)}-{m.group(2)}" if m else re.sub(r"[^A-Za-z0-9_.-]", "-", csv.name.split(".")[0])[:64]


def read_slides(csv: Path) -> pd.DataFrame:
    """Read the slide CSV (plain or zipped).

    Raises:
        IngestError: unreadable, or a required column is missing.
    """
    try:
        df = pd.read_csv(csv, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as err:
        raise IngestError(f"cannot read TCGA CSV: {err}", file=csv.name) from None
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise IngestError(f"TCGA CSV lacks column(s) {missing}; expected the PORPOISE/MCAT layout", file=csv.name)
    df["case_id"] = df["case_id"].astype(str).str.strip()
    return df


def dedupe_cases(slides: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per ``case_id`` (first slide); also count cases whose rows disagree outside slide columns."""
    per_case = [c for c in slides.columns if c not in ("slide_id", "Unnamed: 0", "train", "case_id")]
    first = slides.drop_duplicates("case_id").set_index("case_id")
    repeated = slides[slides["case_id"].duplicated(keep="first")]
    if not len(repeated):
        return first, 0
    # compare every extra slide row with its case's first row (NaN == NaN counts as equal)
    a = repeated[per_case].reset_index(drop=True)
    b = first.loc[repeated["case_id"], per_case].reset_index(drop=True)
    differs = ((a != b) & ~(a.isna() & b.isna())).any(axis=1).to_numpy()
    return first, int(repeated["case_id"][differs].nunique())


def genomic_blocks(cases: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``<GENE>_<block>`` columns -> per block a ``patient_id``-column frame with gene symbols as columns."""
    out = {}
    for block in BLOCKS:
        cols = [c for c in cases.columns if c.endswith(f"_{block}")]
        if not cols:
            continue
        frame = cases[cols].copy()
        frame.columns = [c[: -len(block) - 1] for c in cols]
        frame.insert(0, "patient_id", cases.index.astype(str))
        out[block] = frame.reset_index(drop=True)
    return out


def default_gene_sets(csv: Path) -> list[Path]:
    """Gene-set tables shipped beside the TCGA data (``<csv>/../../gene_sets/*_signatures.csv``), if any."""
    folder = csv.resolve().parent.parent / "gene_sets"
    return sorted(folder.glob("*_signatures.csv")) if folder.is_dir() else []


PACKAGED_GENE_SETS = ("clinfusion.synth", "data/gene_sets.gmt")
"""The default gene-set collection shipped with ClinFusion (34 curated pathway/cell-type sets, HGNC
symbols, Apache-2.0 like the package; provenance in ``clinfusion/synth/data/README.md``)."""


def packaged_gene_sets() -> Path:
    """Path of the packaged default gene-set collection (GMT)."""
    from importlib import resources

    package, rel = PACKAGED_GENE_SETS
    return Path(str(resources.files(package).joinpath(rel)))


def choose_gene_sets(csv: Path, given: list[Path] | None) -> tuple[list[Path], str]:
    """The gene-set files to copy and where they came from: ``given`` (``--gene-sets``), else
    :func:`default_gene_sets` beside the TCGA data, else :func:`packaged_gene_sets`.

    Raises:
        IngestError: a given file does not exist.
    """
    if given:
        for p in given:
            if not Path(p).is_file():
                raise IngestError("gene-set file not found; expected a GMT or CSV file", file=str(p), field="--gene-sets")
        return [Path(p) for p in given], "--gene-sets"
    beside = default_gene_sets(csv)
    if beside:
        return beside, "beside the TCGA data"
    return [packaged_gene_sets()], "packaged default"


def gene_set_coverage(sets: list[Path], blocks: dict[str, pd.DataFrame]) -> dict[str, int]:
    """How many of the sets' genes the imported tables hold.

    Returns:
        ``{"sets": n, "sets_with_genes": sets with at least one gene in a table, "genes_found": n}``.
    """
    from clinfusion.modalities.genomics.genesets import merge_gene_sets, read_gene_sets

    merged, _ = merge_gene_sets({p.stem: read_gene_sets(p) for p in sets})
    genes = {str(g) for frame in blocks.values() for g in frame.columns[1:]}
    found = {name: genes.intersection(members) for name, members in merged.items()}
    return {"sets": len(merged), "sets_with_genes": sum(bool(f) for f in found.values()),
            "genes_found": len(set().union(*found.values())) if found else 0}


def cohort_yaml(name: str, has_cdr: bool, fmt: str) -> dict[str, Any]:
    """The generated cohort.yaml mapping."""
    covs: dict[str, Any] = {"age": {"type": "numeric"}, "sex": {"type": "categorical", "levels": ["F", "M"]}}
    if has_cdr:
        covs["stage"] = {"type": "ordinal", "levels": list(STAGE_LEVELS)}
        covs["grade"] = {"type": "categorical"}
    return {
        "name": name,
        "id_column": "patient_id",
        "clinical": {"path": "clinical.csv", "time_column": "survival_time", "event_column": "event",
                     "diagnosis_column": "diagnosis", "covariates": covs},
        "modalities": {"genomics": {"paths": ["genomics/**/*"], "options": {
            "orientation": "samples_x_genes", "gene_ids": "symbol", "expression_scale": "as_is",
            "nan_policy": "error", "duplicates": "error",
            "kinds": {f"genomics/rnaseq.{fmt}": "expression", f"genomics/cnv.{fmt}": "cnv",
                      f"genomics/mut.{fmt}": "mutation"}}}},
        "splits": {"dir": "splits", "pattern": "splits_*.csv"},
    }


def _prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError("output directory exists and is not empty; pass --overwrite to replace it",
                              file=out, field="--out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep="\t", index=False)


def import_tcga(
    csv: str | Path,
    splits: str | Path,
    out: str | Path,
    *,
    clinical: str | Path | None = None,
    gene_sets: list[Path] | None = None,
    name: str | None = None,
    fmt: Literal["parquet", "tsv"] = "parquet",
    overwrite: bool = False,
) -> TcgaImport:
    """Convert one TCGA cancer into a cohort directory (layout in the module docstring).

    Args:
        csv: ``tcga_<c>_all_clean.csv[.zip]``.
        splits: folder of ``splits_{k}.csv`` (``,train,val`` case ids).
        out: cohort directory to create.
        clinical: TCGA-CDR CSV (adds stage and grade; fills missing age/sex).
        gene_sets: gene-set files to copy (default: :func:`default_gene_sets` beside the data, else
            the packaged default collection :func:`packaged_gene_sets`).
        name: cohort name (default from the CSV name, e.g. ``tcga-blca``).
        fmt: genomic table format.
        overwrite: replace a non-empty ``out``.

    Raises:
        IngestError: unreadable inputs, split patients missing from the CSV, a missing gene-set file,
            or gene sets none of whose genes are in the CSV (genomics would have no tokens).
        ConfigError: ``out`` exists and is not empty (without ``overwrite``).
    """
    csv, out = Path(csv), Path(out)
    slides = read_slides(csv)
    folds = read_split_dir(Path(splits))
    cases, n_bad = dedupe_cases(slides)
    problems = check_splits(folds, set(cases.index), str(splits))
    if problems:
        raise IngestError("; ".join(p.message for p in problems), file=str(splits), field="case_id")
    cdr = read_cdr(Path(clinical)) if clinical else None
    table, clin_report = clinical_frame(cases, cdr)
    sets, set_source = choose_gene_sets(csv, gene_sets)
    blocks = genomic_blocks(cases)
    coverage = gene_set_coverage(sets, blocks)
    if not coverage["sets_with_genes"]:
        raise IngestError(f"none of the {coverage['sets']} gene sets ({set_source}: {[p.name for p in sets]}) has a "
                          "gene in the CSV's <GENE>_rnaseq/_cnv/_mut columns, so genomics would have no tokens; "
                          "pass gene sets of these genes with --gene-sets FILE", file=csv.name, field="--gene-sets")
    _prepare_out(out, overwrite)
    result = TcgaImport(out, name or cancer_name(csv), len(slides), len(cases), n_bad, clinical=clin_report,
                        gene_set_source=set_source, gene_set_coverage=coverage)
    table.to_csv(out / "clinical.csv", index=False)
    (out / "genomics").mkdir()
    for block, frame in blocks.items():
        _write_table(frame, out / "genomics" / f"{block}.{fmt}")
        result.genomics[block] = (len(frame), frame.shape[1] - 1)
    (out / "genomics" / "gene_sets").mkdir()
    for src in sets:
        shutil.copyfile(src, out / "genomics" / "gene_sets" / src.name)
        result.gene_set_files.append(src.name)
    (out / "splits").mkdir()
    for src in sorted(Path(splits).glob("splits_*.csv")):
        shutil.copyfile(src, out / "splits" / src.name)
    result.n_folds = len(folds)
    spec = cohort_yaml(result.name, cdr is not None, fmt)
    header = (f"# Imported by `clinfusion import tcga` from {csv.name}: {result.n_slides} slides -> "
              f"{result.n_patients} cases.\n# survival_time = survival_months x 30.44 days; event = 1 - censorship.\n")
    (out / "cohort.yaml").write_text(header + yaml.safe_dump(spec, sort_keys=False))
    return result
