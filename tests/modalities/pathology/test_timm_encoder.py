"""The ``timm`` tile encoder on tiny ViT checkpoints the tests write in the Hugging Face hub layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from clinfusion.errors import ConfigError
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import cache_params, load_tokens, read_index
from clinfusion.ingest import ingest
from clinfusion.modalities.pathology.features import TimmEncoder
from clinfusion.modalities.pathology.timm_encoder import TimmConfig, TimmTileEmbedder
from clinfusion.modalities.pathology.timm_import import import_timm
from clinfusion.privacy.keys import KEY_ENV
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.slides import write_synthetic_slide

TEST_KEY = "test-key-0123456789abcdef"  # the key tests/conftest.py sets for every test

TINY = {"img_size": 32, "patch_size": 16, "embed_dim": 16, "depth": 1, "num_heads": 2}
PRETRAINED = {"input_size": [3, 32, 32], "interpolation": "bilinear", "crop_pct": 1.0, "mean": [0.5, 0.5, 0.5],
              "std": [0.25, 0.25, 0.25], "num_classes": 0, "license": "test-only"}


def write_hub_dir(path: Path, seed: int, *, model_args: dict | None = None, weights: str = "model.safetensors") -> Path:
    """A vit_tiny-shaped timm model with random weights, saved as HF hub snapshots are."""
    from safetensors.torch import save_file

    timm = import_timm()
    args = {**TINY, **(model_args or {})}
    torch.manual_seed(seed)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0, **args)
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"architecture": "vit_tiny_patch16_224", "model_args": args,
                                                  "pretrained_cfg": PRETRAINED, "num_features": 16}))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if weights.endswith(".safetensors"):
        save_file(state, str(path / weights))
    else:
        torch.save(state, path / weights)
    return path


def tiles(n: int = 5, px: int = 40, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, px, px, 3), dtype=np.uint8))


def embedder(**options) -> TimmTileEmbedder:
    return TimmTileEmbedder(TimmConfig(device="cpu", **options))


def test_hub_directory_loads_with_its_preprocessing(tmp_path: Path) -> None:
    d = write_hub_dir(tmp_path / "vit", seed=1)
    e = embedder(model_dir=str(d))
    assert e.prep == {"input_size": 32, "resize": 32, "interpolation": "bilinear", "mean": (0.5, 0.5, 0.5),
                      "std": (0.25, 0.25, 0.25)}
    out = e.embed(tiles())
    assert out.shape == (5, 16) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_array_equal(out, embedder(model_dir=str(d)).embed(tiles()))  # deterministic
    # the weights were really loaded: the same model from another seed embeds differently ...
    other = embedder(model_dir=str(write_hub_dir(tmp_path / "vit2", seed=2))).embed(tiles())
    assert np.abs(out - other).max() > 1e-3
    # ... and equals a direct forward pass of the checkpoint's own weights (oracle: plain torch ops)
    timm = import_timm()
    ref = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0, **TINY).eval()
    from safetensors.torch import load_file

    ref.load_state_dict(load_file(str(d / "model.safetensors")))
    x = tiles().permute(0, 3, 1, 2).float() / 255.0
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
    with torch.inference_mode():
        direct = ref((x - 0.5) / 0.25).numpy()
    np.testing.assert_allclose(out, direct, rtol=1e-5, atol=1e-5)


def test_bare_state_dict_needs_arch_and_matches_the_hub_dir(tmp_path: Path) -> None:
    d = write_hub_dir(tmp_path / "vit", seed=3, weights="pytorch_model.bin")
    bare = tmp_path / "weights.pth"
    shutil.copy(d / "pytorch_model.bin", bare)
    with pytest.raises(ConfigError, match="arch=NAME"):
        embedder(model_dir=str(bare))
    e = embedder(model_dir=str(bare), arch="vit_tiny_patch16_224", model_args=TINY, input_size=32,
                 mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), interpolation="bilinear")
    np.testing.assert_allclose(e.embed(tiles()), embedder(model_dir=str(d)).embed(tiles()), rtol=1e-6, atol=1e-6)
    with pytest.raises(ConfigError, match="do not fit") as err:  # wrong shape: a readable error, no traceback
        embedder(model_dir=str(bare), arch="vit_tiny_patch16_224", model_args={**TINY, "embed_dim": 32})
    assert err.value.field == "model_args"


def test_pooling_options_and_crop(tmp_path: Path) -> None:
    d = write_hub_dir(tmp_path / "vit", seed=4, model_args={"global_pool": "", "reg_tokens": 2})
    e = embedder(model_dir=str(d))
    assert e.pooling == "cls+mean"  # no head pooling in the checkpoint (Virchow-style): CLS + patch mean
    both = e.embed(tiles())
    assert both.shape == (5, 32)
    cls, mean = embedder(model_dir=str(d), pooling="cls").embed(tiles()), \
        embedder(model_dir=str(d), pooling="mean").embed(tiles())
    np.testing.assert_allclose(both, np.concatenate([cls, mean], 1), rtol=1e-6)
    assert not np.allclose(cls, mean)
    cropped = embedder(model_dir=str(d), crop_pct=0.8, pooling="cls")
    assert cropped.prep["resize"] == 40  # resize to 32 / 0.8, centre-crop 32
    assert not np.allclose(cropped.embed(tiles()), cls)


def test_missing_weights_and_random_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"needs weights: set --option model_dir=PATH") as err:
        TimmEncoder({}).config_hash()
    assert err.value.field == "model_dir"
    with pytest.raises(ConfigError, match="does not exist") as err:
        TimmEncoder({"model_dir": str(tmp_path / "nope")}).config_hash()
    with pytest.raises(ConfigError, match="unknown option 'modeldir'; valid options: arch, batch_size"):
        TimmEncoder({"modeldir": "x"})
    with pytest.raises(ConfigError, match="pooling"):
        TimmEncoder({"pooling": "max", "random_init": True})
    rand = embedder(random_init=True, arch="vit_tiny_patch16_224", model_args=TINY, input_size=32)
    assert rand.embed(tiles()).shape == (5, 16)
    a, b = (TimmEncoder({"random_init": True, "arch": "vit_tiny_patch16_224", "seed": s}) for s in (0, 1))
    assert a.config_hash() != b.config_hash()


def test_cache_key_follows_weight_content_not_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINFUSION_CACHE_DIR", str(tmp_path / "cache"))
    d1, d2 = write_hub_dir(tmp_path / "a" / "vit", seed=1), write_hub_dir(tmp_path / "b", seed=2)
    k1 = TimmEncoder({"model_dir": str(d1)}).config_hash()
    assert k1 != TimmEncoder({"model_dir": str(d2)}).config_hash()
    assert k1 == TimmEncoder({"model_dir": str(d1), "batch_size": 7, "num_workers": 1}).config_hash()
    assert k1 != TimmEncoder({"model_dir": str(d1), "pooling": "mean"}).config_hash()
    moved = tmp_path / "elsewhere" / "uni"
    shutil.move(str(d1), moved)
    assert TimmEncoder({"model_dir": str(moved)}).config_hash() == k1
    assert (tmp_path / "cache" / "weights-sha256.json").is_file()


@pytest.fixture(scope="module")
def slide_ws(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("timm") / "cohort"
    c = write_tiny_cohort(root, 2, spec={"modalities": {"pathology": {"paths": ["pathology/{patient_id}/*"]}}})
    for i, pid in enumerate(c.patients):
        write_synthetic_slide(root / "pathology" / pid / "s.tiff", (768, 768), seed=i, levels=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, TEST_KEY)
        return ingest(root, root.parent / "ws").workspace


def test_featurize_streams_workspace_tiles(slide_ws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clinfusion.modalities.pathology.read import load_slide_artifacts
    from clinfusion.modalities.pathology.tile_store import open_tile_pixels
    from clinfusion.workspace import read_catalog

    monkeypatch.setenv("CLINFUSION_CACHE_DIR", str(tmp_path / "cache"))
    d = write_hub_dir(tmp_path / "vit", seed=5)
    rep = featurize(slide_ws, TimmEncoder({"model_dir": str(d), "batch_size": 3, "device": "cpu", "num_workers": 1}))
    assert not rep.failed and len(rep.encoded) == 2, rep.failed
    tokens = load_tokens(slide_ws, "pathology", "timm")
    cat = read_catalog(slide_ws)
    row = cat[(cat.modality == "pathology") & (cat.status == "ingested")].iloc[0]
    art = load_slide_artifacts(slide_ws.root / row.artifact_dir)
    pixels = open_tile_pixels(slide_ws.root / row.artifact_dir, len(art["tiles"]))
    pid = next(p for p, t in tokens.items() if t.n_tokens == len(pixels))
    assert tokens[pid].dim == 16 and tokens[pid].positions.shape == (len(pixels), 2)
    # batches of 3 through the DataLoader (one worker process) = one pass over all tiles at once
    whole = embedder(model_dir=str(d), batch_size=len(pixels)).embed(torch.from_numpy(np.array(pixels)))
    np.testing.assert_allclose(tokens[pid].tokens, whole, rtol=1e-4, atol=1e-5)
    index = read_index(slide_ws, "pathology", "timm")
    assert set(index["weights_sha256"]) == {"model_dir"} and "batch_size" not in index["cache_options"]
    params = cache_params(slide_ws, "pathology", "timm")  # what training logs to MLflow per used cache
    assert params["options.random_init"] == "False" and params["options.pooling"] == "default"
    assert params["weights_sha256.model_dir"] == index["weights_sha256"]["model_dir"][:16]
    again = featurize(slide_ws, TimmEncoder({"model_dir": str(d), "batch_size": 8, "device": "cpu"}))
    assert sorted(again.cached) == sorted(rep.encoded)  # runtime options do not invalidate
    other = featurize(slide_ws, TimmEncoder({"model_dir": str(write_hub_dir(tmp_path / "v2", seed=6))}))
    assert sorted(other.encoded) == sorted(rep.encoded)  # other weights: recomputed


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_autocast_matches_cpu(tmp_path: Path) -> None:
    d = write_hub_dir(tmp_path / "vit", seed=7)
    cpu = embedder(model_dir=str(d)).embed(tiles())
    gpu = TimmTileEmbedder(TimmConfig(model_dir=str(d), device="cuda", precision="fp16")).embed(tiles())
    np.testing.assert_allclose(gpu, cpu, rtol=0.05, atol=0.05)


def test_cli_options_config_file_and_errors(slide_ws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    from clinfusion.cli.app import main

    monkeypatch.setenv("CLINFUSION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    d = write_hub_dir(tmp_path / "uni", seed=8)
    ws = str(slide_ws.root)
    base = ["featurize", "-w", ws, "-m", "pathology", "-e", "timm"]
    assert main([*base, "--option", f"model_dir={d}", "--option", "batch_size=64", "--option", "device=cpu",
                 "--option", "mean=[0.5, 0.5, 0.5]", "--option", 'model_args={"img_size": 32}']) == 0
    index = read_index(slide_ws, "pathology", "timm")
    assert index["config"]["batch_size"] == 64 and index["config"]["mean"] == [0.5, 0.5, 0.5]
    assert len(index["patients"]) == 2
    cfg = tmp_path / "featurize.yaml"
    cfg.write_text(f"pathology:\n  encoder: timm\n  options:\n    model_dir: {d}\n    pooling: mean\n")
    assert main(["featurize", "-w", ws, "--config", str(cfg)]) == 0
    assert read_index(slide_ws, "pathology", "timm")["config"]["pooling"] == "mean"
    capsys.readouterr()
    assert main([*base, "--option", f"model_dir={d}", "--option", "batchsize=8"]) != 0
    err = capsys.readouterr().err
    assert "unknown option 'batchsize'" in err and "valid options: arch, batch_size" in err
    assert "Traceback" not in err
    assert main([*base, "--option", f"model_dir={d}", "--option", "batch_size=many"]) != 0
    err = capsys.readouterr().err
    assert "batch_size" in err and "many" in err and "Traceback" not in err
    assert main(base) != 0  # no weights: refuses, naming the option
    err = capsys.readouterr().err
    assert "needs weights: set --option model_dir=PATH" in err and "random_init=true" in err
    cfg.write_text("pathology:\n  encoder: timm\n  option: {}\n")
    assert main(["featurize", "-w", ws, "--config", str(cfg)]) != 0
    assert "pathology.option" in capsys.readouterr().err


def test_encoders_command_lists_options_and_weights(capsys: pytest.CaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from clinfusion.cli.app import main

    assert main(["encoders", "--modality", "pathology", "--json"]) == 0
    catalog = {e["encoder"]: e for e in json.loads(capsys.readouterr().out)}
    assert set(catalog) >= {"handcrafted", "cnn", "timm", "open_clip"}
    assert catalog["timm"]["needs_weights"] and not catalog["handcrafted"]["needs_weights"]
    assert catalog["handcrafted"]["default"] and catalog["cnn"]["weights_options"] == ["checkpoint"]
    opts = {o["option"]: o for o in catalog["timm"]["options"]}
    assert opts["pooling"]["type"] == "default|cls|mean|cls+mean" and opts["pooling"]["default"] == "default"
    assert opts["batch_size"]["default"] == "32" and opts["device"]["default"] == "auto"
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["encoders", "-m", "pathology"]) == 0
    text = capsys.readouterr().out
    assert "pathology / timm" in text and "needs weights: --option model_dir=PATH" in text and "model_args" in text
