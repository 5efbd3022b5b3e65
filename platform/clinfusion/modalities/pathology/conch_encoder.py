"""``conch`` pathology tile encoder: the image tower of CONCH (Lu et al., Nature Medicine 2024).

CONCH v1 (``MahmoodLab/CONCH`` on the Hugging Face hub, CC-BY-NC-ND 4.0, gated) is a CoCa model
whose checkpoint (``pytorch_model.bin``) is written for its own ``conch`` package, not for
``open_clip`` or ``timm``. Its image tower, rebuilt here from the published architecture (our own
code; nothing of the ``conch`` package is imported or copied):

- ``visual.trunk``: a timm ``VisionTransformer`` (width 768, depth 12, 12 heads, MLP ratio 4,
  patch 16, 448 px, class token, no classifier), read through ``forward_features``: tokens
  ``[B, 1 + (448/16)^2, 768]`` after the final LayerNorm;
- ``visual.attn_pool_contrast``: attentional pooling, one learned query ``[1, 512]`` (LayerNorm
  ``ln_q``) attending over the LayerNorm'd (``ln_k``) tokens with 8-head
  ``nn.MultiheadAttention(512, kdim=768, vdim=768)``;
- ``visual.ln_contrast``: LayerNorm(512) of the pooled query; ``visual.proj_contrast`` ``[512, 512]``.

The tile embedding is what CONCH's model card and the TRIDENT/CLAM pipelines use for slide
tasks: ``encode_image(x, proj_contrast=False, normalize=False)``, i.e. ``ln_contrast(pool(x))``,
512-d (``projection=true`` multiplies by ``proj_contrast`` as the zero-shot path does;
``normalize=true`` L2-normalises). Preprocessing: resize to 448 px bicubic, centre crop, OpenAI
CLIP mean/std. Every image-tower weight must be in the checkpoint (``strict``); the text tower and
the captioning pooler are ignored.

Shapes: tiles ``[B, px, px, 3]`` uint8 -> embeddings ``[B, 512]`` (``embed_dim``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from clinfusion.errors import ConfigError
from clinfusion.modalities.pathology.timm_encoder import TileEmbedder, TileModelOptions

WEIGHT_FILES = ("pytorch_model.bin", "model.safetensors", "conch.bin")
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
#: Prefixes of the image-tower weights this encoder loads (all must be present).
TOWER_PREFIXES = ("visual.trunk.", "visual.attn_pool_contrast.", "visual.ln_contrast.", "visual.proj_contrast")


class ConchConfig(TileModelOptions):
    """Options of the ``conch`` encoder (architecture defaults: CONCH v1, ``conch_ViT-B-16``).

    Attributes:
        projection: multiply by ``proj_contrast`` (the zero-shot embedding) instead of the
            pre-projection pooled embedding slide pipelines use.
        normalize: L2-normalise each embedding.
        width, depth, heads, patch_size, image_size: the ViT trunk. embed_dim, pool_heads: the
            attentional pooler (query width and heads). Change them only for a differently sized
            CONCH-style checkpoint.
    """

    projection: bool = Field(False, description="apply proj_contrast (zero-shot space) to the pooled embedding")
    normalize: bool = Field(False, description="L2-normalise the embeddings")
    width: int = Field(768, ge=8, description="ViT width")
    depth: int = Field(12, ge=1, description="ViT blocks")
    heads: int = Field(12, ge=1, description="ViT attention heads")
    patch_size: int = Field(16, ge=2, description="ViT patch px")
    image_size: int = Field(448, ge=16, description="ViT input px (positional grid)")
    embed_dim: int = Field(512, ge=4, description="attentional pooler query width (= output D)")
    pool_heads: int = Field(8, ge=1, description="attentional pooler heads")


def _torch_modules() -> tuple[Any, Any]:
    import torch
    from torch import nn

    return torch, nn


def build_conch_tower(config: ConchConfig) -> Any:
    """The CONCH image tower (random weights) as an ``nn.Module`` with CONCH's parameter names."""
    torch, nn = _torch_modules()
    from clinfusion.modalities.pathology.timm_import import import_timm

    import_timm()
    from timm.models.vision_transformer import VisionTransformer

    module: Any = nn.Module  # torch is imported lazily (the registry must not import it)

    class AttentionalPooler(module):
        """Learned queries attending over context tokens (CoCa's pooler)."""

        def __init__(self, d_model: int, context_dim: int, n_head: int, n_queries: int) -> None:
            super().__init__()
            self.query = nn.Parameter(torch.randn(n_queries, d_model))
            self.attn = nn.MultiheadAttention(d_model, n_head, kdim=context_dim, vdim=context_dim)
            self.ln_q = nn.LayerNorm(d_model)
            self.ln_k = nn.LayerNorm(context_dim)

        def forward(self, x: Any) -> Any:
            """``[B, N, context_dim]`` -> ``[B, n_queries, d_model]``."""
            k = self.ln_k(x).permute(1, 0, 2)  # [N, B, C]
            q = self.ln_q(self.query).unsqueeze(1).expand(-1, x.shape[0], -1)  # [Q, B, D]
            return self.attn(q, k, k, need_weights=False)[0].permute(1, 0, 2)

    class ConchVisual(module):
        """trunk -> attentional pooling -> LayerNorm (-> projection)."""

        def __init__(self) -> None:
            super().__init__()
            self.trunk = VisionTransformer(embed_dim=config.width, depth=config.depth, num_heads=config.heads,
                                           mlp_ratio=4.0, img_size=config.image_size, patch_size=config.patch_size,
                                           num_classes=0, dynamic_img_size=True)
            self.attn_pool_contrast = AttentionalPooler(config.embed_dim, config.width, config.pool_heads, 1)
            self.ln_contrast = nn.LayerNorm(config.embed_dim)
            self.proj_contrast = nn.Parameter(config.embed_dim ** -0.5 * torch.randn(config.embed_dim,
                                                                                      config.embed_dim))

        def forward(self, x: Any) -> Any:
            """``[B, 3, S, S]`` -> ``[B, embed_dim]``."""
            pooled = self.ln_contrast(self.attn_pool_contrast(self.trunk.forward_features(x))[:, 0])
            if config.projection:
                pooled = pooled @ self.proj_contrast
            return nn.functional.normalize(pooled, dim=-1) if config.normalize else pooled

    torch.manual_seed(config.seed)
    return ConchVisual()


def conch_weights(config: ConchConfig) -> Path | None:
    """The checkpoint file of ``model_dir`` (a directory or the file itself), None with ``random_init``.

    Raises:
        ConfigError: missing directory/file, or a directory without a known weights file.
    """
    if config.random_init:
        return None
    if not config.model_dir:
        raise ConfigError("the conch encoder needs --option model_dir=DIR (the CONCH checkpoint directory holding "
                          "pytorch_model.bin) or --option random_init=true", field="model_dir")
    path = Path(config.model_dir).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise ConfigError("model_dir does not exist", file=path, field="model_dir")
    found = next((path / n for n in WEIGHT_FILES if (path / n).is_file()), None)
    if found is None:
        raise ConfigError(f"no CONCH weights in the model directory: expected one of {list(WEIGHT_FILES)}",
                          file=path, field="model_dir")
    return found


def load_conch_tower(tower: Any, weights: Path) -> Any:
    """Load the image-tower weights (``visual.*`` keys of a CONCH checkpoint) strictly.

    Raises:
        ConfigError: no image-tower keys, or keys/shapes that do not fit the configured tower.
    """
    from clinfusion.modalities.pathology.timm_model import load_state_dict

    state = load_state_dict(weights)
    visual = {k[len("visual."):]: v for k, v in state.items() if k.startswith(TOWER_PREFIXES)}
    if not visual:
        raise ConfigError(f"checkpoint has no CONCH image-tower weights (keys starting with {list(TOWER_PREFIXES)})",
                          file=weights, field="model_dir")
    try:
        tower.load_state_dict(visual, strict=True)
    except RuntimeError as err:
        raise ConfigError(f"image-tower weights do not fit the CONCH architecture options: {str(err)[:300]}",
                          file=weights, field="model_dir") from None
    return tower


class ConchTileEmbedder(TileEmbedder):
    """CONCH's image tower from local weights (or seeded random weights with ``random_init``)."""

    def __init__(self, config: ConchConfig) -> None:
        weights = conch_weights(config)
        tower = build_conch_tower(config)
        if weights is not None:
            load_conch_tower(tower, weights)
        pretrained = {"input_size": [3, config.image_size, config.image_size], "crop_pct": 1.0,
                      "interpolation": "bicubic", "mean": OPENAI_MEAN, "std": OPENAI_STD}
        super().__init__(config, tower.eval(), pretrained)
