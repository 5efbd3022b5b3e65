"""A patient's prediction as a DICOM Comprehensive SR (highdicom), referencing the de-identified study.

The SR joins the study of the patient's selected radiology series as it is in the workspace
(de-identified: pseudonym as PatientID/PatientName, remapped UIDs; the stored header
``series_NN.json`` supplies the evidence reference). Content tree (concept names in the private
coding scheme :data:`SCHEME`, values as NUM items with UCUM units):

- ``Risk score`` (no unit), ``Risk percentile`` (%), ``Risk group`` (TEXT: low/intermediate/high),
  ``Prediction source`` (TEXT: out-of-fold or final model);
- container ``Survival``: per time bin ``k`` the survival probability at the bin's end and the
  lower/upper envelope of the CV fold models (``bin k``; plus the bin's end in days when known),
  and with known bin ends the same three at 1, 3 and 5 years (:func:`survival_at`, linear between
  bin ends, omitted past the last one);
- container ``Diagnosis``: the probability of each class;
- container ``Modality contributions``: per modality the change in risk without it (top ``n``);
- ``Model`` (TEXT: registered name, version and alias).

This module takes plain values (:class:`SrPrediction`); ``clinfusion export-sr`` reads them from
the served model through :mod:`clinfusion.review.predictions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEME = "99CLINFUSION"
"""Private coding scheme designator of the concept names (PS3.16 8.2: ``99`` prefix = local)."""
TITLE = ("CFPRED", "ClinFusion prediction report")


@dataclass(frozen=True)
class SrPrediction:
    """What the SR states about one patient (values, no identifiers beyond the pseudonym).

    Attributes:
        risk, percentile (0-100), risk_group, source: the served prediction.
        survival: per bin ``(survival, lower, upper)`` probabilities; bin_days: each bin's end in
            days, or empty when unknown.
        diagnosis: class -> probability; contributions: modality -> delta risk (all minus without it).
        model: e.g. ``clinfusion-fusion v3 (alias: champion)``.
    """

    risk: float
    percentile: float
    risk_group: str
    source: str
    model: str
    survival: list[tuple[float, float, float]] = field(default_factory=list)
    bin_days: list[float] = field(default_factory=list)
    diagnosis: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)


YEARS = (1, 3, 5)
DAYS_PER_YEAR = 365.25


def survival_at(bin_days: list[float], survival: list[tuple[float, float, float]],
                t_days: float) -> tuple[float, float, float] | None:
    """``(survival, lower, upper)`` at ``t_days``, linearly interpolated between the bin ends
    (``S(0) = 1``); ``None`` past the last bin end or without bin ends (no extrapolation)."""
    if not bin_days or len(bin_days) != len(survival) or t_days > bin_days[-1]:
        return None
    xs = [0.0, *bin_days]
    cols = list(zip(*[(1.0, 1.0, 1.0), *survival], strict=True))
    import numpy as np

    return tuple(float(np.interp(t_days, xs, c)) for c in cols)  # type: ignore[return-value]  # 3 columns: (1, 1, 1) row above


def _code(value: str, meaning: str) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=value[:16], scheme_designator=SCHEME, meaning=meaning[:64])


def _unit(ucum: str, meaning: str) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=ucum, scheme_designator="UCUM", meaning=meaning)


def _num(code: str, meaning: str, value: float, unit: tuple[str, str] = ("1", "no units")) -> Any:
    from highdicom.sr import NumContentItem

    return NumContentItem(name=_code(code, meaning), value=float(value), unit=_unit(*unit), relationship_type="CONTAINS")


def _text(code: str, meaning: str, value: str) -> Any:
    from highdicom.sr import TextContentItem

    return TextContentItem(name=_code(code, meaning), value=str(value) or "-", relationship_type="CONTAINS")


def _container(code: str, meaning: str, items: list[Any], root: bool = False) -> Any:
    from highdicom.sr import ContainerContentItem, ContentSequence

    box = ContainerContentItem(name=_code(code, meaning), relationship_type=None if root else "CONTAINS")
    box.ContentSequence = ContentSequence(items)
    return box


def content_tree(p: SrPrediction, top_contributions: int = 5) -> Any:
    """The SR's root container (see the module docstring)."""
    survival = []
    for k, (s, lo, hi) in enumerate(p.survival):
        survival += [_num(f"SURV{k}", f"Survival probability, bin {k}", s),
                     _num(f"SURVLO{k}", f"Survival lower bound, bin {k}", lo),
                     _num(f"SURVHI{k}", f"Survival upper bound, bin {k}", hi)]
        if k < len(p.bin_days):
            survival.append(_num(f"BINEND{k}", f"End of bin {k}", p.bin_days[k], ("d", "day")))
    for years in YEARS:
        at = survival_at(p.bin_days, p.survival, years * DAYS_PER_YEAR)
        if at is not None:
            survival += [_num(f"SURV{years}Y", f"Survival probability at {years} year(s)", at[0]),
                         _num(f"SURV{years}YLO", f"Survival lower bound at {years} year(s)", at[1]),
                         _num(f"SURV{years}YHI", f"Survival upper bound at {years} year(s)", at[2])]
    diagnosis = [_num(f"DX{i}", f"Probability of {c}", v) for i, (c, v) in enumerate(sorted(p.diagnosis.items()))]
    top = sorted(p.contributions.items(), key=lambda kv: -abs(kv[1]))[:top_contributions]
    contrib = [_num(f"CONTRIB{i}", f"Risk change without {m}", v) for i, (m, v) in enumerate(top)]
    items = [_num("RISK", "Risk score", p.risk), _num("RISKPCT", "Risk percentile", p.percentile, ("%", "percent")),
             _text("RISKGRP", "Risk group", p.risk_group), _text("PREDSRC", "Prediction source", p.source),
             _text("MODEL", "Model", p.model),
             _container("SURVIVAL", "Survival", survival), _container("DIAGNOSIS", "Diagnosis", diagnosis),
             _container("CONTRIBS", "Modality contributions", contrib)]
    return _container(TITLE[0], TITLE[1], items, root=True)


def reference_dataset(header: dict[str, Any]) -> Any:
    """A header-only dataset of the referenced image from its stored de-identified header
    (``series_NN.json``): patient, study and instance identity, enough for the SR's evidence."""
    from pydicom.dataset import Dataset

    ds = Dataset()
    for key in ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "SeriesInstanceUID",
                "SOPInstanceUID", "SOPClassUID", "StudyDate", "StudyTime", "AccessionNumber", "ReferringPhysicianName",
                "StudyID", "Modality"):
        setattr(ds, key, header.get(key) or "")
    return ds


def prediction_sr(reference: Any, p: SrPrediction, *, series_uid: str, sop_uid: str) -> Any:
    """A Comprehensive SR of ``p`` in the study of ``reference``.

    Args:
        reference: the referenced image's header (:func:`reference_dataset`).
        p: the values.
        series_uid, sop_uid: UIDs of the SR (stable per patient and model: a re-export replaces it).
    """
    from highdicom.sr import ComprehensiveSR

    sr = ComprehensiveSR(evidence=[reference], content=content_tree(p), series_instance_uid=series_uid,
                         series_number=900, sop_instance_uid=sop_uid, instance_number=1,
                         manufacturer="ClinFusion", is_complete=True, is_final=False, is_verified=False)
    sr.SeriesDescription = "ClinFusion AI prediction (not verified)"
    return sr


def read_values(ds: Any) -> dict[str, Any]:
    """Every NUM and TEXT item of an SR as ``{CodeMeaning: value}`` (nested containers flattened),
    read with pydicom only (an independent check of what :func:`prediction_sr` wrote)."""
    out: dict[str, Any] = {}

    def walk(items: Any) -> None:
        for item in items:
            name = item.ConceptNameCodeSequence[0].CodeMeaning
            if item.ValueType == "NUM":
                out[name] = float(item.MeasuredValueSequence[0].NumericValue)
            elif item.ValueType == "TEXT":
                out[name] = str(item.TextValue)
            if "ContentSequence" in item:
                walk(item.ContentSequence)

    walk(ds.ContentSequence)
    return out


def store(ds: Any, url: str, cfg: Any = None) -> None:
    """STOW-RS ``ds`` to the DICOMweb service at ``url`` (auth/retries of ``cfg``, a
    :class:`~clinfusion.cohort.spec.DicomWebSpec`, when given).

    Raises:
        PacsError: the store failed (HTTP status named).
    """
    from clinfusion.cohort.spec import DicomWebSpec
    from clinfusion.pacs.client import call, make_client

    cfg = cfg if cfg is not None else DicomWebSpec(url=url)
    client = make_client(cfg, url=url)
    call(lambda: client.store_instances([ds]), "STOW-RS store of the SR", cfg)
