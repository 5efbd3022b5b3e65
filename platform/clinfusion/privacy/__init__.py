"""Pseudonymous ids and date shifts by keyed hash (HMAC-SHA256), and the key that drives them."""

from __future__ import annotations

from clinfusion.privacy.keys import KEY_ENV, KEY_FILE_ENV, PseudonymKey, load_key
from clinfusion.privacy.pseudonym import Pseudonymizer

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "PseudonymKey", "Pseudonymizer", "load_key"]
