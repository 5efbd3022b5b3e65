"""Volume assembly: sorting by position, HU, affine, gaps, duplicates, multi-frame, compression."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from clinfusion.errors import IngestError
from clinfusion.modalities.radiology.nifti import read_nifti, write_nifti
from clinfusion.modalities.radiology.volume import assemble, dataset_frames
from clinfusion.testing.dicom import ct_phantom, write_ct_series, write_enhanced_ct


def _frames(files):
    return [fr for f in files for fr in dataset_frames(pydicom.dcmread(f), f.name)]


def test_sorted_by_position_with_hu_and_affine(tmp_path):
    files = write_ct_series(tmp_path, n_slices=5, rows=16, cols=12, pixel_mm=(0.5, 0.7), slice_mm=2.0,
                            origin_mm=(-3, -4, 10))
    vol, failed = assemble(_frames(files), "CT")
    assert not failed
    assert vol.shape == (5, 16, 12)
    np.testing.assert_array_equal(vol.array, ct_phantom(5, 16, 12))
    assert vol.spacing_mm == pytest.approx((2.0, 0.5, 0.7))
    # voxel (i=1, j=2, k=3) -> LPS (-3 + 0.7, -4 + 1.0, 10 + 6) -> RAS flips x and y
    np.testing.assert_allclose(vol.affine @ [1, 2, 3, 1], [3 - 0.7, 4 - 1.0, 16, 1])


def test_gap_is_reported_and_duplicates_fail(tmp_path):
    files = write_ct_series(tmp_path / "gap", n_slices=6, rows=8, cols=8, skip=(3,))
    vol, _ = assemble(_frames(files), "CT")
    assert vol.shape[0] == 5 and any("gap" in w for w in vol.warnings)
    dup = write_ct_series(tmp_path / "dup", n_slices=3, rows=8, cols=8)
    with pytest.raises(IngestError, match="duplicate"):
        assemble(_frames([*dup, dup[0]]), "CT")


def test_inconsistent_size_fails(tmp_path):
    a = write_ct_series(tmp_path / "a", n_slices=2, rows=8, cols=8)
    b = write_ct_series(tmp_path / "b", n_slices=1, rows=10, cols=8, origin_mm=(-12.4, -12.4, 0))
    with pytest.raises(IngestError, match="inconsistent image size"):
        assemble(_frames([*a, *b]), "CT")


def test_enhanced_multiframe_sorted(tmp_path):
    path = write_enhanced_ct(tmp_path / "mf.dcm", n_frames=4, rows=10, cols=10, slice_mm=3.0)
    vol, _ = assemble(dataset_frames(pydicom.dcmread(path), "mf"), "CT")
    np.testing.assert_array_equal(vol.array, ct_phantom(4, 10, 10))
    assert vol.spacing_mm == pytest.approx((3.0, 0.7, 0.7))


def test_rle_compressed_series_decodes(tmp_path):
    from pydicom.uid import RLELossless

    files = write_ct_series(tmp_path, n_slices=3, rows=8, cols=8)
    for f in files:
        ds = pydicom.dcmread(f)
        ds.compress(RLELossless)
        ds.save_as(f, enforce_file_format=True)
    vol, _ = assemble(_frames(files), "CT")
    np.testing.assert_array_equal(vol.array, ct_phantom(3, 8, 8))


def test_nifti_round_trip_keeps_convention(tmp_path):
    files = write_ct_series(tmp_path / "s", n_slices=4, rows=8, cols=6)
    vol, _ = assemble(_frames(files), "CT")
    back = read_nifti(write_nifti(vol, tmp_path / "v.nii.gz"))
    np.testing.assert_array_equal(back.array, vol.array)
    np.testing.assert_allclose(back.affine, vol.affine, atol=1e-5)
