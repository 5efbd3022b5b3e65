"""De-identification of ECG header text: an allowlist, not a blocklist.

Header comments are free text (PTB puts admission and catheterisation dates in them; exports
from hospital systems put names and MRNs). Rather than trying to find every identifier, only
three facts are kept, as structured values, and every other line is dropped:

- ``age`` in years (ages over 89 become 90, HIPAA Safe Harbor);
- ``sex`` as ``M``/``F``;
- ``dx``: SNOMED-CT codes from ``Dx:`` lines (digits only), usable as diagnosis labels.

The MIT-BIH style line ``69 M 1085 1629 x1`` (age, sex, then recorder ids) yields age and sex.

Free-text lines (PTB's clinical summary, DICOM waveform annotation text) are dropped by default.
Given the patient's date shift, :func:`scrub_comments` also returns them de-identified by the
shared PHI pipeline (:func:`clinfusion.privacy.phi.default_pipeline`, the one reports use):
names, identifiers and institutions tagged, dates shifted like every other date of the patient.
"""

from __future__ import annotations

import re
from typing import Any

from clinfusion.privacy.phi import PhiPipeline, default_pipeline

MAX_AGE = 90
# Possessive ``\s*+``: the lazy ``(.*?)\s*$`` and the adjacent ``\s*<?\s*`` of the earlier version
# were quadratic on a comment line of spaces (the value is stripped in code instead).
_KEY_VALUE = re.compile(r"^\s*+<?\s*+(age|sex|gender|dx)\s*+>?\s*+[:=](.*)$", re.IGNORECASE)
_MITBIH = re.compile(r"^\s*+(\d{1,3})\s++([MF])\b")
_SNOMED = re.compile(r"^\d{6,18}$")


def _age(text: str) -> float | None:
    m = re.match(r"^\s*+(\d{1,3}(?:\.\d++)?)", text)
    if not m:
        return None
    value = float(m.group(1))
    return float(min(value, MAX_AGE)) if 0 <= value < 150 else None


def _sex(text: str) -> str | None:
    t = text.strip().lower()
    if t in ("m", "male", "man"):
        return "M"
    if t in ("f", "female", "woman"):
        return "F"
    return None


def dx_codes(text: str) -> list[str]:
    """SNOMED-CT concept ids in a ``Dx:`` value (comma/space separated digits; others ignored)."""
    return [c for c in re.split(r"[,;\s]+", text.strip()) if _SNOMED.match(c)]


def scrub_comments(comments: list[str], date_shift_days: int | None = None,
                   pipeline: PhiPipeline | None = None) -> dict[str, Any]:
    """Keep age, sex and Dx codes from header comment lines; drop everything else.

    Args:
        comments: the header comment lines (WFDB ``#`` lines, DICOM waveform annotation text).
        date_shift_days: the patient's keyed date offset; when given, the free-text lines are
            also returned de-identified under ``"comments"``.
        pipeline: PHI pipeline for those lines (default: the shared default pipeline).

    Returns:
        ``{"age": float|None, "sex": "M"|"F"|None, "dx": [codes], "comments_dropped": n}``, plus
        ``"comments": [scrubbed lines]`` when ``date_shift_days`` is given.
    """
    out: dict[str, Any] = {"age": None, "sex": None, "dx": [], "comments_dropped": 0}
    free: list[str] = []
    for line in comments:
        m = _KEY_VALUE.match(line)
        if m:
            key, value = m.group(1).lower(), m.group(2).strip()
            if key == "age":
                out["age"] = _age(value) if out["age"] is None else out["age"]
            elif key in ("sex", "gender"):
                out["sex"] = out["sex"] or _sex(value)
            else:
                out["dx"] += [c for c in dx_codes(value) if c not in out["dx"]]
            continue
        mb = _MITBIH.match(line)
        if mb and out["age"] is None:
            out["age"], out["sex"] = _age(mb.group(1)), mb.group(2)
        if line.strip():
            out["comments_dropped"] += 1
            free.append(line.strip())
    if date_shift_days is not None:
        out["comments"] = [r.text for r in (pipeline or default_pipeline()).scrub_many(free, date_shift_days)]
    return out


def merge_attributes(scrubbed: dict[str, Any], attributes: dict[str, object]) -> dict[str, Any]:
    """Fill age/sex from structured file attributes (e.g. DICOM PatientAge/PatientSex) when absent."""
    out = dict(scrubbed)
    age = attributes.get("age")
    if out.get("age") is None and isinstance(age, int | float):
        out["age"] = float(min(float(age), MAX_AGE))
    if out.get("sex") is None and attributes.get("sex") in ("M", "F"):
        out["sex"] = attributes["sex"]
    return out
