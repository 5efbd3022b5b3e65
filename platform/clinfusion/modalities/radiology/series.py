"""Group DICOM files into series (by Study/Series Instance UID) and choose one by a rule.

The rule is part of the reader options (``cohort.yaml`` -> ``modalities.radiology.options``),
validated when the cohort is loaded:

- ``most_slices`` (default): the series with the most frames;
- ``thinnest``: the smallest slice spacing (SliceThickness / frame step), ties -> most slices;
- ``modality``: the largest series whose Modality equals ``modality`` (e.g. ``CT``);
- ``description``: the largest series whose SeriesDescription matches ``description_pattern``
  (regex, case-insensitive). The description itself is not stored (it may hold PHI).

When a ``modality`` / ``description`` rule matches nothing, ``most_slices`` decides and the
metadata says so.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clinfusion.modalities.radiology.discover import DicomFile

SeriesRule = Literal["most_slices", "thinnest", "modality", "description"]
PROJECTION_MODALITIES = frozenset({"CR", "DX", "MG", "XA", "RF", "IO", "PX", "OT", "SC", "US"})
"""Modalities whose single images are valid inputs (2D radiographs), not failed volumes."""


class RadiologyOptions(BaseModel):
    """Reader options (``modalities.radiology.options`` in cohort.yaml).

    Attributes:
        series_rule: how to choose the series used by encoders (see module docstring).
        modality: required for ``series_rule: modality``.
        description_pattern: regex, required for ``series_rule: description``.
        write: ``all`` series (every one recorded and stored) or only the ``selected`` one.
        min_slices: fewest slices for a cross-sectional (CT/MR/PT/NM) volume.
        previews: write PNG previews of the middle slice (window presets) beside each volume.
        max_decoded_bytes: budget of decoded pixel bytes per DICOM file (declared Rows x Columns
            x NumberOfFrames x SamplesPerPixel x BitsAllocated / 8), checked before decoding;
            a larger file is rejected with the reason (default 2 GiB).
        retain_descriptors: PS3.15 Retain Description Option: keep Study/Series Description,
            Image Comments and the other ``deid.DESCRIPTION_TAGS`` cleaned by the PHI pipeline
            instead of removed (default off: the Basic Profile removes them).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    series_rule: SeriesRule = "most_slices"
    modality: str | None = None
    description_pattern: str | None = None
    write: Literal["all", "selected"] = "all"
    min_slices: int = Field(2, ge=1)
    previews: bool = True
    max_decoded_bytes: int = Field(2 << 30, ge=1 << 20)
    retain_descriptors: bool = False

    @field_validator("description_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as err:
                raise ValueError(f"not a valid regular expression: {err}") from None
        return v

    @model_validator(mode="after")
    def _rule_needs(self) -> RadiologyOptions:
        if self.series_rule == "modality" and not self.modality:
            raise ValueError("series_rule 'modality' needs `modality` (e.g. CT)")
        if self.series_rule == "description" and not self.description_pattern:
            raise ValueError("series_rule 'description' needs `description_pattern`")
        return self


@dataclass
class Series:
    """The files of one series, in input order.

    Attributes:
        study_uid, series_uid: raw UIDs (never stored; remapped when recorded).
        files: its DICOM files.
    """

    study_uid: str
    series_uid: str
    files: list[DicomFile]

    @property
    def modality(self) -> str:
        return str(self.files[0].ds.get("Modality", "") or "")

    @property
    def n_frames(self) -> int:
        return sum(int(f.ds.get("NumberOfFrames") or 1) for f in self.files)

    @property
    def thickness_mm(self) -> float:
        t = self.files[0].ds.get("SliceThickness")
        try:
            return float(t) if t not in (None, "") else float("inf")
        except (TypeError, ValueError):
            return float("inf")

    @property
    def description(self) -> str:
        return str(self.files[0].ds.get("SeriesDescription", "") or "")


def _number(ds: Any, keyword: str) -> float:
    try:
        return float(ds.get(keyword))
    except (TypeError, ValueError):
        return float("inf")


def group_series(files: list[DicomFile]) -> list[Series]:
    """Group by (StudyInstanceUID, SeriesInstanceUID), in an order that depends on the headers only.

    Series are ordered by (SeriesNumber, StudyInstanceUID, SeriesInstanceUID) and files within a
    series by (InstanceNumber, SOPInstanceUID), so the same instances give the same series indices
    and the same first file (whose de-identified header is stored) whatever their file names, or
    whether they came from a folder or a DICOMweb server. Files lacking UIDs form one series per
    missing key (labelled by their own file), so they are still accounted for.
    """
    groups: OrderedDict[tuple[str, str], list[DicomFile]] = OrderedDict()
    for f in files:
        key = (str(f.ds.get("StudyInstanceUID", "") or ""), str(f.ds.get("SeriesInstanceUID", "") or f"nouid:{f.label}"))
        groups.setdefault(key, []).append(f)
    series = [Series(k[0], k[1], sorted(v, key=lambda f: (_number(f.ds, "InstanceNumber"),
                                                         str(f.ds.get("SOPInstanceUID", "") or ""), f.label)))
              for k, v in groups.items()]
    return sorted(series, key=lambda s: (_number(s.files[0].ds, "SeriesNumber"), s.study_uid, s.series_uid))


def select_series(series: list[Series], opts: RadiologyOptions) -> tuple[int, str]:
    """Index of the chosen series among ``series`` and how it was chosen.

    Returns:
        ``(index, how)`` where ``how`` is the rule, or ``"most_slices (fallback: no match for <rule>)"``.
    """
    if not series:
        raise ValueError("no series to select from")
    idx = list(range(len(series)))

    def largest(cands: list[int]) -> int:
        return max(cands, key=lambda i: (series[i].n_frames, -i))

    rule = opts.series_rule
    if rule == "thinnest":
        return min(idx, key=lambda i: (series[i].thickness_mm, -series[i].n_frames, i)), rule
    if rule == "modality":
        cands = [i for i in idx if series[i].modality.upper() == str(opts.modality).upper()]
    elif rule == "description":
        pat = re.compile(str(opts.description_pattern), re.IGNORECASE)
        cands = [i for i in idx if pat.search(series[i].description)]
    else:
        return largest(idx), rule
    if cands:
        return largest(cands), rule
    return largest(idx), f"most_slices (fallback: no match for {rule})"
