"""ECG reader options (``modalities.ecg.options`` in cohort.yaml), validated when the cohort loads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EcgOptions(BaseModel):
    """Settings of the ECG reader.

    Attributes:
        fs_hz: output sampling rate (Hz); every record is resampled to it (anti-aliased).
        csv_fs_hz: sampling rate of CSV files (Hz); needed unless the CSV has a time column.
        csv_units: voltage unit of CSV values (``mV``, ``uV`` or ``V``).
        notch_hz: mains frequency to notch out (50 in Europe/Asia, 60 in the Americas), or null.
        bandpass_hz: band-pass corners (Hz); 0.5-40 removes baseline wander and EMG (use 0.05-150
            for diagnostic-grade ST and QRS morphology).
        window_s: length of the fixed windows (s); a long (Holter) record gives several.
        max_windows: keep at most this many windows per record (null = all; bounds artifact size:
            a 24 h Holter at 500 Hz is 8,640 windows).
        delineate_s: seconds at the start of a record delineated for PR/QRS/QT (cost bound).
        max_header_line_chars: a WFDB header with a longer line (comments included) is
            quarantined ("line N longer than L characters").
        keep_comments: also store the free-text header comment lines, de-identified by the PHI
            pipeline (``comments`` in the metadata); default off: only age, sex and Dx are kept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fs_hz: float = Field(500.0, gt=50, le=10000)
    csv_fs_hz: float | None = Field(None, gt=0)
    csv_units: Literal["mV", "uV", "V"] = "mV"
    notch_hz: Literal[50, 60] | None = 50
    bandpass_hz: tuple[float, float] = (0.5, 40.0)
    window_s: float = Field(10.0, gt=1, le=600)
    max_windows: int | None = Field(None, ge=1)
    delineate_s: float = Field(30.0, gt=2)
    max_header_line_chars: int = Field(10_000, ge=80)
    keep_comments: bool = False

    @model_validator(mode="after")
    def _band(self) -> EcgOptions:
        lo, hi = self.bandpass_hz
        if not 0 < lo < hi:
            raise ValueError(f"bandpass_hz must be (low, high) with 0 < low < high, got {self.bandpass_hz}")
        if hi >= self.fs_hz / 2:
            raise ValueError(f"bandpass_hz high corner {hi} must be below fs_hz / 2 = {self.fs_hz / 2}")
        return self
