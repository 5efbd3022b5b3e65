"""Radiomics tokens find the planted nodule; window presets; MONAI preprocessing shape."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.errors import ConfigError
from clinfusion.modalities.radiology.features import RadiomicsConfig, volume_tokens
from clinfusion.modalities.radiology.nifti import write_nifti
from clinfusion.modalities.radiology.preprocess import PreprocessConfig, preprocess_volume
from clinfusion.modalities.radiology.preview import window
from clinfusion.modalities.radiology.radiomics import FEATURE_NAMES, shape_features
from clinfusion.modalities.radiology.volume import Volume
from clinfusion.testing.dicom import ct_phantom


def _phantom_volume() -> Volume:
    hu = ct_phantom(9, 48, 48).astype(np.float32)
    return Volume(hu, np.diag([-1.0, -1.0, 2.0, 1.0]), "CT")


def test_radiomics_region_token_at_the_nodule():
    vol = _phantom_volume()
    feats, pos, names = volume_tokens(vol.array, vol.affine, vol.spacing_mm, ct=True,
                                      cfg=RadiomicsConfig(min_region_mm3=5))
    assert names[0] == "volume" and len(names) >= 2 and len(feats[0]) == len(FEATURE_NAMES)
    # nodule centre: i = cx - 0.2 * cols, j = cy, k = middle slice -> RAS via the affine
    expected = vol.affine @ [23.5 - 0.2 * 48, 23.5, 4, 1]
    dist = [np.linalg.norm(p - expected[:3]) for p in pos[1:]]
    best = 1 + int(np.argmin(dist))
    assert min(dist) < 2.5, dist
    assert feats[best][0] == pytest.approx(0.03, abs=0.01)  # mean HU / 1000 of the nodule


def test_shape_features_of_a_cube():
    mask = np.zeros((6, 6, 6), bool)
    mask[1:5, 1:5, 1:5] = True
    log_vol, ex, ey, ez, sph = shape_features(mask, (1.0, 1.0, 1.0))
    assert log_vol == pytest.approx(np.log10(64)) and ex == ey == ez == pytest.approx(0.04)
    assert sph == pytest.approx(np.pi ** (1 / 3) * 384 ** (2 / 3) / 96)


def test_window_presets():
    img = np.array([[-1000.0, -600.0, 40.0, 3000.0]])
    assert window(img, "lung").tolist() == [[60, 128, 236, 255]]
    assert window(img, "mediastinum")[0, 2] == 128
    with pytest.raises(ConfigError, match="bone"):
        window(img, "brain")


def test_preprocess_gives_fixed_ras_shape(tmp_path):
    path = write_nifti(_phantom_volume(), tmp_path / "v.nii.gz")
    cfg = PreprocessConfig(pixdim_mm=(2.0, 2.0, 2.0), spatial_size=(16, 16, 8))
    x = preprocess_volume(path, cfg)
    assert tuple(x.shape) == (1, 16, 16, 8) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert np.array_equal(x.numpy(), preprocess_volume(path, cfg).numpy())
