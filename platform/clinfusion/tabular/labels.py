"""Canonical text of categorical and ordinal values, and ordinal ranks against declared levels."""

from __future__ import annotations

import re
from collections.abc import Sequence

_PREFIX = re.compile(r"^(STAGE|GRADE)\s*", re.I)
_SUBSTAGE = re.compile(r"^(.*?[IV]+)[A-C]\d?$")


def normalize_label(value: object) -> str:
    """Canonical text of a label: upper-case, single spaces, no ``STAGE``/``GRADE`` prefix.

    An integral float prints as an integer (``2.0`` -> ``"2"``), so a numeric code read as float
    matches a declared level ``"2"``.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).strip().upper().split())
    return _PREFIX.sub("", text).strip()


def ordinal_rank(value: object, levels: Sequence[str]) -> int | None:
    """Index of ``value`` among ``levels`` (lowest first), or None when it is not a level.

    Both sides are compared after :func:`normalize_label`; a sub-stage that is not itself a level
    falls back to its main stage (``IIC`` -> ``II``), so ``Stage IIA`` < ``Stage IIB`` < ``Stage III``
    whether or not the sub-stages are declared.
    """
    norm = [normalize_label(v) for v in levels]
    label = normalize_label(value)
    if label in norm:
        return norm.index(label)
    m = _SUBSTAGE.match(label)
    if m and m.group(1) in norm:
        return norm.index(m.group(1))
    return None
