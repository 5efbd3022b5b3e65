"""``open_clip`` pathology tile encoder: the image tower of a CLIP-style model from a local directory.

Layout (what open_clip checkpoints on the Hugging Face hub ship)::

    DIR/open_clip_config.json     {"model_cfg": {"embed_dim", "vision_cfg", ...}, "preprocess_cfg": {...}}
    DIR/open_clip_model.safetensors   (or open_clip_pytorch_model.bin)

or a bare state dict file with ``--option model_name=ViT-B-16`` (an open_clip built-in config).
Only the vision tower is built (``open_clip.model._build_vision_tower``) and loaded from the
checkpoint's ``visual.*`` keys, so a text tower that would need a tokenizer or a Hugging Face
text model (BiomedCLIP) is never touched and nothing is downloaded. Output per tile: the
projected image embedding (``embed_dim``), optionally L2-normalised as ``encode_image``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from clinfusion.errors import ConfigError
from clinfusion.modalities.pathology.timm_encoder import TileEmbedder, TileModelOptions

CONFIG_FILE = "open_clip_config.json"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin", "model.safetensors", "pytorch_model.bin")


class OpenClipConfig(TileModelOptions):
    """Options of the ``open_clip`` encoder.

    Attributes:
        model_name: an open_clip built-in model config (e.g. ``ViT-B-16``) for a bare state dict.
        model_cfg: overrides merged over the model config (``embed_dim``, ``vision_cfg``...).
        normalize: L2-normalise each embedding (as CLIP's ``encode_image(normalize=True)``).
    """

    model_name: str = Field("", description="open_clip built-in config for a bare state dict, e.g. ViT-B-16")
    model_cfg: dict[str, Any] = Field(default_factory=dict, description="overrides of the model config")
    normalize: bool = Field(False, description="L2-normalise the image embeddings")


def read_open_clip_dir(config: OpenClipConfig) -> tuple[dict[str, Any], dict[str, Any], Path | None]:
    """``(model_cfg, preprocess_cfg as pretrained_cfg keys, weights file or None)``.

    Raises:
        ConfigError: missing config and no ``model_name``, no weights file, unknown model name.
    """
    cfg: dict[str, Any] = {}
    weights: Path | None = None
    if config.model_dir:
        path = Path(config.model_dir).expanduser()
        if path.is_dir():
            if (path / CONFIG_FILE).is_file():
                try:
                    cfg = json.loads((path / CONFIG_FILE).read_text())
                except (OSError, ValueError) as err:
                    raise ConfigError(f"not valid JSON ({err})", file=path / CONFIG_FILE, field="model_dir") from None
            weights = next((path / n for n in WEIGHT_FILES if (path / n).is_file()), None)
            if weights is None and not config.random_init:
                raise ConfigError(f"no weights file in the model directory: expected one of {list(WEIGHT_FILES)}",
                                  file=path, field="model_dir")
        elif path.is_file():
            weights = path
        else:
            raise ConfigError("model_dir does not exist", file=path, field="model_dir")
    model_cfg = dict(cfg.get("model_cfg") or {})
    if config.model_name:
        from clinfusion.modalities.pathology.timm_import import import_open_clip

        builtin = import_open_clip().get_model_config(config.model_name)
        if builtin is None:
            raise ConfigError(f"unknown open_clip model {config.model_name!r}", field="model_name")
        model_cfg = {**builtin, **model_cfg}
    model_cfg = {**model_cfg, **config.model_cfg}
    if "vision_cfg" not in model_cfg or "embed_dim" not in model_cfg:
        raise ConfigError(f"no model config: {CONFIG_FILE} with model_cfg.embed_dim/vision_cfg in model_dir, or "
                          "--option model_name=NAME (an open_clip config such as ViT-B-16)",
                          file=config.model_dir, field="model_name")
    pre = dict(cfg.get("preprocess_cfg") or {})
    size = pre.get("size") or model_cfg["vision_cfg"].get("image_size", 224)
    pretrained = {"input_size": [3, *(size if isinstance(size, list) else [size, size])][:3],
                  "mean": pre.get("mean"), "std": pre.get("std"), "interpolation": pre.get("interpolation"),
                  "crop_pct": 1.0}
    if pretrained["mean"] is None:  # open_clip's default normalisation (OpenAI CLIP)
        pretrained["mean"], pretrained["std"] = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    return model_cfg, pretrained, None if config.random_init else weights


def build_vision_tower(model_cfg: dict[str, Any], weights: Path | None, seed: int) -> Any:
    """The image tower in eval mode, its weights from the checkpoint's ``visual.*`` keys.

    Raises:
        ConfigError: weights without ``visual.*`` keys or that do not fit the config.
    """
    import torch

    from clinfusion.modalities.pathology.timm_import import import_open_clip
    from clinfusion.modalities.pathology.timm_model import load_state_dict

    import_open_clip()
    from open_clip.model import _build_vision_tower

    torch.manual_seed(seed)
    tower = _build_vision_tower(int(model_cfg["embed_dim"]), model_cfg["vision_cfg"],
                                quick_gelu=bool(model_cfg.get("quick_gelu", False)))
    if weights is not None:
        state = load_state_dict(weights)
        visual = {k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")}
        if not visual:
            raise ConfigError("checkpoint has no 'visual.*' (image tower) weights", file=weights, field="model_dir")
        try:
            tower.load_state_dict(visual, strict=True)
        except RuntimeError as err:
            raise ConfigError(f"image-tower weights do not fit the model config: {str(err)[:300]}", file=weights,
                              field="model_cfg") from None
    return tower.eval()


class OpenClipTileEmbedder(TileEmbedder):
    """An open_clip image tower from local weights."""

    def __init__(self, config: OpenClipConfig) -> None:
        model_cfg, pretrained, weights = read_open_clip_dir(config)
        super().__init__(config, build_vision_tower(model_cfg, weights, config.seed), pretrained)
        self.normalize = config.normalize

    def pool(self, x: Any) -> Any:
        """Model input -> ``[B, embed_dim]`` projected image embeddings."""
        import torch.nn.functional as F

        out = super().pool(x)
        return F.normalize(out, dim=-1) if self.normalize else out
