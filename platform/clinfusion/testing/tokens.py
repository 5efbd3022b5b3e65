"""Random per-modality token sets with a planted survival signal, and workspaces holding them.

Stands in for real encoders in tests and benchmarks of graphs, models and training. Each patient
has a latent risk ``z ~ N(0, 1)``; every modality's tokens are shifted along a fixed random
direction by ``signal * z``; survival times are exponential with hazard ``exp(z)`` and
independent exponential censoring; the diagnosis is ``z + noise > 0``. The clinical covariate
``age`` carries part of ``z`` too, so a clinical-only model is informative but not optimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from clinfusion.featurize.tokens import TokenSet

# (tokens per patient, token dim, kind of positions)
MODALITY_SHAPES: dict[str, tuple[int, int, str]] = {
    "pathology": (10, 12, "xy"),
    "radiology": (3, 8, "none"),
    "ecg": (6, 8, "order"),
    "genomics": (6, 8, "sets"),
    "reports": (4, 10, "order"),
}
GENE_SETS: list[list[str]] = [
    ["TP53", "RB1", "PTEN"],
    ["TP53", "MYC", "KRAS"],
    ["EGFR", "ERBB2", "KRAS"],
    ["CD4", "CD8A"],
    ["IL6", "TNF", "CD4"],
    ["BRCA1", "BRCA2", "RB1"],
]


@dataclass
class TokenCohort:
    """A synthetic cohort at token level.

    Attributes:
        patient_ids: raw patient ids.
        tokens: ``{modality: {patient_id: TokenSet}}`` (missing modalities absent).
        clinical: patient_id, survival_time (days), event, diagnosis, age, stage.
        risk: the planted latent risk per patient (the oracle).
    """

    patient_ids: list[str]
    tokens: dict[str, dict[str, TokenSet]]
    clinical: pd.DataFrame
    risk: np.ndarray
    extra: dict[str, object] = field(default_factory=dict)


def random_token_set(modality: str, rng: np.random.Generator, shift: np.ndarray | None = None, z: float = 0.0) -> TokenSet:
    """One modality's tokens for one patient (shapes from :data:`MODALITY_SHAPES`)."""
    t, d, kind = MODALITY_SHAPES[modality]
    x = rng.normal(size=(t, d)) + (0.0 if shift is None else z * shift[None, :])
    if kind == "xy":
        return TokenSet(x, positions=rng.uniform(0, 5000, size=(t, 2)))
    if kind == "order":
        return TokenSet(x, positions=np.arange(t, dtype=np.float32))
    if kind == "sets":
        names = [f"set{i}" for i in range(t)]
        return TokenSet(x, names=names, meta={"set_members": GENE_SETS[:t]})
    return TokenSet(x)


def make_token_cohort(
    n_patients: int = 40,
    modalities: tuple[str, ...] = ("genomics", "pathology"),
    *,
    seed: int = 0,
    signal: float = 1.0,
    missing_rate: float = 0.0,
) -> TokenCohort:
    """Random token sets for a cohort with a planted survival signal.

    Args:
        n_patients: patients (ids ``SYN0000`` ...).
        modalities: which of :data:`MODALITY_SHAPES` to make.
        seed: random seed (the cohort is a pure function of the arguments).
        signal: strength of the latent risk in the tokens.
        missing_rate: probability that a patient lacks a modality (at least one is kept).
    """
    rng = np.random.default_rng(seed)
    ids = [f"SYN{i:04d}" for i in range(n_patients)]
    z = rng.normal(size=n_patients)
    shifts = {m: signal * rng.normal(size=MODALITY_SHAPES[m][1]) / np.sqrt(MODALITY_SHAPES[m][1]) * 2 for m in modalities}
    tokens: dict[str, dict[str, TokenSet]] = {m: {} for m in modalities}
    for i, pid in enumerate(ids):
        present = [m for m in modalities if rng.uniform() >= missing_rate] or [modalities[i % len(modalities)]]
        for m in present:
            tokens[m][pid] = random_token_set(m, rng, shifts[m], float(z[i]))
    t_event = rng.exponential(1000.0 * np.exp(-z))
    t_cens = rng.exponential(1500.0, n_patients)
    clinical = pd.DataFrame(
        {
            "patient_id": ids,
            "survival_time": np.round(np.maximum(np.minimum(t_event, t_cens), 1.0), 1),
            "event": (t_event <= t_cens).astype(int),
            "diagnosis": np.where(z + rng.normal(scale=0.7, size=n_patients) > 0, "high", "low"),
            "age": np.round(60 + 6 * z + 8 * rng.normal(size=n_patients)).astype(int),
            "stage": rng.choice(["I", "II", "III"], n_patients),
        }
    )
    return TokenCohort(ids, tokens, clinical, z)


def write_token_workspace(cohort: TokenCohort, root: str | Path, *, encoder: str = "test", demo: bool = False):
    """Ingest the cohort's clinical table into a workspace and write its tokens to the cache.

    The cohort directory is ``root/cohort`` and the workspace ``root/ws``. Tokens go through
    :mod:`clinfusion.featurize.cache` under ``tokens/<modality>/<encoder>/`` keyed by the
    workspace pseudonyms, exactly as the featurize runner stores them.

    Returns:
        The :class:`~clinfusion.workspace.Workspace`.
    """
    from clinfusion.featurize import cache
    from clinfusion.ingest import ingest
    from clinfusion.privacy import Pseudonymizer, load_key

    root = Path(root)
    cdir = root / "cohort"
    cdir.mkdir(parents=True, exist_ok=True)
    cohort.clinical.to_csv(cdir / "clinical.csv", index=False)
    (cdir / "cohort.yaml").write_text(yaml.safe_dump({"name": "tokens"}))
    ws = ingest(cdir, root / "ws", demo=demo).workspace
    pz = Pseudonymizer(load_key(ws.root))
    for m, per in cohort.tokens.items():
        index: dict[str, dict] = {"patients": {}, "failed": {}}
        for raw, ts in per.items():
            pid = pz.patient(raw)
            key = f"{m}{raw}".encode().hex().ljust(16, "0")
            path = cache.token_path(ws, m, encoder, pid, key)
            cache.write_tokens(path, ts)
            index["patients"][pid] = {"file": path.name, "key": key}
        cache.write_index(ws, m, encoder, index)
    return ws
