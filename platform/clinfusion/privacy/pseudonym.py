"""Keyed-hash pseudonyms: patient ids, UIDs, free identifiers and per-patient date shifts.

All derive from one HMAC-SHA256 key with a distinct purpose label per use, so a pseudonym for
a patient can never collide with, or reveal, a UID remapping or a date shift of the same input.
The functions are pure and deterministic: the same key and input give the same output in every
process, which is what makes re-ingestion idempotent and UIDs consistent across a cohort.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from clinfusion.privacy.keys import PseudonymKey

# 2.25 is the DICOM root for UUID-derived UIDs (PS3.5 B.2); a 128-bit integer follows it.
_UID_ROOT = "2.25."
DEFAULT_MAX_SHIFT_DAYS = 365


@dataclass(frozen=True)
class Pseudonymizer:
    """Derives pseudonyms from a :class:`PseudonymKey`.

    Args:
        key: the secret key.
        prefix: first characters of every patient pseudonym.
        max_shift_days: date shifts lie in ``[-max_shift_days, -1]`` (always into the past,
            never zero, so a shifted date never equals the real one).
    """

    key: PseudonymKey
    prefix: str = "P"
    max_shift_days: int = DEFAULT_MAX_SHIFT_DAYS

    def digest(self, purpose: str, value: str) -> bytes:
        """HMAC-SHA256 of ``value`` under a purpose label (32 bytes)."""
        return hmac.new(self.key.secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()

    def patient(self, patient_id: str) -> str:
        """Pseudonym for a patient id, e.g. ``P3f9a0c1d2e4b`` (12 hex digits, 48 bits)."""
        return self.prefix + self.digest("patient", str(patient_id)).hex()[:12]

    def token(self, purpose: str, value: str, length: int = 16) -> str:
        """Generic keyed hash in hex (for accession numbers, file keys, ...)."""
        return self.digest(purpose, value).hex()[:length]

    def uid(self, uid: str) -> str:
        """Replacement DICOM UID: ``2.25.<128-bit int>``, at most 64 characters, stable per input."""
        return _UID_ROOT + str(int.from_bytes(self.digest("uid", uid)[:16], "big"))

    def date_shift_days(self, patient_id: str) -> int:
        """Per-patient date offset in days, in ``[-max_shift_days, -1]``; the same for every modality."""
        n = int.from_bytes(self.digest("date-shift", str(patient_id))[:8], "big")
        return -(1 + n % self.max_shift_days)
