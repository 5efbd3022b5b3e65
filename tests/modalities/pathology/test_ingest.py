"""End to end: ingest a tiny cohort of synthetic + real slides, privacy, featurize, export, CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clinfusion.cli.app import main
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import load_tokens
from clinfusion.ingest import ingest
from clinfusion.modalities.export import export_modality
from clinfusion.modalities.pathology.features import CnnEncoder, HandcraftedEncoder
from clinfusion.modalities.pathology.heatmap import render_score_heatmap
from clinfusion.privacy.keys import KEY_ENV
from clinfusion.testing import shared_data_dir, write_tiny_cohort
from clinfusion.testing.slides import write_bad_slides, write_synthetic_slide
from PIL import Image

SUITE_KEY = "test-key-0123456789abcdef"  # the key tests/conftest.py sets for every test
CMU = shared_data_dir() / "pathology" / "cmu-1-small-region.svs"
CMU_PHI = ("CMU-1", "12/29/09", "b414003d-95c6", "1004486", "CPAPERIOCS")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("path") / "cohort"
    # the real slide is linked in from ../shared/data: a site layout that needs allow_symlinks_outside
    c = write_tiny_cohort(root, 2, spec={"modalities": {"pathology": {"paths": ["pathology/{patient_id}/**/*"]}},
                                         "allow_symlinks_outside": True})
    p0, p1 = c.patients
    s1 = write_synthetic_slide(root / "pathology" / p0 / f"{p0}_a.tiff", seed=1, patient_name="SMITH^ALICE")
    s2 = write_synthetic_slide(root / "pathology" / p0 / "b.tiff", (1024, 1024), seed=2, pen=True, barcode="BC-424242")
    bad = write_bad_slides(root / "pathology" / p1, s1.path)
    labels = [s1.label, s2.label]
    planted = list(s1.planted + s2.planted) + [p0, p1]
    if CMU.exists():
        (root / "pathology" / p1 / "cmu.svs").symlink_to(CMU)
        import openslide

        with openslide.OpenSlide(str(CMU)) as o:
            labels += [np.asarray(o.associated_images[k].convert("RGB")) for k in ("label", "macro")]
        planted += list(CMU_PHI)
    with pytest.MonkeyPatch.context() as mp:  # module scope runs before the suite's autouse key fixture
        mp.setenv(KEY_ENV, SUITE_KEY)
        rep = ingest(root, root.parent / "ws")
    return {"c": c, "rep": rep, "ws": rep.workspace, "labels": labels, "planted": planted, "bad": bad}


def _rows(cohort: dict) -> pd.DataFrame:
    cat = cohort["rep"].catalog
    return cat[cat["modality"] == "pathology"]


def test_catalog_ingests_slides_and_quarantines_bad_files(cohort: dict) -> None:
    rows = _rows(cohort)
    ok = rows[rows["status"] == "ingested"]
    assert len(ok) == 2 + CMU.exists()
    reasons = sorted(rows.loc[rows["status"] == "quarantined", "reason"])
    assert len(reasons) == 3
    assert ["PNG image" in r for r in reasons].count(True) == 1
    assert ["is not tiled" in r for r in reasons].count(True) == 1
    assert ["TIFF is truncated" in r for r in reasons].count(True) == 1
    meta = [json.loads(m) for m in ok["meta_json"]]
    assert all(m["tiles_kept"] > 0 and m["mpp_x"] > 0 for m in meta)
    pen_slide = next(m for m in meta if m["width"] == 1024)
    assert pen_slide["tiles_dropped"]["dropped_pen"] >= 1
    if CMU.exists():
        cmu = next(m for m in meta if m["vendor"] == "aperio")
        assert cmu["associated_images_dropped"] == ["label", "macro", "thumbnail"]


def test_no_label_macro_or_planted_phi_reaches_the_workspace(cohort: dict) -> None:
    ws_root = cohort["ws"].root
    files = [p for p in ws_root.rglob("*") if p.is_file() and ".secrets" not in p.parts]
    assert any(p.suffix == ".png" for p in files)
    blob = b"\n".join(p.read_bytes() for p in files)
    for s in cohort["planted"]:
        assert s.encode() not in blob, s
    for png in (p for p in files if p.suffix == ".png"):
        img = np.asarray(Image.open(png).convert("RGB"))
        for label in cohort["labels"]:
            if img.shape == label.shape:
                assert np.abs(img.astype(int) - label).mean() > 20, png
            small = np.asarray(Image.fromarray(label).resize((img.shape[1], img.shape[0]))).astype(float)
            corr = np.corrcoef(small.ravel(), img.astype(float).ravel())[0, 1]
            assert corr < 0.9, (png, corr)


def test_handcrafted_tokens_have_coordinates_groups_and_cache(cohort: dict) -> None:
    ws = cohort["ws"]
    rep = featurize(ws, HandcraftedEncoder())
    assert not rep.failed and len(rep.encoded) == 1 + CMU.exists()
    tokens = load_tokens(ws, "pathology", "handcrafted")
    p0 = cohort["rep"].catalog.query("modality == 'pathology' and status == 'ingested'")
    two = next(t for t in tokens.values() if len(set(t.groups.tolist())) == 2)
    assert two.positions.shape == (two.n_tokens, 2) and two.dim == 31
    first = p0.sort_values("source").iloc[0]
    tiles = pd.read_parquet(ws.root / first["artifact_dir"] / "tiles.parquet")
    kept = tiles[tiles["kept"]]
    np.testing.assert_array_equal(two.positions[two.groups == 0], kept[["x", "y"]].to_numpy(np.float32))
    again = featurize(ws, HandcraftedEncoder())
    assert again.encoded == [] and len(again.cached) == len(rep.encoded)
    protos = featurize(ws, HandcraftedEncoder({"prototypes": 4}))
    assert not protos.failed
    reduced = load_tokens(ws, "pathology", "handcrafted")
    assert all(t.n_tokens <= 4 for t in reduced.values())


def test_cnn_encoder_rereads_tiles_with_local_checkpoint(cohort: dict, tmp_path: Path) -> None:
    from clinfusion.modalities.pathology.backends import open_slide
    from clinfusion.modalities.pathology.cnn import embed_tiles, load_resnet, write_resnet_checkpoint

    ckpt = write_resnet_checkpoint(tmp_path / "r.pt", {"block": "basic", "layers": [1, 1, 1, 1],
                                                       "block_inplanes": [4, 8, 8, 16], "num_classes": 2})
    ws = cohort["ws"]
    enc = CnnEncoder({"checkpoint": str(ckpt), "batch_size": 8})
    rep = featurize(ws, enc)
    assert not rep.failed, rep.failed
    tokens = load_tokens(ws, "pathology", "cnn")
    two = next(t for t in tokens.values() if len(set(t.groups.tolist())) == 2)
    assert two.dim == 16
    # Oracle: embed the first kept tile read directly from the source file.
    row = _rows(cohort).query("status == 'ingested'").sort_values("source").iloc[0]
    x, y = (int(v) for v in two.positions[0])
    src = next(p for p in (cohort["c"].root / "pathology").rglob("*_a.tiff"))
    with open_slide(src) as slide:
        meta = json.loads((ws.root / row["artifact_dir"] / "slide.json").read_text())
        tile = slide.read_region((x, y), 0, (meta["tile_l0"], meta["tile_l0"]))
    direct = embed_tiles(load_resnet(ckpt), tile[None], 1)[0]
    np.testing.assert_allclose(two.tokens[0], direct, rtol=1e-4, atol=1e-5)
    from clinfusion.errors import FeaturizeError

    with pytest.raises(FeaturizeError, match="checkpoint not found"):
        load_resnet(tmp_path / "missing.pt")


def test_export_heatmap_and_cli_rerun(cohort: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ws = cohort["ws"]
    table = export_modality(ws, "pathology")
    for col in ("vendor", "level_count", "width", "height", "mpp_x", "tissue_fraction", "tiles_kept", "mean_h_mean"):
        assert col in table.columns
    row = _rows(cohort).query("status == 'ingested'").iloc[0]
    kept = json.loads(row["meta_json"])["tiles_kept"]
    out = render_score_heatmap(ws.root / row["artifact_dir"], np.linspace(0, 1, kept), tmp_path / "hm.png")
    assert Image.open(out).size == Image.open(ws.root / row["artifact_dir"] / "thumbnail.png").size
    args = ["featurize", "--workspace", str(ws.root), "--modality", "pathology"]
    assert main(args) == 0 and main(args) == 0  # the prototype run replaced the cache, so run twice
    text = capsys.readouterr().out
    assert "handcrafted" in text
    report = [json.loads(line) for line in io.StringIO((ws.root / "lineage.jsonl").read_text())][-1]
    assert report["encoded"] == 0 and report["cached"] >= 1
