"""DICOM de-identification after PS3.15 Annex E, Basic Application Level Confidentiality Profile.

The attribute actions come from the standard's Table E.1-1 as data (the ``dicom-anonymizer``
package ships it, per DICOM edition; :data:`TABLE_EDITION` names the one used), not from a
hand-picked list. Composite actions resolve to the most protective choice (``X/Z``, ``X/D``,
``X/Z/D``, ``X/Z/U*`` -> remove; ``Z/D`` -> empty), with these profile options:

- *Retain Longitudinal Temporal Information, Modified Dates*: every DA/DT value that is kept is
  shifted by the patient's keyed offset (``Pseudonymizer.date_shift_days``), the same offset
  as every other modality, so intervals are preserved; times of day are kept.
- PatientID and PatientName become the patient pseudonym.
- UIDs: the table's ``U`` attributes, and any other UID that is not a registered DICOM UID, are
  replaced by ``Pseudonymizer.uid`` (keyed hash: the same input UID gives the same output in
  every file of the cohort, so series stay consistent).

- Free text: every LT/ST/UT element the profile keeps, and with ``retain_descriptors=True`` (the
  *Retain Description Option*, "clean" instead of remove) the description attributes of
  :data:`DESCRIPTION_TAGS`, go through the shared PHI pipeline
  (:func:`clinfusion.privacy.phi.default_pipeline`, the one reports use): names, identifiers and
  institutions become tags, dates move by the patient's offset.

Private attributes, overlays (60xx) and curves (50xx) are removed; sequences are recursed into.
The functions are pure (dataset in, new dataset out) and need no files.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import Any

from clinfusion.privacy.phi import PhiPipeline, default_pipeline
from clinfusion.privacy.pseudonym import Pseudonymizer

TABLE_EDITION = "dicomfields_2026c"
DEIDENTIFICATION_METHOD = "PS3.15 E.1-1 Basic Profile, Modified Dates (ClinFusion)"
# Coded description of the options applied (PS3.16 CID 7050).
_METHOD_CODES = (("113100", "Basic Application Confidentiality Profile"),
                 ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"))
_CATEGORY_ACTION = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z",
                    "X_Z_TAGS": "X", "X_D_TAGS": "X", "X_Z_D_TAGS": "X", "X_Z_U_STAR_TAGS": "X"}
_DUMMY_TEXT = "ANONYMIZED"
DESCRIPTION_TAGS: frozenset[int] = frozenset({
    0x00081030, 0x0008103E, 0x00081080, 0x00082111, 0x00181030, 0x00184000, 0x00204000, 0x00321060,
    0x00324000, 0x00400254, 0x00401002, 0x001021B0,
})
"""Study/Series Description, Admitting Diagnoses Description, Derivation Description, Protocol
Name, Acquisition Comments, Image Comments, Requested Procedure Description, Study Comments,
Performed Procedure Step Description, Reason for the Requested Procedure, Additional Patient
History: kept and cleaned under the Retain Description Option (PS3.15 E.3.5), else as the table says."""
_FREE_TEXT_VRS = ("LT", "ST", "UT")


@lru_cache(maxsize=1)
def basic_profile_actions() -> dict[int, str]:
    """Tag (as int) -> action ``D``/``Z``/``X``/``U`` of the Basic Profile table.

    The table's repeating-group rows (curves 50xx, overlay data/comments 60xx) are applied by
    removing those whole groups in :func:`deidentify_dataset` (see :func:`_removed_group`).
    """
    import importlib

    table = importlib.import_module(f"dicomanonymizer.dicom_anonymization_databases.{TABLE_EDITION}")
    actions: dict[int, str] = {}
    for category, action in _CATEGORY_ACTION.items():
        for entry in getattr(table, category):
            if len(entry) == 2:
                actions[(entry[0] << 16) | entry[1]] = action
    return actions


def _removed_group(group: int) -> bool:
    """Curves (50xx) and overlays (even 60xx groups) are removed whole."""
    return 0x5000 <= group <= 0x50FF or (0x6000 <= group <= 0x60FF and group % 2 == 0)


def shift_date(value: str, days: int) -> str:
    """Shift a DA (``YYYYMMDD``) or the date part of a DT value by ``days``.

    Unparseable values are emptied (they cannot be shifted, so they must not be kept).
    """
    m = re.fullmatch(r"\s*(\d{8})(.*)", str(value))
    if not m:
        return ""
    try:
        d = _dt.datetime.strptime(m.group(1), "%Y%m%d").date() + _dt.timedelta(days=days)
    except ValueError:
        return ""
    return d.strftime("%Y%m%d") + m.group(2).strip()


def _is_registered_uid(uid: str) -> bool:
    from pydicom.uid import UID_dictionary

    return uid in UID_dictionary


def _dummy(vr: str) -> Any:
    if vr in ("US", "SS", "UL", "SL", "FL", "FD", "IS", "DS", "UV", "SV"):
        return 0
    if vr in ("OB", "OW", "OF", "OD", "OL", "UN"):
        return b""
    if vr == "SQ":
        return []
    if vr == "DA":
        return "19000101"
    if vr == "TM":
        return "000000"
    if vr == "DT":
        return "19000101000000"
    if vr == "AS":
        return "000Y"
    return _DUMMY_TEXT


class _Deidentifier:
    def __init__(self, pz: Pseudonymizer, patient_id: str, retain_descriptors: bool = False,
                 pipeline: PhiPipeline | None = None) -> None:
        self.pz = pz
        self.retain_descriptors = retain_descriptors
        self.pipeline = pipeline
        self.pseudonym = pz.patient(patient_id)
        self.shift = pz.date_shift_days(patient_id)
        self.actions = basic_profile_actions()

    def _uid(self, value: Any) -> Any:
        if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            return [self._uid(v) for v in value]
        v = str(value)
        return v if not v or _is_registered_uid(v) else self.pz.uid(v)

    def _date(self, value: Any) -> Any:
        if type(value).__name__ == "MultiValue" or isinstance(value, list | tuple):
            return [shift_date(v, self.shift) for v in value]
        return shift_date(str(value), self.shift)

    def _clean(self, value: Any) -> Any:
        if type(value).__name__ == "MultiValue" or isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        pipeline = self.pipeline or default_pipeline()
        return pipeline.scrub(str(value), self.shift).text

    def _element(self, ds, elem) -> None:
        tag = int(elem.tag)
        if tag in (0x00100010, 0x00100020):  # PatientName, PatientID -> pseudonym
            elem.value = self.pseudonym
            return
        action = self.actions.get(tag)
        if self.retain_descriptors and tag in DESCRIPTION_TAGS:
            action = "C"
        if action == "C" or (action is None and elem.VR in _FREE_TEXT_VRS):
            if elem.value not in (None, ""):
                elem.value = self._clean(elem.value)
            return
        if action == "X" or (action is None and elem.VR == "PN"):
            del ds[elem.tag]
            return
        if elem.VR in ("DA", "DT") and elem.value not in (None, ""):
            elem.value = self._date(elem.value)
        elif elem.VR == "UI":
            elem.value = self._uid(elem.value)
        elif action == "Z":
            elem.value = [] if elem.VR == "SQ" else ("" if elem.VR not in ("OB", "OW", "UN") else b"")
        elif action == "D" and elem.VR != "TM":
            elem.value = _dummy(elem.VR)
        if elem.VR == "SQ" and elem.value:
            for item in elem.value:
                self.dataset(item)

    def dataset(self, ds) -> None:
        ds.remove_private_tags()
        for elem in list(ds):
            if _removed_group(elem.tag.group):
                del ds[elem.tag]
                continue
            self._element(ds, elem)


def deidentify_dataset(ds, pz: Pseudonymizer, patient_id: str, *, retain_descriptors: bool = False,
                       pipeline: PhiPipeline | None = None):
    """A de-identified copy of a pydicom Dataset (the input is left unchanged).

    Args:
        ds: the dataset (pixel data, if any, is kept untouched).
        pz: the cohort's pseudonymizer.
        patient_id: the *raw* patient id (key of the pseudonym and of the date shift).
        retain_descriptors: keep the :data:`DESCRIPTION_TAGS` cleaned of PHI instead of removed.
        pipeline: PHI pipeline for free text (default: the shared default pipeline).

    Returns:
        A new Dataset with PatientIdentityRemoved ``YES``, DeidentificationMethod and its code
        sequence set, and the file meta SOP Instance UID remapped.
    """
    import copy

    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    out = copy.deepcopy(ds)
    worker = _Deidentifier(pz, patient_id, retain_descriptors, pipeline)
    worker.dataset(out)
    meta = getattr(out, "file_meta", None)
    if meta is not None:
        for kw in ("MediaStorageSOPInstanceUID",):
            if kw in meta:
                setattr(meta, kw, worker._uid(meta[kw].value))
        for kw in ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle", "ReceivingApplicationEntityTitle"):
            if kw in meta:
                delattr(meta, kw)
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = DEIDENTIFICATION_METHOD
    codes = []
    for value, meaning in _METHOD_CODES:
        c = Dataset()
        c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, "DCM", meaning
        codes.append(c)
    out.DeidentificationMethodCodeSequence = Sequence(codes)
    out.LongitudinalTemporalInformationModified = "MODIFIED"
    return out


def header_summary(ds) -> dict[str, Any]:
    """JSON-ready header of a *de-identified* dataset, without bulk data (pixels, LUTs).

    Returns:
        ``{keyword or tag: value}`` for every non-bulk element, sequences as lists of dicts.
    """
    out: dict[str, Any] = {}
    for elem in ds:
        if elem.VR in ("OB", "OW", "OF", "OD", "OL", "UN", "OV") or elem.tag == 0x7FE00010:
            continue
        key = elem.keyword or f"{elem.tag.group:04X}{elem.tag.element:04X}"
        if elem.VR == "SQ":
            out[key] = [header_summary(item) for item in elem.value]
        elif elem.value is None:
            out[key] = None
        elif type(elem.value).__name__ == "MultiValue":
            out[key] = [_plain(v) for v in elem.value]
        else:
            out[key] = _plain(elem.value)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    return str(v)
