"""Preprocessing for pretrained 3D (CT foundation) models: orientation, spacing, HU window, crop/pad.

Defaults are Merlin's documented ones (Blankemeier et al. 2024, ``merlin`` package): RAS
orientation, 1.5 x 1.5 x 3 mm voxels, HU [-1000, 1000] -> [0, 1] (clipped), centre pad/crop to
224 x 224 x 160. Deterministic (no random transforms). Per volume::

    LoadImage(NibabelReader, channel first) -> Orientation(orientation) -> Spacing(spacing_mm)
    -> ScaleIntensityRange(hu_window -> scale_range, clip)       (CT)
       or ScaleIntensityRangePercentiles(1..99 -> scale_range)  (other modalities)
    -> [CropForeground(> scale_range low)] -> ResizeWithPadOrCrop(spatial_size)
    -> repeat the channel to ``in_channels``

Shapes:
    output: ``[in_channels, X, Y, Z]`` float32 tensor, ``spatial_size`` voxels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clinfusion.modalities.radiology.preprocess import volume_transforms


class FoundationPreprocess(BaseModel):
    """Input preparation of a pretrained 3D encoder (part of its cache key).

    Attributes:
        spacing_mm: target voxel size (x, y, z) in mm after reorientation.
        orientation: axis codes of the model's input (``RAS`` for Merlin and most MONAI bundles).
        hu_window: (low, high) HU mapped onto ``scale_range`` for CT (values outside are clipped
            when ``clip``).
        scale_range: output intensity range (low, high).
        clip: clip intensities to ``scale_range``.
        spatial_size: input grid (x, y, z) after centre pad/crop, voxels.
        crop_foreground: crop to voxels above the low end of ``scale_range`` before pad/crop.
        in_channels: channels the model expects (the single CT channel is repeated).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    spacing_mm: tuple[float, float, float] = (1.5, 1.5, 3.0)
    orientation: str = Field("RAS", pattern=r"^[RLAPSI]{3}$")
    hu_window: tuple[float, float] = (-1000.0, 1000.0)
    scale_range: tuple[float, float] = (0.0, 1.0)
    clip: bool = True
    spatial_size: tuple[int, int, int] = (224, 224, 160)
    crop_foreground: bool = False
    in_channels: int = Field(1, ge=1, le=4)

    @model_validator(mode="after")
    def _check(self) -> FoundationPreprocess:
        if any(s <= 0 for s in self.spacing_mm):
            raise ValueError(f"spacing_mm must be > 0 mm, got {self.spacing_mm}")
        if any(n < 1 for n in self.spatial_size):
            raise ValueError(f"spatial_size must be >= 1 voxel per axis, got {self.spatial_size}")
        if self.hu_window[0] >= self.hu_window[1]:
            raise ValueError(f"hu_window must be (low, high) with low < high, got {self.hu_window}")
        if self.scale_range[0] >= self.scale_range[1]:
            raise ValueError(f"scale_range must be (low, high) with low < high, got {self.scale_range}")
        axes = sorted({"R": "x", "L": "x", "A": "y", "P": "y", "S": "z", "I": "z"}[c] for c in self.orientation)
        if axes != ["x", "y", "z"]:
            raise ValueError(f"orientation must name each of R/L, A/P, S/I once, got {self.orientation!r}")
        return self


def foundation_transforms(cfg: FoundationPreprocess, *, ct: bool) -> Any:
    """The MONAI ``Compose`` of one volume (see the module docstring): the shared
    :func:`~clinfusion.modalities.radiology.preprocess.volume_transforms` with this config."""
    return volume_transforms(spacing_mm=cfg.spacing_mm, orientation=cfg.orientation, hu_window=cfg.hu_window,
                             scale_range=cfg.scale_range, clip=cfg.clip, crop_foreground=cfg.crop_foreground,
                             spatial_size=cfg.spatial_size, ct=ct)


def foundation_input(path: str | Path, cfg: FoundationPreprocess, *, ct: bool) -> Any:
    """Model-ready tensor ``[in_channels, X, Y, Z]`` of a NIfTI volume written by the reader."""
    import torch

    out = torch.as_tensor(foundation_transforms(cfg, ct=ct)(str(path)), dtype=torch.float32)
    return out.repeat(cfg.in_channels, 1, 1, 1) if cfg.in_channels > 1 else out
