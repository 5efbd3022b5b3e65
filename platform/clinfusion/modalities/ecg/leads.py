"""Lead names: the standard 12, their spelling variants, derived limb leads, extra leads kept aside.

Einthoven and Goldberger relations (exact for ideal electrodes, used to fill missing limb leads):
``III = II - I``, ``aVR = -(I + II) / 2``, ``aVL = I - II / 2``, ``aVF = II - I / 2``; any two of
I, II, III give the third, and the augmented leads follow from I and II.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

STANDARD_LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
LEAD_INDEX: dict[str, int] = {name: i for i, name in enumerate(STANDARD_LEADS)}

# Normalised spelling (lower case, no "lead", no punctuation or bracketed notes) -> standard name.
_ALIASES: dict[str, str] = {
    **{n.lower(): n for n in STANDARD_LEADS},
    "di": "I", "dii": "II", "diii": "III", "d1": "I", "d2": "II", "d3": "III",
    "mli": "I", "mlii": "II", "mliii": "III", "ml1": "I", "ml2": "II", "ml3": "III",
    "lead1": "I", "lead2": "II", "lead3": "III", "avr": "aVR", "avl": "aVL", "avf": "aVF",
    "vr": "aVR", "vl": "aVL", "vf": "aVF", "c1": "V1", "c2": "V2", "c3": "V3", "c4": "V4", "c5": "V5", "c6": "V6",
}


def _normalise(name: str) -> str:
    s = re.sub(r"\(.*?\)", "", str(name)).lower()
    s = re.sub(r"\blead\b", "", s)
    return re.sub(r"[^a-z0-9]", "", s)


def canonical_lead(name: str) -> str | None:
    """The standard name of a lead label (``'Lead II'``, ``'MLII'``, ``'avf'`` ...), or ``None``."""
    return _ALIASES.get(_normalise(name))


def extra_lead_name(name: str) -> str:
    """A safe label for a non-standard lead (e.g. ``vx``), kept aside from the 12."""
    return _normalise(name) or "unnamed"


@dataclass
class LeadSet:
    """Channels mapped to the 12 standard leads.

    Attributes:
        leads: ``[12, n]`` float64 mV; rows of absent leads are zero (see ``present``).
        present: ``[12]`` bool: lead recorded or derived.
        derived: standard leads computed from others.
        extra: ``[k, n]`` float64 mV of non-standard channels; ``extra_names`` their labels.
    """

    leads: np.ndarray
    present: np.ndarray
    derived: list[str]
    extra: np.ndarray
    extra_names: list[str]

    @property
    def present_names(self) -> list[str]:
        return [n for n, p in zip(STANDARD_LEADS, self.present, strict=True) if p]


def _derive(rows: dict[str, np.ndarray]) -> list[str]:
    """Fill missing limb leads in place from the Einthoven/Goldberger relations; return what was derived."""
    derived = []
    limb = {"I": ("II", "III", lambda ii, iii: ii - iii), "II": ("I", "III", lambda i, iii: i + iii),
            "III": ("I", "II", lambda i, ii: ii - i)}
    for name, (a, b, fn) in limb.items():
        if name not in rows and a in rows and b in rows:
            rows[name] = fn(rows[a], rows[b])
            derived.append(name)
    if "I" in rows and "II" in rows:
        augmented = {"aVR": lambda i, ii: -(i + ii) / 2, "aVL": lambda i, ii: i - ii / 2, "aVF": lambda i, ii: ii - i / 2}
        for name, fn in augmented.items():
            if name not in rows:
                rows[name] = fn(rows["I"], rows["II"])
                derived.append(name)
    return derived


def map_leads(signal: np.ndarray, channels: list[str]) -> LeadSet:
    """Map ``[n, C]`` channels onto the standard 12 (first occurrence wins), derive missing limb leads.

    Args:
        signal: ``[n_samples, n_channels]`` in mV.
        channels: one label per column.

    Returns:
        The lead set; channels that are not standard leads (or duplicates) go to ``extra``.
    """
    rows: dict[str, np.ndarray] = {}
    extra, extra_names = [], []
    for j, ch in enumerate(channels):
        std = canonical_lead(ch)
        if std is not None and std not in rows:
            rows[std] = signal[:, j]
        else:
            extra.append(signal[:, j])
            extra_names.append(extra_lead_name(ch) if std is None else f"{std}_dup{j}")
    derived = _derive(rows)
    n = signal.shape[0]
    leads = np.zeros((len(STANDARD_LEADS), n), dtype=np.float64)
    present = np.zeros(len(STANDARD_LEADS), dtype=bool)
    for name, x in rows.items():
        leads[LEAD_INDEX[name]] = x
        present[LEAD_INDEX[name]] = True
    extra_arr = np.stack(extra) if extra else np.zeros((0, n), dtype=np.float64)
    return LeadSet(leads, present, derived, extra_arr, extra_names)
