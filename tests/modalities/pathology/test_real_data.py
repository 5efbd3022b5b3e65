"""Real slides from ../shared/data: Aperio JPEG SVS, Aperio JPEG 2000 SVS, DICOM-WSI, real tiles."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.errors import IngestError
from clinfusion.modalities.pathology import quality
from clinfusion.modalities.pathology.backends import open_slide
from clinfusion.modalities.pathology.detect import detect_backend
from clinfusion.modalities.pathology.handcrafted import FEATURE_NAMES
from clinfusion.modalities.pathology.process import PathologyOptions, process_slide
from clinfusion.testing import requires_shared_data, shared_data_dir

PATH = shared_data_dir() / "pathology"
pytestmark = pytest.mark.shared_data


@requires_shared_data("pathology/cmu-1-small-region.svs")
def test_cmu1_tiles_at_half_micron() -> None:
    with open_slide(PATH / "cmu-1-small-region.svs") as slide:
        assert slide.name == "openslide" and slide.vendor == "aperio"
        r = process_slide(slide, PathologyOptions())
    assert r.mpp == (0.499, 0.499) and r.plan.tile_l0 == 257 and r.plan.level == 0
    # 2220x2967 px -> 8x11 grid; the tissue strip covers about a third of the region.
    assert r.grid_tiles == 88
    assert 0.25 < r.mask.mean() < 0.45
    assert 20 <= r.stats["kept"] <= 40
    kept = r.tiles[r.tiles["kept"]]
    assert (kept["tissue"] >= 0.5).all() and r.features.shape == (len(kept), len(FEATURE_NAMES))


@requires_shared_data("pathology/tcga-cr-7395-01a-01-ts1.svs")
def test_tcga_jpeg2000_needs_mpp_then_tiles() -> None:
    path = PATH / "tcga-cr-7395-01a-01-ts1.svs"
    with open_slide(path) as slide:
        assert slide.mpp is None and slide.level_count == 2
        with pytest.raises(IngestError, match="mpp_override"):
            process_slide(slide, PathologyOptions())
        r = process_slide(slide, PathologyOptions(mpp_override=1.0, tiling={"target_mpp": 2.0}))
    assert r.plan.level == 1 and r.plan.tile_l0 == 512 and r.plan.read_px == 256
    assert r.stats["kept"] > 20 and np.isfinite(r.features).all()


@requires_shared_data("pathology/tcga-xk-aaju-dicom-wsi.dcm")
def test_dicom_wsi_opens_and_tiles() -> None:
    path = PATH / "tcga-xk-aaju-dicom-wsi.dcm"
    assert detect_backend(path) == "dicom"
    with open_slide(path) as slide:
        assert slide.dimensions == (3236, 2638) and slide.mpp is not None
        # This file does not declare its frame order; frames are stored column by column.
        assert slide._levels[0].positions[(0, 1)] == 1
        with pytest.raises(IngestError, match="too coarse"):
            process_slide(slide, PathologyOptions())
        r = process_slide(slide, PathologyOptions(tiling={"target_mpp": 8.0}))
    assert r.stats["kept"] >= 5
    assert r.stats["dropped_pen"] >= 5  # the slide has green and blue ink around the tumour


@requires_shared_data("pathology/tiles")
def test_real_tiles_pass_quality_and_no_tissue_tile_fails() -> None:
    from PIL import Image

    names = ["high-nuclei-score-level0.png", "medium-nuclei-score-level0.png", "low-nuclei-score-level0.png",
             "no-tissue.png"]
    tiles = np.stack([np.asarray(Image.open(PATH / "tiles" / n).convert("RGB").resize((256, 256))) for n in names])
    reasons = quality.drop_reason(quality.tile_quality(tiles)).tolist()
    assert reasons[:3] == ["", "", ""] and reasons[3] == "background"
    from clinfusion.modalities.pathology.handcrafted import handcrafted_features

    f = handcrafted_features(tiles[:3])
    density = f[:, FEATURE_NAMES.index("nuclei_frac")]
    assert density[0] > density[2]  # high-nuclei tile has more nucleus-like area than the low one
