"""NIfTI in and out, in the :class:`~clinfusion.modalities.radiology.volume.Volume` convention.

Written files hold only the voxels and the affine (qform = sform = scanner, units mm): a fresh
header, so nothing from an input header (``descrip``, ``aux_file``, extensions) is carried over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.radiology.volume import Volume

_INT16 = (-32768, 32767)


def storage_dtype(array: np.ndarray) -> np.dtype:
    """int16 when every value is an integer in int16 range (CT HU), else float32."""
    if array.size and np.all(np.isfinite(array)):
        lo, hi = float(array.min()), float(array.max())
        if lo >= _INT16[0] and hi <= _INT16[1] and np.array_equal(array, np.round(array)):
            return np.dtype(np.int16)
    return np.dtype(np.float32)


def write_nifti(volume: Volume, path: str | Path) -> Path:
    """Write ``volume`` as NIfTI-1 (``.nii.gz`` compresses), data ``[i, j, k]``.

    Returns:
        The path written.
    """
    import nibabel as nib

    data = np.ascontiguousarray(volume.array.transpose(2, 1, 0))
    img = nib.Nifti1Image(data.astype(storage_dtype(data), copy=False), volume.affine)
    img.header.set_xyzt_units("mm")
    img.set_qform(volume.affine, code=1)
    img.set_sform(volume.affine, code=1)
    path = Path(path)
    nib.save(img, path)
    return path


def read_nifti(path: str | Path, source: str = "") -> Volume:
    """Read a NIfTI file into a :class:`Volume` (4D input: first volume only, with a warning).

    Raises:
        IngestError: not a readable NIfTI, or not 2D/3D/4D.
    """
    import nibabel as nib

    label = source or Path(path).name
    try:
        img: Any = nib.load(str(path))  # a Nifti1/2Image (dataobj, affine), typed FileBasedImage by nibabel
        data = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as err:  # nibabel raises ImageFileError, EOFError, zlib errors...
        raise IngestError(f"not a readable NIfTI file: {type(err).__name__}", file=label) from None
    warnings = []
    if data.ndim == 4:
        warnings.append(f"4D NIfTI with {data.shape[3]} volumes: first volume used")
        data = data[..., 0]
    if data.ndim == 2:
        data = data[..., None]
    if data.ndim != 3:
        raise IngestError(f"expected a 2D, 3D or 4D image, got {data.ndim} dimensions", file=label, field="dim")
    return Volume(np.ascontiguousarray(data.transpose(2, 1, 0)), np.asarray(img.affine, dtype=np.float64), "", warnings)
