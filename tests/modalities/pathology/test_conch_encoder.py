"""The ``conch`` tile encoder on a tiny CONCH-shaped checkpoint written with CONCH's key layout.

The checkpoint holds what CONCH's ``pytorch_model.bin`` holds: ``visual.trunk.*`` (timm ViT),
``visual.attn_pool_contrast.*`` / ``visual.ln_contrast.*`` / ``visual.proj_contrast`` (the image
tower), plus keys the encoder must ignore (``visual.attn_pool_caption.*``, ``text.*``). The oracle
recomputes the embedding from the raw tensors with functional torch ops, not with our module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from clinfusion.errors import ConfigError
from clinfusion.featurize.base import Encoder
from clinfusion.modalities.pathology.conch_encoder import ConchConfig, ConchTileEmbedder
from clinfusion.modalities.pathology.features import ENCODERS
from clinfusion.modalities.pathology.timm_import import import_timm

TINY = {"width": 32, "depth": 2, "heads": 2, "patch_size": 16, "image_size": 64, "embed_dim": 16, "pool_heads": 2}
#: Image-tower keys named as in CONCH's checkpoint (conch/open_clip_custom: VisualModel + AttentionalPooler).
CONCH_TOWER_KEYS = ["visual.trunk.cls_token", "visual.trunk.pos_embed", "visual.trunk.patch_embed.proj.weight",
                    "visual.trunk.blocks.0.attn.qkv.weight", "visual.trunk.norm.weight",
                    "visual.attn_pool_contrast.query", "visual.attn_pool_contrast.attn.q_proj_weight",
                    "visual.attn_pool_contrast.attn.k_proj_weight", "visual.attn_pool_contrast.attn.v_proj_weight",
                    "visual.attn_pool_contrast.attn.in_proj_bias", "visual.attn_pool_contrast.attn.out_proj.weight",
                    "visual.attn_pool_contrast.ln_q.weight", "visual.attn_pool_contrast.ln_k.bias",
                    "visual.ln_contrast.weight", "visual.proj_contrast"]


def write_conch_checkpoint(path: Path, seed: int) -> dict[str, torch.Tensor]:
    """A CONCH-layout state dict (tiny shapes): a timm ViT trunk + pooler tensors + ignored extras."""
    import_timm()
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(seed)
    trunk = VisionTransformer(embed_dim=32, depth=2, num_heads=2, img_size=64, patch_size=16, num_classes=0,
                              dynamic_img_size=True)
    g = torch.Generator().manual_seed(seed)
    state = {f"visual.trunk.{k}": v for k, v in trunk.state_dict().items()}
    d, c = 16, 32
    r = lambda *s: torch.randn(*s, generator=g) * 0.2  # noqa: E731
    state.update({
        "visual.attn_pool_contrast.query": r(1, d),
        "visual.attn_pool_contrast.attn.q_proj_weight": r(d, d),
        "visual.attn_pool_contrast.attn.k_proj_weight": r(d, c),
        "visual.attn_pool_contrast.attn.v_proj_weight": r(d, c),
        "visual.attn_pool_contrast.attn.in_proj_bias": r(3 * d),
        "visual.attn_pool_contrast.attn.out_proj.weight": r(d, d),
        "visual.attn_pool_contrast.attn.out_proj.bias": r(d),
        "visual.attn_pool_contrast.ln_q.weight": 1 + r(d), "visual.attn_pool_contrast.ln_q.bias": r(d),
        "visual.attn_pool_contrast.ln_k.weight": 1 + r(c), "visual.attn_pool_contrast.ln_k.bias": r(c),
        "visual.ln_contrast.weight": 1 + r(d), "visual.ln_contrast.bias": r(d),
        "visual.proj_contrast": r(d, d),
        # not part of the image embedding: must be ignored
        "visual.attn_pool_caption.query": r(4, 24), "visual.ln_caption.weight": r(24),
        "text.token_embedding.weight": r(10, 24), "logit_scale": torch.tensor(2.0),
    })
    path.mkdir(parents=True, exist_ok=True)
    torch.save(state, path / "pytorch_model.bin")
    return state


def oracle(state: dict[str, torch.Tensor], x: torch.Tensor, heads: int = 2) -> torch.Tensor:
    """ln_contrast(attentional pool of the trunk's tokens) from raw tensors (functional ops)."""
    import_timm()
    from timm.models.vision_transformer import VisionTransformer

    trunk = VisionTransformer(embed_dim=32, depth=2, num_heads=2, img_size=64, patch_size=16, num_classes=0,
                              dynamic_img_size=True).eval()
    trunk.load_state_dict({k[len("visual.trunk."):]: v for k, v in state.items() if k.startswith("visual.trunk.")})
    p = "visual.attn_pool_contrast."
    with torch.inference_mode():
        tokens = trunk.forward_features(x)  # [B, N, 32]
        k = F.layer_norm(tokens, (32,), state[p + "ln_k.weight"], state[p + "ln_k.bias"])
        q = F.layer_norm(state[p + "query"], (16,), state[p + "ln_q.weight"], state[p + "ln_q.bias"])  # [1, 16]
        b_q, b_k, b_v = state[p + "attn.in_proj_bias"].chunk(3)
        qh = (q @ state[p + "attn.q_proj_weight"].T + b_q).view(1, heads, 8).transpose(0, 1)  # [H, 1, 8]
        kh = (k @ state[p + "attn.k_proj_weight"].T + b_k).view(len(x), -1, heads, 8).transpose(1, 2)  # [B, H, N, 8]
        vh = (k @ state[p + "attn.v_proj_weight"].T + b_v).view(len(x), -1, heads, 8).transpose(1, 2)
        att = torch.softmax((qh.unsqueeze(0) @ kh.transpose(-1, -2)) / 8 ** 0.5, dim=-1)  # [B, H, 1, N]
        pooled = (att @ vh).transpose(1, 2).reshape(len(x), 16)
        pooled = pooled @ state[p + "attn.out_proj.weight"].T + state[p + "attn.out_proj.bias"]
        return F.layer_norm(pooled, (16,), state["visual.ln_contrast.weight"], state["visual.ln_contrast.bias"])


def tiles(n: int = 3) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8))


def model_input(t: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor((0.48145466, 0.4578275, 0.40821073)).view(1, 3, 1, 1)
    std = torch.tensor((0.26862954, 0.26130258, 0.27577711)).view(1, 3, 1, 1)
    return (t.permute(0, 3, 1, 2).float() / 255.0 - mean) / std


def test_tower_has_conch_parameter_names() -> None:
    from clinfusion.modalities.pathology.conch_encoder import build_conch_tower

    names = {f"visual.{k}" for k in build_conch_tower(ConchConfig(random_init=True, **TINY)).state_dict()}
    assert set(CONCH_TOWER_KEYS) <= names


def test_loads_conch_checkpoint_and_matches_the_functional_oracle(tmp_path: Path) -> None:
    state = write_conch_checkpoint(tmp_path / "conch", seed=1)
    e = ConchTileEmbedder(ConchConfig(model_dir=str(tmp_path / "conch"), device="cpu", **TINY))
    out = e.embed(tiles())
    assert out.shape == (3, 16)
    np.testing.assert_allclose(out, oracle(state, model_input(tiles())).numpy(), rtol=1e-4, atol=1e-5)
    proj = ConchTileEmbedder(ConchConfig(model_dir=str(tmp_path / "conch"), device="cpu", projection=True,
                                         normalize=True, **TINY)).embed(tiles())
    expected = F.normalize(torch.from_numpy(out) @ state["visual.proj_contrast"], dim=-1).numpy()
    np.testing.assert_allclose(proj, expected, rtol=1e-4, atol=1e-5)
    write_conch_checkpoint(tmp_path / "other", seed=2)
    other = ConchTileEmbedder(ConchConfig(model_dir=str(tmp_path / "other"), device="cpu", **TINY)).embed(tiles())
    assert np.abs(other - out).max() > 1e-3  # the weights really were loaded


def test_missing_weights_and_wrong_shapes_read_well(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model_dir=DIR"):
        ConchTileEmbedder(ConchConfig(device="cpu", **TINY))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no CONCH weights"):
        ConchTileEmbedder(ConchConfig(model_dir=str(tmp_path / "empty"), device="cpu", **TINY))
    write_conch_checkpoint(tmp_path / "conch", seed=1)
    with pytest.raises(ConfigError, match="do not fit the CONCH architecture"):
        ConchTileEmbedder(ConchConfig(model_dir=str(tmp_path / "conch"), device="cpu", **{**TINY, "embed_dim": 24}))
    torch.save({"text.token_embedding.weight": torch.zeros(2, 2)}, tmp_path / "text_only.bin")
    with pytest.raises(ConfigError, match="no CONCH image-tower weights"):
        ConchTileEmbedder(ConchConfig(model_dir=str(tmp_path / "text_only.bin"), device="cpu", **TINY))


def test_registered_with_weights_in_the_cache_key(tmp_path: Path) -> None:
    cls = ENCODERS["conch"]
    assert issubclass(cls, Encoder) and cls.needs_weights
    write_conch_checkpoint(tmp_path / "a", seed=1)
    write_conch_checkpoint(tmp_path / "b", seed=2)
    keys = {cls({"model_dir": str(tmp_path / n), **TINY}).config_hash() for n in ("a", "b")}
    assert len(keys) == 2
    with pytest.raises(ConfigError):
        cls({"no_such_option": 1})
