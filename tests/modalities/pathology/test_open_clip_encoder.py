"""The ``open_clip`` tile encoder on a tiny CLIP model the test writes as open_clip hub directories are."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from clinfusion.errors import ConfigError
from clinfusion.modalities.pathology.features import OpenClipEncoder
from clinfusion.modalities.pathology.open_clip_encoder import OpenClipConfig, OpenClipTileEmbedder
from clinfusion.modalities.pathology.timm_import import import_open_clip

MODEL_CFG = {"embed_dim": 8,
             "vision_cfg": {"image_size": 32, "layers": 1, "width": 16, "patch_size": 16, "head_width": 8},
             "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1}}
PREPROCESS = {"size": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "interpolation": "bilinear"}


def write_open_clip_dir(path: Path, seed: int) -> tuple[Path, object]:
    from safetensors.torch import save_file

    import_open_clip()
    from open_clip.model import CLIP

    torch.manual_seed(seed)
    model = CLIP(**MODEL_CFG).eval()
    path.mkdir(parents=True)
    (path / "open_clip_config.json").write_text(json.dumps({"model_cfg": MODEL_CFG, "preprocess_cfg": PREPROCESS}))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path / "open_clip_model.safetensors"))
    return path, model


def tiles(n: int = 3) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8))


def test_image_tower_loads_and_matches_encode_image(tmp_path: Path) -> None:
    d, model = write_open_clip_dir(tmp_path / "clip", seed=1)
    e = OpenClipTileEmbedder(OpenClipConfig(model_dir=str(d), device="cpu", normalize=True))
    out = e.embed(tiles())
    assert out.shape == (3, 8)
    x = (tiles().permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.25
    with torch.inference_mode():
        direct = model.encode_image(x, normalize=True).numpy()  # oracle: the full CLIP model's own method
    np.testing.assert_allclose(out, direct, rtol=1e-5, atol=1e-6)
    other, _ = write_open_clip_dir(tmp_path / "clip2", seed=2)
    assert np.abs(OpenClipTileEmbedder(OpenClipConfig(model_dir=str(other), device="cpu", normalize=True))
                  .embed(tiles()) - out).max() > 1e-3


def test_bare_state_dict_needs_a_model_config_and_weights_are_required(tmp_path: Path) -> None:
    d, _ = write_open_clip_dir(tmp_path / "clip", seed=3)
    bare = tmp_path / "weights.safetensors"
    shutil.copy(d / "open_clip_model.safetensors", bare)
    with pytest.raises(ConfigError, match="model_name=NAME"):
        OpenClipTileEmbedder(OpenClipConfig(model_dir=str(bare), device="cpu"))
    e = OpenClipTileEmbedder(OpenClipConfig(model_dir=str(bare), device="cpu", model_cfg=MODEL_CFG, input_size=32,
                                            mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), interpolation="bilinear"))
    ref = OpenClipTileEmbedder(OpenClipConfig(model_dir=str(d), device="cpu"))
    np.testing.assert_allclose(e.embed(tiles()), ref.embed(tiles()), rtol=1e-6, atol=1e-6)
    with pytest.raises(ConfigError, match="needs weights: set --option model_dir=PATH"):
        OpenClipEncoder({}).config_hash()
    assert OpenClipEncoder({"model_dir": str(d)}).config_hash() != OpenClipEncoder({"model_dir": str(bare)}).config_hash()
