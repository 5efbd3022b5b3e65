"""Featurize: per-modality encoders -> token sets, cached by content hash + encoder version."""

from __future__ import annotations

from clinfusion.featurize.base import Encoder
from clinfusion.featurize.cache import load_tokens
from clinfusion.featurize.runner import FeaturizeReport, featurize
from clinfusion.featurize.tokens import TokenSet

__all__ = ["Encoder", "FeaturizeReport", "TokenSet", "featurize", "load_tokens"]
