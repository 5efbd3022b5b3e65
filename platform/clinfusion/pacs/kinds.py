"""Which instances of a DICOMweb server a modality takes, and how they form its items (by SOP class).

=========== ======================================================== ======================
modality    instances kept (decided on the QIDO-RS answer)           one item per
=========== ======================================================== ======================
radiology   every SOP class except :data:`NOT_RADIOLOGY_SOP_CLASSES`  study
pathology   VL Whole Slide Microscopy (:data:`WSI_SOP_CLASS`), except series (one slide)
            LABEL/OVERVIEW images when the answer carries ImageType
ecg         12-lead / General ECG waveforms (:data:`ECG_SOP_CLASSES`) instance (one record)
=========== ======================================================== ======================

The pathology and ECG items are what the file-based readers make of the same files (a DICOM-WSI
series, one waveform file). Slide label and overview images are never retrieved when the server
says what they are (they photograph the glass label, which may carry a name); a server that omits
ImageType gets them retrieved and the pathology reader drops them unread, as for files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from clinfusion.modalities.pathology.backends.dicom_backend import WSI_SOP_CLASS

SOP_CLASS, IMAGE_TYPE = "00080016", "00080008"
ECG_SOP_CLASSES = ("1.2.840.10008.5.1.4.1.1.9.1.1", "1.2.840.10008.5.1.4.1.1.9.1.2")
"""12-lead ECG and General ECG Waveform Storage (what :mod:`clinfusion.modalities.ecg.formats.dicom` reads)."""
LABEL_FLAVOURS = frozenset({"LABEL", "OVERVIEW"})
"""ImageType value 3 of slide label / macro photographs: never retrieved."""
NOT_RADIOLOGY_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.88.",     # structured reports and key object selections (e.g. our own SRs)
    "1.2.840.10008.5.1.4.1.1.9.",      # waveforms (ECG): the ecg modality's
    WSI_SOP_CLASS,                     # VL whole slide microscopy: the pathology modality's
    "1.2.840.10008.5.1.4.1.1.11.",     # presentation states
    "1.2.840.10008.5.1.4.1.1.104.",    # encapsulated PDF/CDA/STL documents
    "1.2.840.10008.5.1.4.1.1.66",      # raw data, registrations, segmentations, fiducials
    *(f"1.2.840.10008.5.1.4.1.1.481.{k}" for k in range(2, 10)),  # RT dose, structures, plans, records
)
"""SOP Class UID prefixes a radiology item leaves out (so they are never retrieved); an instance
whose answer has no SOP Class UID is kept."""


def _values(attrs: dict[str, Any], tag: str) -> list[str]:
    return [str(v) for v in (attrs.get(tag) or {}).get("Value") or []]


def sop_class(attrs: dict[str, Any]) -> str:
    """SOP Class UID of a QIDO-RS instance answer (DICOM JSON), ``""`` when absent."""
    return (_values(attrs, SOP_CLASS) or [""])[0]


def is_radiology_instance(attrs: dict[str, Any]) -> bool:
    """True unless the instance's SOP class is one of :data:`NOT_RADIOLOGY_SOP_CLASSES`."""
    return not any(sop_class(attrs).startswith(p) for p in NOT_RADIOLOGY_SOP_CLASSES)


def is_slide_instance(attrs: dict[str, Any]) -> bool:
    """A whole-slide image instance that is not a label/overview image (as far as the answer says)."""
    image_type = _values(attrs, IMAGE_TYPE)
    flavour = image_type[2].upper() if len(image_type) > 2 else "VOLUME"
    return sop_class(attrs) == WSI_SOP_CLASS and flavour not in LABEL_FLAVOURS


def is_ecg_instance(attrs: dict[str, Any]) -> bool:
    """A 12-lead or General ECG waveform instance."""
    return sop_class(attrs) in ECG_SOP_CLASSES


@dataclass(frozen=True)
class RemoteKind:
    """How one modality reads a DICOMweb server.

    Attributes:
        keep: instance filter on the QIDO-RS answer (DICOM JSON of one instance).
        item_by: ``study``, ``series`` or ``instance``: the instances of one item share it.
        fields: extra attributes asked for in the instance search (``includefield``).
    """

    keep: Callable[[dict[str, Any]], bool]
    item_by: Literal["study", "series", "instance"]
    fields: tuple[str, ...] = ()

    def groups(self, members: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
        """Split one study's ``(series uid, sop uid)`` members into items (sorted, none empty)."""
        if self.item_by == "study":
            return [sorted(members)] if members else []
        key: Callable[[tuple[str, str]], Any] = (lambda m: m[0]) if self.item_by == "series" else (lambda m: m)
        out: dict[Any, list[tuple[str, str]]] = {}
        for m in sorted(members):
            out.setdefault(key(m), []).append(m)
        return list(out.values())


REMOTE_KINDS: dict[str, RemoteKind] = {
    "radiology": RemoteKind(is_radiology_instance, "study"),
    "pathology": RemoteKind(is_slide_instance, "series", (IMAGE_TYPE,)),
    "ecg": RemoteKind(is_ecg_instance, "instance"),
}
"""Every modality that may have ``source: dicomweb`` (``cohort.spec.REMOTE_MODALITIES`` lists the same)."""
