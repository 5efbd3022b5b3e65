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

from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Above:
    """``x > low`` as a picklable callable (MONAI's ``CropForeground`` ``select_fn``)."""

    low: float

    def __call__(self, x: Any) -> Any:
        return x > self.low


def volume_transforms(*, spacing_mm: tuple[float, float, float], orientation: str, hu_window: tuple[float, float],
                      scale_range: tuple[float, float], clip: bool, crop_foreground: bool,
                      spatial_size: tuple[int, int, int], ct: bool) -> Any:
    """The MONAI ``Compose`` of one volume, shared by the CNN encoder (:func:`build_transforms`) and
    the pretrained 3D models (:func:`~clinfusion.modalities.radiology.ct_preprocess.foundation_transforms`)::

        LoadImage(NibabelReader, channel first) -> Orientation(orientation) -> Spacing(spacing_mm, bilinear)
        -> ScaleIntensityRange(hu_window -> scale_range, clip)       (CT)
           or ScaleIntensityRangePercentiles(1..99 -> scale_range)  (other modalities)
        -> [CropForeground(> scale_range low)] -> ResizeWithPadOrCrop(spatial_size)

    Units: ``spacing_mm`` in mm per voxel (x, y, z), ``hu_window`` in Hounsfield units,
    ``spatial_size`` in voxels.
    """
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

    lo, hi = scale_range
    intensity = (ScaleIntensityRange(hu_window[0], hu_window[1], lo, hi, clip=clip) if ct
                 else ScaleIntensityRangePercentiles(1, 99, lo, hi, clip=clip))
    steps = [LoadImage(reader="NibabelReader", image_only=True, ensure_channel_first=True),
             Orientation(axcodes=orientation), Spacing(pixdim=spacing_mm, mode="bilinear"), intensity]
    if crop_foreground:
        steps.append(CropForeground(select_fn=_Above(lo), allow_smaller=True))
    steps.append(ResizeWithPadOrCrop(spatial_size))
    return Compose(steps)


def build_transforms(cfg: PreprocessConfig, *, ct: bool) -> Any:
    """The MONAI ``Compose`` for one volume (see module docstring): RAS, HU window -> [0, 1] clipped,
    crop to voxels > 0."""
    return volume_transforms(spacing_mm=cfg.pixdim_mm, orientation="RAS", hu_window=cfg.hu_window,
                             scale_range=(0.0, 1.0), clip=True, crop_foreground=cfg.crop_foreground,
                             spatial_size=cfg.spatial_size, ct=ct)


def preprocess_volume(path: str | Path, cfg: PreprocessConfig | None = None, *, ct: bool = True):
    """Model-ready tensor ``[1, X, Y, Z]`` of a NIfTI volume written by the reader."""
    import torch

    cfg = cfg or PreprocessConfig()
    out = build_transforms(cfg, ct=ct)(str(path))
    return torch.as_tensor(out, dtype=torch.float32)
