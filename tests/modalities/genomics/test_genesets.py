"""Gene-set files: GMT, set tables, 0/1 membership matrices (tiny and the real Hallmark/family files)."""

from __future__ import annotations

import pandas as pd
import pytest
from clinfusion.errors import IngestError
from clinfusion.modalities.genomics.genesets import (
    coverage,
    is_gene_set_path,
    merge_gene_sets,
    read_gene_sets,
    set_scores,
)
from clinfusion.testing import requires_shared_data, shared_data_dir


def test_gmt_table_and_membership_formats(tmp_path):
    (tmp_path / "a.gmt").write_text("S1\tdesc\tTP53\tkras\tTP53\nS2\t\tMYC\n")
    assert read_gene_sets(tmp_path / "a.gmt") == {"S1": ["TP53", "KRAS"], "S2": ["MYC"]}
    pd.DataFrame({"S1": ["TP53", "KRAS"], "S2": ["MYC", ""]}).to_csv(tmp_path / "t.csv", index=False)
    assert read_gene_sets(tmp_path / "t.csv") == {"S1": ["TP53", "KRAS"], "S2": ["MYC"]}
    pd.DataFrame({"": ["TP53", "KRAS", "MYC"], "S1": [1, 1, 0], "S2": [0, 0, 1]}).to_csv(tmp_path / "c.csv", index=False)
    assert read_gene_sets(tmp_path / "c.csv") == {"S1": ["TP53", "KRAS"], "S2": ["MYC"]}
    (tmp_path / "bad.gmt").write_text("ONLYNAME\n")
    with pytest.raises(IngestError, match="line 1"):
        read_gene_sets(tmp_path / "bad.gmt")


def test_helpers():
    assert is_gene_set_path("genomics/gene_sets/h.csv") and is_gene_set_path("genomics/x.gmt")
    assert not is_gene_set_path("genomics/expression.tsv")
    merged, source = merge_gene_sets({"a": {"S": ["X"]}, "b": {"S": ["Y"], "T": ["Z"]}})
    assert merged == {"S": ["X"], "b:S": ["Y"], "T": ["Z"]} and source["b:S"] == "b"
    assert coverage({"S": ["X", "Y"]}, ["X"]) == {"S": (1, 2)}
    frame = pd.DataFrame({"X": [1.0, 3.0], "Y": [3.0, 5.0]}, index=["p1", "p2"])
    scores = set_scores(frame, {"S": ["X", "Y", "Q"], "E": ["Q"]})
    assert list(scores.columns) == ["S"] and scores.loc["p2", "S"] == 4.0


@requires_shared_data("genomics/gene_sets")
def test_real_hallmark_and_family_files():
    base = shared_data_dir() / "genomics" / "gene_sets"
    hall = read_gene_sets(base / "hallmarks_signatures.csv")
    comps = read_gene_sets(base / "hallmarks_comps.csv")
    fam = read_gene_sets(base / "six_families_signatures.csv")
    assert len(hall) == 50 and len(fam) == 6
    assert "HALLMARK_HYPOXIA" in hall and "Oncogenes" in fam
    assert set(comps) == set(hall)
    assert all(set(comps[k]) == set(hall[k]) for k in hall)  # the 0/1 matrix encodes the same sets
