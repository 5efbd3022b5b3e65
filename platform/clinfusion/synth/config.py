"""Frozen configuration of the synthetic cohort and the per-scale file sizes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clinfusion.errors import ConfigError

SYNTH_MODALITIES: tuple[str, ...] = ("radiology", "pathology", "ecg", "genomics", "reports")
"""File modalities the generator can write (clinical.csv is always written)."""


class ScaleSpec(BaseModel):
    """File sizes of one scale.

    Attributes:
        ct_slices: axial slices per CT series.
        ct_size_px: rows = columns of each CT slice.
        slide_size_px: level-0 width = height of each slide.
        slide_levels: pyramid levels (each halves the previous one).
        tile_px: TIFF tile edge.
    """

    model_config = ConfigDict(frozen=True)

    ct_slices: int
    ct_size_px: int
    slide_size_px: int
    slide_levels: int
    tile_px: int = 256


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(ct_slices=16, ct_size_px=128, slide_size_px=2048, slide_levels=3),
    "medium": ScaleSpec(ct_slices=32, ct_size_px=256, slide_size_px=4096, slide_levels=4),
    "large": ScaleSpec(ct_slices=64, ct_size_px=512, slide_size_px=8192, slide_levels=5),
}


class SynthConfig(BaseModel):
    """Everything that determines a synthetic cohort; the same config gives the same bytes.

    Attributes:
        n_patients: number of patients (ids ``SYN0001`` ...).
        seed: random seed.
        scale: file sizes, one of :data:`SCALES`.
        missing_rate: mean probability that a patient lacks each modality (0 <= r < 1).
        missing: ``mcar`` (independent of everything) or ``mnar`` (sicker patients miss more).
        modalities: file modalities to write (``None`` = all of :data:`SYNTH_MODALITIES`).
        censoring_rate: target fraction of censored patients (independent censoring).
        name: cohort name written to cohort.yaml.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_patients: int = Field(40, ge=2, le=100_000)
    seed: int = 0
    scale: Literal["small", "medium", "large"] = "small"
    missing_rate: float = Field(0.0, ge=0.0, lt=1.0)
    missing: Literal["mcar", "mnar"] = "mcar"
    modalities: tuple[str, ...] | None = None
    censoring_rate: float = Field(0.35, ge=0.0, lt=0.95)
    name: str = "synthetic"

    @field_validator("modalities")
    @classmethod
    def _known(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        bad = [m for m in v if m not in SYNTH_MODALITIES]
        if bad:
            raise ValueError(f"unknown modalities {bad}; expected a subset of {list(SYNTH_MODALITIES)}")
        return tuple(m for m in SYNTH_MODALITIES if m in v)

    @property
    def active_modalities(self) -> tuple[str, ...]:
        """The modalities written, in canonical order."""
        return self.modalities if self.modalities is not None else SYNTH_MODALITIES

    @property
    def sizes(self) -> ScaleSpec:
        """File sizes of :attr:`scale`."""
        return SCALES[self.scale]


def make_config(**kwargs: object) -> SynthConfig:
    """Build a :class:`SynthConfig`, turning validation errors into :class:`ConfigError`.

    Raises:
        ConfigError: naming the first invalid field and what was expected.
    """
    from pydantic import ValidationError

    try:
        return SynthConfig(**kwargs)
    except ValidationError as err:
        e = err.errors()[0]
        field = ".".join(str(p) for p in e["loc"])
        raise ConfigError(e["msg"].removeprefix("Value error, "), file="SynthConfig", field=field) from None
