"""MONAI preprocessing for model input: load NIfTI, RAS orientation, resample, intensity, crop, pad.

Deterministic (no random transforms). The pipeline per volume::

    LoadImage(NibabelReader, channel first) -> Orientation(RAS) -> Spacing(pixdim_mm)
    -> ScaleIntensityRange(HU window -> [0, 1], clipped)   (CT)
       or ScaleIntensityRangePercentiles(1..99 -> [0, 1])  (other modalities)
    -> CropForeground(> 0) -> ResizeWithPadOrCrop(spatial_size)

Shapes:
    output: ``[1, X, Y, Z]`` float32 tensor in RAS order, ``spatial_size`` voxels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PreprocessConfig(BaseModel):
    """Preprocessing settings (part of the CNN encoder's cache key).

    Attributes:
        pixdim_mm: target voxel size (x, y, z) in mm; coarser = faster, less detail.
        spatial_size: output grid (x, y, z) after crop/pad; memory and CNN time grow with it.
        hu_window: (low, high) HU mapped to [0, 1] for CT.
        crop_foreground: crop to voxels > 0 after scaling (the body for CT) before padding.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pixdim_mm: tuple[float, float, float] = (4.0, 4.0, 4.0)
    spatial_size: tuple[int, int, int] = Field((64, 64, 64))
    hu_window: tuple[float, float] = (-1000.0, 400.0)
    crop_foreground: bool = True


def _positive(x: Any) -> Any:
    return x > 0


def build_transforms(cfg: PreprocessConfig, *, ct: bool):
    """The MONAI ``Compose`` for one volume (see module docstring)."""
    from monai.transforms import (
        Compose,
        CropForeground,
        LoadImage,
        Orientation,
        ResizeWithPadOrCrop,
        ScaleIntensityRange,
        ScaleIntensityRangePercentiles,
        Spacing,
    )

    intensity = (ScaleIntensityRange(cfg.hu_window[0], cfg.hu_window[1], 0.0, 1.0, clip=True) if ct
                 else ScaleIntensityRangePercentiles(1, 99, 0.0, 1.0, clip=True))
    steps = [LoadImage(reader="NibabelReader", image_only=True, ensure_channel_first=True),
             Orientation(axcodes="RAS"), Spacing(pixdim=cfg.pixdim_mm, mode="bilinear"), intensity]
    if cfg.crop_foreground:
        steps.append(CropForeground(select_fn=_positive, allow_smaller=True))
    steps.append(ResizeWithPadOrCrop(cfg.spatial_size))
    return Compose(steps)


def preprocess_volume(path: str | Path, cfg: PreprocessConfig | None = None, *, ct: bool = True):
    """Model-ready tensor ``[1, X, Y, Z]`` of a NIfTI volume written by the reader."""
    import torch

    cfg = cfg or PreprocessConfig()
    out = build_transforms(cfg, ct=ct)(str(path))
    return torch.as_tensor(out, dtype=torch.float32)
