"""A tiny TCGA-layout CSV (PORPOISE/MCAT ``tcga_<c>_all_clean.csv``) and its split files, for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_GENES: tuple[str, ...] = ("MKI67", "TOP2A", "CCNB1", "CD8A", "GZMB", "PRF1", "VEGFA", "CA9")
"""Genes of the packaged default gene sets (``clinfusion/synth/data/gene_sets.gmt``)."""


def write_tcga_inputs(folder: str | Path, n_cases: int = 20, *, genes: tuple[str, ...] = DEFAULT_GENES,
                      seed: int = 0, n_folds: int = 2) -> tuple[Path, Path]:
    """Write ``folder/tcga_test_all_clean.csv`` (one row per case, rnaseq and mut blocks) and
    ``folder/splits/splits_{k}.csv``; no ``gene_sets/`` folder anywhere near them.

    Returns:
        (csv path, splits folder).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = [f"TCGA-XX-{i:04d}" for i in range(n_cases)]
    frame = pd.DataFrame({"case_id": ids, "slide_id": [f"{c}-01Z.svs" for c in ids],
                          "survival_months": np.round(rng.uniform(1, 80, n_cases), 2),
                          "censorship": rng.integers(0, 2, n_cases), "age": rng.integers(40, 85, n_cases),
                          "is_female": rng.integers(0, 2, n_cases), "oncotree_code": rng.choice(["A", "B"], n_cases)})
    for g in genes:
        frame[f"{g}_rnaseq"] = np.round(rng.normal(size=n_cases), 4)
        frame[f"{g}_mut"] = rng.integers(0, 2, n_cases)
    csv = folder / "tcga_test_all_clean.csv"
    frame.to_csv(csv, index=False)
    splits = folder / "splits"
    splits.mkdir(exist_ok=True)
    for k in range(n_folds):
        val = ids[k::n_folds]
        train = [c for c in ids if c not in val]
        width = max(len(train), len(val))
        pd.DataFrame({"train": train + [None] * (width - len(train)),
                      "val": val + [None] * (width - len(val))}).to_csv(splits / f"splits_{k}.csv")
    return csv, splits
