"""Volumes for the review app's CT viewer: loading, bounded resampling, HU windows and region overlays.

The viewer (``apps/review/components/ct_viewer``) receives one volume as little-endian int16 bytes
(base64) inside the component's arguments, i.e. over the websocket of the logged-in Streamlit
session; there is no URL for it. This module prepares that payload:

- :func:`load_volume`: a stored NIfTI series as ``[k, rows, cols]`` in radiological display
  orientation (RAS+ canonical, anterior up, patient right on the image's left) with its voxel
  spacing in mm, values in the stored units (HU for CT).
- :func:`downsample`: integer block-mean reduction to a voxel budget (default 256^3 = 16.8 M
  voxels, 32 MiB as int16). A block mean of HU is HU: a uniform region keeps its value exactly,
  any region's mean is preserved up to int16 rounding (0.5 HU), and the spacing grows by the factor.
- :func:`window_uint8`: the linear window/level map the viewer's JavaScript implements
  (``grey = clip((v - (level - width / 2)) / width, 0, 1) * 255``).
- :func:`region_labels`: the lesion-like regions of :mod:`clinfusion.modalities.radiology.regions`
  (the same heuristic radiomics uses) as a uint8 label volume for the overlay layer.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.modalities.radiology.preview import WINDOWS

MAX_VOXELS = 256 ** 3
HU_MIN, HU_MAX = -32768, 32767


@dataclass
class ViewerVolume:
    """One volume as the viewer shows it.

    Attributes:
        data: ``[k, rows, cols]`` int16 in stored units (HU for CT), display orientation.
        spacing_mm: voxel size ``(k, rows, cols)`` in mm.
        factors: block sizes ``(k, rows, cols)`` applied by :func:`downsample` (1 = full resolution).
        source_shape: shape before downsampling.
    """

    data: np.ndarray
    spacing_mm: tuple[float, float, float]
    factors: tuple[int, int, int] = (1, 1, 1)
    source_shape: tuple[int, int, int] = (0, 0, 0)


def load_volume(path: Path) -> ViewerVolume:
    """A stored NIfTI series as an int16 display-oriented volume with its spacing.

    Raises:
        ValueError: the file holds no 2D/3D image, naming the file and its shape.
    """
    import nibabel as nib

    img = nib.as_closest_canonical(nib.load(str(path)))
    data = np.asarray(img.dataobj, dtype=np.float32)
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim < 3 or any(n != 1 for n in data.shape[3:]):
        raise ValueError(f"{path}: expected a 2D or 3D volume, got shape {data.shape}")
    data = data.reshape(data.shape[:3])
    zooms = [float(z) for z in img.header.get_zooms()[:3]] + [1.0] * (3 - len(img.header.get_zooms()[:3]))
    # [i, j, k] RAS -> [k, j, i]; flip j (anterior up) and i (patient right on the left).
    arr = np.transpose(data, (2, 1, 0))[:, ::-1, ::-1]
    out = np.clip(np.rint(arr), HU_MIN, HU_MAX).astype(np.int16)
    shape = (int(out.shape[0]), int(out.shape[1]), int(out.shape[2]))
    return ViewerVolume(np.ascontiguousarray(out), (zooms[2], zooms[1], zooms[0]), (1, 1, 1), shape)


def block_factors(shape: tuple[int, ...], max_voxels: int = MAX_VOXELS) -> tuple[int, int, int]:
    """Smallest integer block sizes (k, rows, cols) whose reduced volume has at most ``max_voxels``.

    The largest axis is reduced first, so the reduced voxels stay as close to cubic (in voxels) as
    the integers allow.
    """
    if max_voxels < 1:
        raise ValueError(f"max_voxels must be >= 1, got {max_voxels}")
    f = [1, 1, 1]
    dims = [int(n) for n in shape[:3]]

    def reduced(i: int) -> int:
        return -(-dims[i] // f[i])

    while reduced(0) * reduced(1) * reduced(2) > max_voxels:
        i = max(range(3), key=lambda a: (reduced(a), -a))
        f[i] += 1
    return f[0], f[1], f[2]


def downsample(vol: ViewerVolume, max_voxels: int = MAX_VOXELS) -> ViewerVolume:
    """Block-mean reduction of ``vol`` to at most ``max_voxels`` voxels (a no-op when it fits).

    Edge blocks that the factor does not divide are averaged over the voxels they have (no padding
    value enters a mean). Values stay in HU (rounded to int16).
    """
    fk, fr, fc = block_factors(vol.data.shape, max_voxels)
    if (fk, fr, fc) == (1, 1, 1):
        return vol
    x = vol.data.astype(np.float64)
    for axis, f in enumerate((fk, fr, fc)):
        if f > 1:
            starts = np.arange(0, x.shape[axis], f)
            sums = np.add.reduceat(x, starts, axis=axis)
            counts = np.diff(np.r_[starts, x.shape[axis]]).astype(np.float64)
            shape = [1, 1, 1]
            shape[axis] = len(counts)
            x = sums / counts.reshape(shape)
    out = np.clip(np.rint(x), HU_MIN, HU_MAX).astype(np.int16)
    sp = vol.spacing_mm
    return ViewerVolume(out, (sp[0] * fk, sp[1] * fr, sp[2] * fc), (fk, fr, fc), vol.source_shape or vol.data.shape)


def window_uint8(values: np.ndarray, level: float, width: float) -> np.ndarray:
    """Linear window/level map to uint8 grey, exactly as the viewer's JavaScript does it.

    Args:
        values: any shape, stored units (HU).
        level: window centre; width: window width (> 0), both in the same units.
    """
    if width <= 0:
        raise ValueError(f"window width must be > 0, got {width}")
    g = np.clip((np.asarray(values, np.float64) - (level - width / 2.0)) / width, 0.0, 1.0) * 255.0
    return np.floor(g + 0.5).astype(np.uint8)


def auto_window(data: np.ndarray) -> tuple[float, float]:
    """(level, width) spanning the 1st..99th percentile (MR, radiographs; the ``auto`` preset)."""
    lo, hi = np.percentile(data, [1, 99]) if data.size else (0.0, 1.0)
    width = max(float(hi - lo), 1.0)
    return float(lo) + width / 2.0, width


def window_presets(data: np.ndarray, is_ct: bool) -> dict[str, tuple[float, float]]:
    """The named (level, width) presets offered for a volume: lung / mediastinum / bone for CT, plus auto."""
    out = {k: (float(v[0]), float(v[1])) for k, v in WINDOWS.items() if v is not None} if is_ct else {}
    out["auto"] = auto_window(data)
    return out


def region_labels(vol: ViewerVolume, max_regions: int = 8) -> np.ndarray:
    """uint8 ``[k, rows, cols]`` label volume: 0 background, ``n`` = the n-th largest lesion-like region.

    Uses :func:`clinfusion.modalities.radiology.regions.lesion_regions` (a heuristic, not a validated
    detector) on the viewer's volume; the labels line up with ``vol.data`` voxel by voxel.
    """
    from clinfusion.modalities.radiology.regions import lesion_regions

    labels = np.zeros(vol.data.shape, np.uint8)
    for n, region in enumerate(lesion_regions(vol.data.astype(np.float32), vol.spacing_mm, max_regions=max_regions), start=1):
        labels[region.mask & (labels == 0)] = n
    return labels


def payload(vol: ViewerVolume, *, is_ct: bool, overlay: np.ndarray | None = None, overlay_name: str = "",
            label: str = "") -> dict[str, Any]:
    """JSON-ready arguments of the CT viewer component.

    Keys: ``shape`` [k, rows, cols], ``spacing`` (mm), ``data`` (base64 little-endian int16, C order),
    ``presets`` {name: [level, width]}, ``overlay`` (base64 uint8 labels of the same shape, or ""),
    ``overlay_name``, ``label``, ``units`` ("HU" for CT, else "value"), ``factors``, ``source_shape``.

    Raises:
        ValueError: an overlay whose shape differs from the volume's.
    """
    data = np.ascontiguousarray(vol.data, dtype="<i2")
    ov = ""
    if overlay is not None:
        if overlay.shape != data.shape:
            raise ValueError(f"overlay shape {overlay.shape} differs from the volume's {data.shape}")
        ov = base64.b64encode(np.ascontiguousarray(overlay, dtype=np.uint8).tobytes()).decode("ascii")
    return {"shape": [int(n) for n in data.shape], "spacing": [float(s) for s in vol.spacing_mm],
            "data": base64.b64encode(data.tobytes()).decode("ascii"),
            "presets": {k: [lv, w] for k, (lv, w) in window_presets(data, is_ct).items()},
            "overlay": ov, "overlay_name": overlay_name, "label": label, "units": "HU" if is_ct else "value",
            "factors": list(vol.factors), "source_shape": [int(n) for n in (vol.source_shape or data.shape)]}
