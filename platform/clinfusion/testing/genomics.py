"""Tiny genomics inputs for tests and notebooks: the three layouts the genomics reader accepts.

``write_tiny_genomics(root, patients)`` writes into ``root/genomics/``:

- ``expression.tsv``: genes x samples counts (first column ``gene``);
- ``cnv.csv``: samples x genes GISTIC values (first column ``patient_id``);
- ``mutations.tsv``: long MAF-like rows (``patient_id``, ``gene``, ``protein_change``);
- ``gene_sets/tiny.gmt``: three small sets, one with a gene that no table has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TINY_GENES: tuple[str, ...] = ("TP53", "KRAS", "EGFR", "MYC", "CDK4", "CD8A", "GZMB", "PDCD1")
TINY_SETS: dict[str, list[str]] = {
    "PROLIF": ["MYC", "CDK4", "TP53"],
    "IMMUNE": ["CD8A", "GZMB", "PDCD1"],
    "DRIVERS": ["TP53", "KRAS", "EGFR", "NOT_A_GENE"],
}


@dataclass
class TinyGenomics:
    """What :func:`write_tiny_genomics` wrote (raw sample ids as index)."""

    expression: pd.DataFrame
    cnv: pd.DataFrame
    mutations: pd.DataFrame


def write_tiny_genomics(root: str | Path, patients: list[str], *, seed: int = 0,
                        extra_samples: tuple[str, ...] = ()) -> TinyGenomics:
    """Write the tiny genomics files (see module docstring).

    Args:
        root: cohort directory.
        patients: patient ids (all get expression and CNV; every other one gets mutations).
        seed: random seed.
        extra_samples: sample ids NOT in the clinical table, added to the expression table.
    """
    gdir = Path(root) / "genomics"
    (gdir / "gene_sets").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    samples = [*patients, *extra_samples]
    expr = pd.DataFrame(rng.poisson(50, (len(samples), len(TINY_GENES))), index=samples, columns=list(TINY_GENES))
    expr.T.rename_axis("gene").to_csv(gdir / "expression.tsv", sep="\t")
    cnv = pd.DataFrame(rng.integers(-2, 3, (len(patients), 6)), index=patients, columns=list(TINY_GENES[:6]))
    cnv.rename_axis("patient_id").to_csv(gdir / "cnv.csv")
    rows = [(p, g, "p.X1Y") for i, p in enumerate(patients) if i % 2 == 0 for g in ("TP53", "KRAS")[: 1 + i % 3 % 2]]
    muts = pd.DataFrame(rows, columns=["patient_id", "gene", "protein_change"])
    muts.to_csv(gdir / "mutations.tsv", sep="\t", index=False)
    lines = [f"{name}\tdesc\t" + "\t".join(genes) for name, genes in TINY_SETS.items()]
    (gdir / "gene_sets" / "tiny.gmt").write_text("\n".join(lines) + "\n")
    return TinyGenomics(expr, cnv, muts)
