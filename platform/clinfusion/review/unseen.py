"""Patients a served model was not trained on (ingested after training): pyfunc inputs and predictions.

Their tokens come from the workspace's token caches, one encoder per modality: the one the
served run recorded as used (``metrics.json`` ``encoders``), so a model is never fed tokens of
another encoder than it was trained on; for runs that recorded none, the one the training config
names (``encoders:``), else the modality's registered default when that cache exists, else the
only cache there is. The registered version's pyfunc predicts them (see
:func:`clinfusion.tracking.registry.predict_version`); nothing is retrained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.featurize.tokens import TokenSet


def _encoder(modality: str, configured: Mapping[str, str], cached: Sequence[str]) -> str | None:
    """Training's rule (:func:`clinfusion.training.encoders.choose_encoder`), with None instead of an
    error: a modality whose configured cache is gone, or whose choice is ambiguous, is left out
    (the served model sees it as missing) rather than failing the whole page."""
    from clinfusion.errors import ConfigError, FeaturizeError
    from clinfusion.training.encoders import choose_encoder, registered_default

    try:
        picked = choose_encoder(modality, cached, configured.get(modality) or None, registered_default(modality))
    except (ConfigError, FeaturizeError):
        return None
    return picked[0] if picked is not None else None


def workspace_tokens(ws, config: Mapping[str, Any], recorded: Mapping[str, str] | None = None
                     ) -> dict[str, dict[str, TokenSet]]:
    """``{modality: {pseudonym: TokenSet}}`` read with the encoder chosen as in the module docstring.

    Args:
        config: the served run's training config (``modalities``, ``encoders``).
        recorded: ``{modality: encoder}`` the run used; when given, exactly these modalities and
            encoders (a modality whose cache is gone is left out, as a missing modality).
    """
    from clinfusion.featurize.cache import load_tokens

    cached: dict[str, list[str]] = {}
    for index in sorted(ws.tokens_dir.glob("*/*/index.json")) if ws.tokens_dir.exists() else []:
        cached.setdefault(index.parent.parent.name, []).append(index.parent.name)
    wanted = list(recorded or config.get("modalities") or sorted(cached))
    out = {}
    for m in wanted:
        if recorded:
            enc = recorded[m] if recorded[m] in cached.get(m, []) else None
        else:
            enc = _encoder(m, config.get("encoders") or {}, cached.get(m, []))
        if enc is not None:
            out[m] = load_tokens(ws, m, enc)
    return out


def pyfunc_inputs(patient_ids: Sequence[str], tokens: Mapping[str, Mapping[str, TokenSet]],
                  clinical: pd.DataFrame) -> pd.DataFrame:
    """The pyfunc's input frame: ``bundle`` (JSON tokens) and every clinical column of each patient
    (the model's covariate encoder picks its own columns by name)."""
    from clinfusion.tracking.bundle import bundle_to_json

    clin = clinical.drop_duplicates("patient_id").set_index("patient_id") if len(clinical) else pd.DataFrame()
    covariates = clin.reindex(list(patient_ids)).reset_index(drop=True)
    bundles = [bundle_to_json({m: per[p] for m, per in tokens.items() if p in per}) for p in patient_ids]
    covariates.insert(0, "bundle", bundles)
    return covariates


def predict_unseen(ws_root: str | Path, served: Mapping[str, Any], trained: set[str],
                   config: Mapping[str, Any], uri: str | None = None,
                   recorded: Mapping[str, str] | None = None) -> pd.DataFrame | None:
    """The served version's predictions (index: pseudonym) for every workspace patient with tokens
    that is not in ``trained``; None when there is none (``recorded``: see :func:`workspace_tokens`)."""
    from clinfusion.review.workspace_data import clinical_table
    from clinfusion.tracking.registry import predict_version
    from clinfusion.workspace import Workspace

    ws = Workspace.open(ws_root)
    tokens = workspace_tokens(ws, config, recorded)
    pids = sorted({p for per in tokens.values() for p in per} - set(trained))
    if not pids:
        return None
    out = predict_version(ws_root, served["name"], served["version"], pyfunc_inputs(pids, tokens, clinical_table(ws)), uri)
    out.index = pd.Index(pids, name="patient_id")
    return out
