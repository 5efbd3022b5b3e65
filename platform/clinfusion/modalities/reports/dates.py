"""Dates in report text: the implementation lives in :mod:`clinfusion.privacy.phi.dates`.

Re-exported here for the reports modality (``shift_date_value`` for the CSV ``date`` column).
"""

from __future__ import annotations

from clinfusion.privacy.phi.dates import _TIME_RE, DATE_RE, shift_date_value, shift_dates  # noqa: F401

__all__ = ["DATE_RE", "shift_date_value", "shift_dates"]
