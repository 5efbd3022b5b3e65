"""Synthetic bulk expression (genes x patients, log-normal counts) and a mutation table.

Genes and gene sets come from ``synth/data/gene_sets.gmt`` (real HGNC symbols, 34 sets). A set's
activity in a patient is a linear function of the latents (:data:`SET_DRIVERS`) plus noise;
a gene's log-expression is its baseline plus the activities of the sets that contain it, and the
written value is a count drawn log-normally around it. Only patients who have genomics appear
as columns (and in the mutation table).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.synth.latent import rng_for

GENE_SET_FILE = "gene_sets.gmt"
SET_DRIVERS: dict[str, dict[str, float]] = {
    "CF_E2F_TARGETS": {"proliferation": 1.0},
    "CF_G2M_CHECKPOINT": {"proliferation": 1.0},
    "CF_MITOTIC_SPINDLE": {"proliferation": 0.8},
    "CF_MYC_TARGETS": {"proliferation": 0.6, "tumour_burden": 0.2},
    "CF_INTERFERON_GAMMA_RESPONSE": {"immune": 1.0},
    "CF_CYTOTOXIC_T_CELL": {"immune": 1.0},
    "CF_B_CELL": {"immune": 0.6},
    "CF_ANTIGEN_PRESENTATION": {"immune": 0.8},
    "CF_IMMUNE_CHECKPOINT": {"immune": 0.7},
    "CF_HYPOXIA": {"tumour_burden": 0.9},
    "CF_EPITHELIAL_MESENCHYMAL_TRANSITION": {"tumour_burden": 0.8},
    "CF_ANGIOGENESIS": {"tumour_burden": 0.6},
    "CF_GLYCOLYSIS": {"tumour_burden": 0.5, "proliferation": 0.3},
    "CF_KERATINIZATION": {"immune": 0.6},
    "CF_NEUROENDOCRINE": {"proliferation": 0.7, "immune": -0.3},
}
"""Set -> {latent: weight}; sets not listed vary only by noise."""
SET_NOISE_SD, GENE_NOISE_SD = 0.5, 0.35
_MUTATIONS = (  # gene, intercept, {latent: slope}, protein changes, variant class
    ("TP53", -0.3, {"proliferation": 1.0}, ("R175H", "R248Q", "R273H", "Y220C", "G245S"), "Missense_Mutation"),
    ("KRAS", -1.0, {"tumour_burden": 0.6}, ("G12C", "G12D", "G12V", "Q61H"), "Missense_Mutation"),
    ("STK11", -1.8, {"immune": -0.8}, ("Q37*", "R86*"), "Nonsense_Mutation"),
    ("EGFR", -2.0, {}, ("L858R", "T790M"), "Missense_Mutation"),
    ("KEAP1", -2.0, {}, ("G333C", "R470C"), "Missense_Mutation"),
    ("PIK3CA", -2.4, {}, ("E545K", "H1047R"), "Missense_Mutation"),
    ("BRAF", -2.9, {}, ("V600E",), "Missense_Mutation"),
)


def load_gene_sets() -> dict[str, list[str]]:
    """The packaged gene sets: name -> gene symbols (GMT: name, description, genes...)."""
    text = resources.files("clinfusion.synth").joinpath("data", GENE_SET_FILE).read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 3:
            out[parts[0]] = [g for g in parts[2:] if g]
    return out


def set_activities(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """True gene-set activities, patients x sets (noise included: what the expression encodes)."""
    sets = load_gene_sets()
    act = np.array([rng_for(seed, "genomics", "activity", p).normal(0, SET_NOISE_SD, len(sets))
                    for p in frame["patient_id"]]).reshape(len(frame), len(sets))
    for j, name in enumerate(sets):
        for latent, w in SET_DRIVERS.get(name, {}).items():
            act[:, j] += w * frame[latent].to_numpy()
    return pd.DataFrame(act, index=frame["patient_id"].to_numpy(), columns=list(sets))


def expression_matrix(activity: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Counts, genes (rows, sorted symbols) x patients (columns), log-normal around the signal."""
    sets = load_gene_sets()
    genes = sorted({g for gs in sets.values() for g in gs})
    index = {g: i for i, g in enumerate(genes)}
    rng = rng_for(seed, "genomics", "genes")
    loading = np.zeros((len(genes), len(sets)))
    for j, gs in enumerate(sets.values()):
        for g in gs:
            loading[index[g], j] = rng.uniform(0.5, 1.0)
    baseline = rng.normal(5.0, 1.5, len(genes))  # natural-log scale: ~150 counts
    log_mu = baseline[:, None] + loading @ activity.to_numpy().T
    # one draw per patient keyed by id, so adding patients does not change the others' counts
    noise = np.stack([rng_for(seed, "genomics", "noise", p).normal(0, GENE_NOISE_SD, len(genes))
                      for p in activity.index], axis=1) if len(activity) else np.zeros((len(genes), 0))
    counts = np.round(np.exp(log_mu + noise)).astype(np.int64)
    out = pd.DataFrame(counts, index=pd.Index(genes, name="gene"), columns=activity.index)
    return out


def mutation_table(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One row per (patient, mutated gene): patient_id, gene, variant_classification, protein_change, vaf."""
    rows = []
    for _, r in frame.iterrows():
        rng = rng_for(seed, "genomics", "mutations", r["patient_id"])
        for gene, b, slopes, changes, vclass in _MUTATIONS:
            logit = b + sum(w * r[k] for k, w in slopes.items())
            if rng.random() < 1 / (1 + np.exp(-logit)):
                rows.append((r["patient_id"], gene, vclass, "p." + changes[int(rng.integers(len(changes)))],
                             round(float(rng.uniform(0.05, 0.6)), 3)))
    return pd.DataFrame(rows, columns=["patient_id", "gene", "variant_classification", "protein_change", "vaf"])


def write_genomics(genomics_dir: Path, frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Write ``expression.tsv``, ``mutations.tsv`` and the gene sets (``gene_sets/gene_sets.gmt``,
    as a lab ships its pathway definitions beside its tables) for the patients in ``frame``.

    Returns:
        The true gene-set activities (patients x sets).
    """
    genomics_dir.mkdir(parents=True, exist_ok=True)
    activity = set_activities(frame, seed)
    expression_matrix(activity, seed).to_csv(genomics_dir / "expression.tsv", sep="\t")
    mutation_table(frame, seed).to_csv(genomics_dir / "mutations.tsv", sep="\t", index=False)
    (genomics_dir / "gene_sets").mkdir(exist_ok=True)
    gmt = resources.files("clinfusion.synth").joinpath("data", GENE_SET_FILE).read_bytes()
    (genomics_dir / "gene_sets" / GENE_SET_FILE).write_bytes(gmt)
    return activity
