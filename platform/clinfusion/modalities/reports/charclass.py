"""Unicode-aware character classes of the report patterns: one definition, in
:mod:`clinfusion.privacy.phi.charclass` (the privacy layer sits below modalities); re-exported here."""

from __future__ import annotations

from clinfusion.privacy.phi.charclass import (
    LETTER,
    MAX_WORD,
    NAME_CHAR,
    NOT_AFTER_NAME_CHAR,
    UPPER,
    WORD,
    normalize,
)

__all__ = ["LETTER", "MAX_WORD", "NAME_CHAR", "NOT_AFTER_NAME_CHAR", "UPPER", "WORD", "normalize"]
