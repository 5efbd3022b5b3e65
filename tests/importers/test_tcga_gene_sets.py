"""`clinfusion import tcga` never writes a cohort without gene sets (issue 23)."""

from __future__ import annotations

import pytest
from clinfusion.cli.app import main
from clinfusion.errors import IngestError
from clinfusion.importers.tcga import import_tcga, packaged_gene_sets
from clinfusion.modalities.genomics.genesets import read_gene_sets
from clinfusion.testing.tcga import write_tcga_inputs


def test_csv_without_gene_sets_beside_it_gets_the_packaged_collection(tmp_path):
    csv, splits = write_tcga_inputs(tmp_path / "anywhere", 12)
    r = import_tcga(csv, splits, tmp_path / "cohort")
    copied = tmp_path / "cohort" / "genomics" / "gene_sets" / "gene_sets.gmt"
    assert r.gene_set_source == "packaged default" and r.gene_set_files == ["gene_sets.gmt"]
    assert copied.read_bytes() == packaged_gene_sets().read_bytes()
    assert len(read_gene_sets(copied)) == r.gene_set_coverage["sets"] == 34
    assert r.gene_set_coverage["genes_found"] == 8 and r.gene_set_coverage["sets_with_genes"] >= 3
    assert "Apache-2.0" in (packaged_gene_sets().parent / "README.md").read_text()  # the licence ships beside it


def test_gene_sets_that_match_no_gene_are_refused_before_writing(tmp_path):
    csv, splits = write_tcga_inputs(tmp_path / "in", 12, genes=("NOTAGENE1", "NOTAGENE2"))
    with pytest.raises(IngestError, match="--gene-sets"):
        import_tcga(csv, splits, tmp_path / "cohort")
    assert not (tmp_path / "cohort").exists()


def test_cli_names_the_gene_sets_and_refuses_a_missing_file(tmp_path, capsys):
    csv, splits = write_tcga_inputs(tmp_path / "in", 12)
    assert main(["import", "tcga", "--csv", str(csv), "--splits", str(splits), "--out", str(tmp_path / "c1")]) == 0
    out = capsys.readouterr().out
    assert "gene sets (packaged default): gene_sets.gmt" in out
    rc = main(["import", "tcga", "--csv", str(csv), "--splits", str(splits), "--out", str(tmp_path / "c2"),
               "--gene-sets", str(tmp_path / "missing.gmt")])
    captured = capsys.readouterr()
    assert rc == 1 and "gene-set file not found" in captured.err + captured.out
    assert "Traceback" not in captured.err + captured.out
