"""Pure table handling: orientation, layouts, gene ids, duplicates, non-numeric cells, NaN policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.errors import IngestError
from clinfusion.modalities.genomics import table as tbl

KNOWN = frozenset({"A1", "A2", "A3"})


def _wide(frame: pd.DataFrame, orientation: str = "auto") -> tuple[pd.DataFrame, tbl.TableReport]:
    rep = tbl.TableReport()
    return tbl.to_wide(frame, id_column="patient_id", known=KNOWN, orientation=orientation, report=rep, rel="x.tsv"), rep


def test_genes_x_samples_detected_and_transposed():
    raw = pd.DataFrame({"gene": ["TP53", "KRAS"], "A1": [1, 2], "A2": [3, 4], "A3": [5, 6]})
    wide, rep = _wide(raw)
    assert rep.layout == "genes_x_samples"
    assert list(wide.index) == ["A1", "A2", "A3"] and list(wide.columns) == ["TP53", "KRAS"]
    assert wide.loc["A2", "KRAS"] == 4


def test_samples_x_genes_detected_and_declared_orientation_wins():
    raw = pd.DataFrame({"patient_id": ["A1", "A2"], "TP53": [1.0, 2.0]})
    wide, rep = _wide(raw)
    assert rep.layout == "samples_x_genes" and list(wide.index) == ["A1", "A2"]
    forced, _ = _wide(raw, "genes_x_samples")
    assert list(forced.index) == ["TP53"] and list(forced.columns) == ["A1", "A2"]


def test_no_known_ids_is_a_clear_error():
    raw = pd.DataFrame({"gene": ["TP53"], "Z9": [1]})
    with pytest.raises(IngestError, match="no row label or column header is a patient id"):
        _wide(raw)


def test_long_mutation_table_pivoted_to_counts():
    raw = pd.DataFrame({"patient_id": ["A1", "A1", "A2", "A1"], "gene": ["TP53", "KRAS", "TP53", "TP53"]})
    wide, rep = _wide(raw)
    assert rep.layout == "long"
    assert wide.loc["A1", "TP53"] == 2 and wide.loc["A2", "KRAS"] == 0


def test_ensembl_ids_strip_versions_and_reject_symbols():
    assert tbl.normalize_gene_ids(["ENSG00000141510.16", "ENSG00000133703"], "ensembl", "x") == [
        "ENSG00000141510", "ENSG00000133703"]
    assert tbl.normalize_gene_ids([" tp53"], "symbol", "x") == ["TP53"]
    with pytest.raises(IngestError, match="not an Ensembl gene id"):
        tbl.normalize_gene_ids(["TP53"], "ensembl", "x")


def test_non_numeric_cell_names_gene_not_sample():
    wide = pd.DataFrame({"TP53": ["1.5", "high"], "KRAS": [1.0, 2.0]}, index=["A1", "A2"])
    with pytest.raises(IngestError, match="'high' for gene 'TP53'") as err:
        tbl.coerce_numeric(wide, "x.tsv")
    assert "A2" not in str(err.value)
    ok = tbl.coerce_numeric(pd.DataFrame({"TP53": ["1.5", ""]}, index=["A1", "A2"]), "x.tsv")
    assert ok["TP53"].iloc[0] == 1.5 and np.isnan(ok["TP53"].iloc[1])


def test_duplicates_reported_and_merged_by_policy():
    wide = pd.DataFrame([[1.0, 2.0, 4.0], [3.0, 4.0, 6.0], [5.0, 6.0, 8.0]], index=["A1", "A2", "A1"],
                        columns=["TP53", "KRAS", "TP53"])
    rep = tbl.TableReport()
    merged = tbl.resolve_duplicates(wide, "mean", rep, "x")
    assert rep.duplicate_genes == ["TP53"] and rep.n_duplicate_samples == 1
    assert merged.shape == (2, 2)
    assert merged.loc["A1", "TP53"] == pytest.approx((1 + 4 + 5 + 8) / 4)
    first = tbl.resolve_duplicates(wide, "first", tbl.TableReport(), "x")
    assert first.loc["A1", "TP53"] == 1.0
    with pytest.raises(IngestError, match="duplicate"):
        tbl.resolve_duplicates(wide, "error", tbl.TableReport(), "x")


@pytest.mark.parametrize(("policy", "expected"), [("zero", 0.0), ("sample_median", 2.0)])
def test_nan_imputation_is_per_sample(policy, expected):
    wide = pd.DataFrame({"G1": [1.0, 10.0], "G2": [np.nan, 20.0], "G3": [3.0, 30.0]}, index=["A1", "A2"])
    rep = tbl.TableReport()
    out = tbl.handle_nan(wide, policy, rep, "x")
    assert out.loc["A1", "G2"] == expected and rep.n_imputed == 1
    assert out.loc["A2", "G2"] == 20.0


def test_nan_error_and_drop_gene():
    wide = pd.DataFrame({"G1": [1.0, 2.0], "G2": [np.nan, 1.0]}, index=["A1", "A2"])
    with pytest.raises(IngestError, match="1 missing value"):
        tbl.handle_nan(wide, "error", tbl.TableReport(), "x")
    rep = tbl.TableReport()
    assert list(tbl.handle_nan(wide, "drop_gene", rep, "x").columns) == ["G1"] and rep.dropped_genes == ["G2"]


def test_scale_checks():
    neg = pd.DataFrame({"G1": [-1.0]}, index=["A1"])
    with pytest.raises(IngestError, match="declared as counts"):
        tbl.check_scale(neg, "expression", "counts", "x")
    tbl.check_scale(neg, "expression", "as_is", "x")
    with pytest.raises(IngestError, match="mutation"):
        tbl.check_scale(neg, "mutation", "as_is", "x")
