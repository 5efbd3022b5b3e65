"""CT viewer library: orientation and spacing, HU-preserving downsampling, window math, payload."""

from __future__ import annotations

import base64

import nibabel as nib
import numpy as np
import pytest
from clinfusion.review import ct_volume


def _nifti(path, data, zooms=(0.7, 0.8, 2.5)):
    img = nib.Nifti1Image(data.astype(np.int16), np.diag([*zooms, 1.0]))  # RAS already
    nib.save(img, str(path))
    return path


def test_load_volume_orients_radiologically_and_reports_spacing(tmp_path):
    data = np.zeros((4, 5, 3), np.int16)  # [i, j, k]
    data[0, 4, 2] = 1000  # patient right-most (i=0), anterior-most (j=4), superior-most (k=2)
    vol = ct_volume.load_volume(_nifti(tmp_path / "v.nii.gz", data))
    assert vol.data.shape == (3, 5, 4) and vol.data.dtype == np.int16
    assert vol.spacing_mm == pytest.approx((2.5, 0.8, 0.7))  # (k, rows, cols)
    k, r, c = np.argwhere(vol.data == 1000)[0]
    assert (k, r, c) == (2, 0, 3)  # top row = anterior; right of the patient on the image's left... i=0 -> last col


def test_block_factors_fit_the_budget():
    assert ct_volume.block_factors((64, 512, 512), 256 ** 3) == (1, 1, 1)  # exactly 256^3
    assert ct_volume.block_factors((65, 512, 512), 256 ** 3) == (1, 2, 1)  # the largest axis first
    f = ct_volume.block_factors((300, 512, 512), 256 ** 3)
    reduced = np.prod([-(-n // k) for n, k in zip((300, 512, 512), f, strict=True)])
    assert reduced <= 256 ** 3 and ct_volume.block_factors((10, 10, 10), 1000) == (1, 1, 1)
    with pytest.raises(ValueError, match="max_voxels"):
        ct_volume.block_factors((2, 2, 2), 0)


def test_downsample_keeps_hu():
    rng = np.random.default_rng(0)
    data = np.full((6, 10, 10), -1000, np.int16)
    data[:, :4] = 40  # uniform soft tissue and air blocks, aligned with the 2-voxel blocks
    noisy = data + rng.integers(-3, 4, data.shape).astype(np.int16)
    vol = ct_volume.ViewerVolume(data, (2.0, 0.5, 0.5))
    small = ct_volume.downsample(vol, 3 * 5 * 5)
    assert small.data.shape == (3, 5, 5) and small.factors == (2, 2, 2) and small.spacing_mm == (4.0, 1.0, 1.0)
    assert set(np.unique(small.data)) == {-1000, 40}  # uniform regions keep their HU exactly
    s2 = ct_volume.downsample(ct_volume.ViewerVolume(noisy, (2.0, 0.5, 0.5)), 3 * 5 * 5)
    assert abs(float(s2.data.mean()) - float(noisy.mean())) < 0.5  # the mean is kept up to int16 rounding
    odd = ct_volume.downsample(ct_volume.ViewerVolume(np.full((5, 7, 7), 300, np.int16), (1, 1, 1)), 27)
    assert (odd.data == 300).all()  # partial edge blocks average only their own voxels


def test_window_math_matches_the_definition():
    v = np.array([-1350, -600, 150, 151, -599.9])
    g = ct_volume.window_uint8(v, -600, 1500)
    assert g.tolist() == [0, 128, 255, 255, 128]  # lo = -1350 -> 0, centre -> 127.5 rounds half up, hi -> 255
    assert ct_volume.window_uint8(np.array([39, 41]), 40, 400).tolist() == [127, 128]
    with pytest.raises(ValueError, match="width"):
        ct_volume.window_uint8(v, 0, 0)


def test_payload_roundtrips_int16_and_checks_the_overlay():
    data = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4) * 100 - 1000
    vol = ct_volume.ViewerVolume(data, (3.0, 1.0, 1.0))
    labels = np.zeros(data.shape, np.uint8)
    labels[1, 2, 3] = 2
    p = ct_volume.payload(vol, is_ct=True, overlay=labels, overlay_name="regions")
    back = np.frombuffer(base64.b64decode(p["data"]), "<i2").reshape(p["shape"])
    assert (back == data).all() and p["units"] == "HU" and p["presets"]["lung"] == [-600.0, 1500.0]
    assert np.frombuffer(base64.b64decode(p["overlay"]), np.uint8).reshape(p["shape"])[1, 2, 3] == 2
    assert "lung" not in ct_volume.payload(vol, is_ct=False)["presets"]
    with pytest.raises(ValueError, match="overlay shape"):
        ct_volume.payload(vol, is_ct=True, overlay=labels[:1])


def test_region_labels_find_a_nodule_in_lung():
    hu = np.full((12, 64, 64), -1000, np.int16)
    hu[:, 8:56, 8:56] = 40          # body
    hu[:, 14:50, 14:30] = -850      # lung
    hu[4:8, 22:28, 18:24] = 30      # nodule inside the lung
    labels = ct_volume.region_labels(ct_volume.ViewerVolume(hu, (2.0, 1.0, 1.0)))
    assert labels.shape == hu.shape and labels[6, 25, 21] == 1 and labels[0, 0, 0] == 0
