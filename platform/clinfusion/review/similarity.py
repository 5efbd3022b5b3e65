"""Features for similar patients when a run logged no fused embeddings: mean-pooled tokens.

The prediction panel's similar patients are cosine k-NN (:func:`clinfusion.graph.cohort_similarity_graph`)
of the final model's fused embeddings (``embeddings.csv``). Runs without that artifact fall back to
:func:`pooled_token_features` of the workspace's token caches.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.featurize.tokens import TokenSet


def pooled_token_features(tokens: Mapping[str, Mapping[str, TokenSet]]) -> pd.DataFrame:
    """Per patient, every modality's mean token, standardised, concatenated, with presence flags.

    Each modality block is z-scored over the patients that have the modality (a constant feature
    gets sd 1), set to zeros (the cohort mean) where the modality is missing, and divided by
    ``sqrt(D_m)`` so every modality weighs about the same in a cosine similarity, whatever its token
    dimension; ``has_<m>`` is 1 / 0. Every row has a flag set, so no row is all zeros.

    Args:
        tokens: ``{modality: {pseudonym: TokenSet}}`` (a patient may lack modalities).

    Returns:
        One row per patient (sorted): ``patient_id``, ``<m>_<j>`` features, ``has_<m>`` flags.
    """
    ids = sorted({p for per in tokens.values() for p in per})
    row = {p: i for i, p in enumerate(ids)}
    blocks = {}
    for m in sorted(tokens):
        per = tokens[m]
        if not per:
            continue
        dim = next(iter(per.values())).dim
        means = np.stack([ts.tokens.mean(0) for ts in per.values()]).astype(np.float64)
        sd = means.std(0)
        z = (means - means.mean(0)) / np.where(sd > 0, sd, 1.0) / np.sqrt(dim)
        block = np.zeros((len(ids), dim))
        present = np.zeros(len(ids))
        ix = [row[p] for p in per]
        block[ix], present[ix] = z, 1.0
        blocks.update({f"{m}_{j}": block[:, j] for j in range(dim)})
        blocks[f"has_{m}"] = present
    out = pd.DataFrame(blocks)
    out.insert(0, "patient_id", ids)
    return out


def workspace_token_features(ws_root: str | Path) -> pd.DataFrame:
    """:func:`pooled_token_features` of every token cache of the workspace (one encoder per modality,
    as ``clinfusion train`` picks it); empty without caches."""
    from clinfusion.featurize.cache import load_tokens
    from clinfusion.training.dataset import available_modalities
    from clinfusion.workspace import Workspace

    ws = Workspace.open(ws_root)
    found = available_modalities(ws)
    if not found:
        return pd.DataFrame(columns=["patient_id"])
    return pooled_token_features({m: load_tokens(ws, m, enc) for m, enc in found.items()})
