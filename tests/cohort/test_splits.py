from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from clinfusion.cohort.splits import check_splits, read_split_dir, read_split_file, stratified_kfold
from clinfusion.errors import CohortSpecError
from clinfusion.testing import requires_shared_data, shared_data_dir


def test_kfold_partitions_patients_and_keeps_strata() -> None:
    ids = [f"p{i}" for i in range(103)]
    events = [1 if i % 3 == 0 else 0 for i in range(103)]
    splits = stratified_kfold(ids, events, k=5, seed=1)
    vals = [p for s in splits for p in s.val]
    assert sorted(vals) == sorted(ids)  # every patient validates exactly once
    for s in splits:
        assert not set(s.train) & set(s.val)
        assert set(s.train) | set(s.val) == set(ids)
    ev = dict(zip(ids, events, strict=True))
    rates = [sum(ev[p] for p in s.val) / len(s.val) for s in splits]
    assert max(rates) - min(rates) < 0.1
    sizes = [len(s.val) for s in splits]
    assert max(sizes) - min(sizes) <= 1


def test_kfold_is_deterministic_and_seed_dependent() -> None:
    ids = [f"p{i}" for i in range(30)]
    assert stratified_kfold(ids, None, 3, seed=4) == stratified_kfold(ids, None, 3, seed=4)
    assert stratified_kfold(ids, None, 3, seed=4) != stratified_kfold(ids, None, 3, seed=5)


def test_kfold_rejects_bad_k() -> None:
    with pytest.raises(ValueError, match="between 2"):
        stratified_kfold(["a", "b"], None, k=3)


def test_split_file_with_overlap_is_an_error(tmp_path: Path) -> None:
    pd.DataFrame({"train": ["a", "b"], "val": ["b", None]}).to_csv(tmp_path / "splits_0.csv")
    with pytest.raises(CohortSpecError, match="both train and val"):
        read_split_file(tmp_path / "splits_0.csv")
    pd.DataFrame({"training": ["a"]}).to_csv(tmp_path / "splits_1.csv")
    with pytest.raises(CohortSpecError, match="train"):
        read_split_file(tmp_path / "splits_1.csv")


@requires_shared_data("genomics/tcga/splits/tcga_blca")
def test_tcga_published_splits_read() -> None:
    splits = read_split_dir(shared_data_dir() / "genomics/tcga/splits/tcga_blca")
    assert [s.fold for s in splits] == [0, 1, 2, 3, 4]
    counts = Counter(p for s in splits for p in s.val)
    assert max(counts.values()) == 1  # no patient validates twice
    everyone = set(counts)
    for s in splits:
        assert not set(s.train) & set(s.val)
    assert check_splits(splits, everyone | {p for s in splits for p in s.train}, "splits") == []
    assert check_splits(splits, set(), "splits")[0].field == "fold 0"
