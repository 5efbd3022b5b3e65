"""A patient's token bundle as JSON: the input format of the served fusion model."""

from __future__ import annotations

import json
from collections.abc import Mapping

from clinfusion.featurize.tokens import TokenSet


def bundle_to_json(bundle: Mapping[str, TokenSet]) -> str:
    """``{modality: {"tokens": [[...]], "positions": [[...]] | null, "groups": [...] | null, "meta": {...}}}``."""
    return json.dumps({
        m: {
            "tokens": ts.tokens.tolist(),
            "positions": None if ts.positions is None else ts.positions.tolist(),
            "groups": None if ts.groups is None else ts.groups.tolist(),
            "meta": ts.meta,
        }
        for m, ts in bundle.items()
    })


def bundle_from_json(text: str) -> dict[str, TokenSet]:
    """Inverse of :func:`bundle_to_json`."""
    return {m: TokenSet(d["tokens"], positions=d.get("positions"), groups=d.get("groups"), meta=d.get("meta") or {})
            for m, d in json.loads(text).items()}
