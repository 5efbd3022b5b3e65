"""Person names in report text: the implementation lives in :mod:`clinfusion.privacy.phi.names`.

Re-exported here (the compiled patterns too, so tests/security/test_regex_linear.py keeps
checking them through this module).
"""

from __future__ import annotations

from clinfusion.privacy.phi.names import (  # noqa: F401
    _COLLAPSE_RE,
    _CREDENTIAL_RE,
    _LABEL_RE,
    _TITLED_RE,
    _TOKEN_RE,
    NAME_TAG,
    STOP_WORDS,
    find_names,
    propagate_names,
    replace_spans,
)

__all__ = ["NAME_TAG", "STOP_WORDS", "find_names", "propagate_names", "replace_spans"]
