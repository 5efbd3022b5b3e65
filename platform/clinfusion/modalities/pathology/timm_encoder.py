"""``timm`` pathology tile encoder: any timm architecture from local weights, one token per tile.

Weights: ``--option model_dir=DIR`` (hub layout, see :mod:`.timm_model`) or a state dict file
with ``--option arch=...`` (+ ``model_args``). Preprocessing follows the checkpoint's
``pretrained_cfg`` (input size, resize + centre crop by ``crop_pct``, interpolation, mean/std);
each is overridable. Output per tile: the pooled embedding (``pooling``). Tiles are read only from
the workspace (the pixels ingest stored, :mod:`.tile_store`) and stream through a
``torch.utils.data.DataLoader`` in batches, so memory is bounded by ``batch_size``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from pydantic import Field

from clinfusion.errors import ConfigError
from clinfusion.featurize.options import WeightsOptions, resolve_device
from clinfusion.modalities.pathology.prototypes import DEFAULT_PROTOTYPE_ABOVE, DEFAULT_SLIDE_PROTOTYPES

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class TileModelOptions(WeightsOptions):
    """Options shared by the pixel tile encoders (``timm``, ``open_clip``).

    Attributes:
        input_size: model input side in px (default: the checkpoint's preprocessing config).
        crop_pct: resize to ``input_size / crop_pct``, then centre-crop ``input_size``.
        interpolation: resize filter. mean, std: per-channel normalisation of [0, 1] RGB.
        precision: ``auto`` = bf16 autocast on CUDA (fp16 where bf16 is unsupported), fp32 on CPU.
        num_workers: DataLoader worker processes reading tile batches. threads: torch CPU threads.
        prototypes, prototype_above, slide_prototypes: k-means compression as for ``handcrafted``.
    """

    input_size: int | None = Field(None, ge=8, description="model input px (default: pretrained_cfg)")
    crop_pct: float | None = Field(None, gt=0, le=1, description="resize to input/crop_pct, centre-crop")
    interpolation: Literal["bilinear", "bicubic", "nearest"] | None = Field(None, description="resize filter")
    mean: tuple[float, float, float] | None = Field(None, description="RGB normalisation mean (default pretrained_cfg)")
    std: tuple[float, float, float] | None = Field(None, description="RGB normalisation std (default pretrained_cfg)")
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field("auto", description="autocast dtype on CUDA")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes")
    threads: int = Field(1, ge=1, description="torch CPU threads")
    prototypes: int = Field(0, ge=0)
    prototype_above: int = Field(DEFAULT_PROTOTYPE_ABOVE, ge=0)
    slide_prototypes: int = Field(DEFAULT_SLIDE_PROTOTYPES, ge=1)


class TimmConfig(TileModelOptions):
    """Options of the ``timm`` encoder (``clinfusion encoders -m pathology`` lists them).

    Attributes:
        arch, model_args: architecture and ``create_model`` arguments (default: config.json's).
        pooling: ``default`` (the checkpoint's own: timm's head pooling; CLS + patch-token mean
            for checkpoints without head pooling, e.g. Virchow), ``cls``, ``mean`` (patch tokens,
            register tokens excluded) or ``cls+mean`` (concatenated, 2 x width).
    """

    arch: str = Field("", description="timm architecture (default: config.json 'architecture')")
    model_args: dict[str, Any] = Field(default_factory=dict, description="timm.create_model kwargs over config.json's")
    pooling: Literal["default", "cls", "mean", "cls+mean"] = Field("default", description="tile embedding pooling")


def preprocessing(config: TileModelOptions, pretrained_cfg: dict[str, Any]) -> dict[str, Any]:
    """Effective preprocessing: options over the checkpoint's ``pretrained_cfg`` over ImageNet defaults.

    Returns:
        ``{"input_size": px, "resize": px, "interpolation", "mean", "std"}``.
    """
    size = config.input_size or int((pretrained_cfg.get("input_size") or [3, 224, 224])[-1])
    crop = config.crop_pct or float(pretrained_cfg.get("crop_pct") or 1.0)
    return {
        "input_size": size,
        "resize": int(math.floor(size / crop)),
        "interpolation": config.interpolation or str(pretrained_cfg.get("interpolation") or "bicubic"),
        "mean": tuple(config.mean or pretrained_cfg.get("mean") or IMAGENET_MEAN),
        "std": tuple(config.std or pretrained_cfg.get("std") or IMAGENET_STD),
    }


def default_pooling(model: Any) -> str:
    """``default`` (timm's head pooling), or ``cls+mean`` for a ViT built without head pooling."""
    return "cls+mean" if getattr(model, "global_pool", None) == "" else "default"


def resolve_precision(precision: str, device: str) -> str:
    """Autocast dtype name actually used (``fp32`` = none).

    Raises:
        ConfigError: fp16/bf16 asked for on CPU.
    """
    import torch

    if device != "cuda":
        if precision in ("fp16", "bf16"):
            raise ConfigError(f"precision {precision} needs device cuda (CPU runs fp32)", field="precision")
        return "fp32"
    if precision == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return precision


class TileBatches:
    """``torch`` map-style dataset of contiguous tile batches of one slide's stored pixels.

    Opens the memory map lazily in each worker (a memmap would be pickled whole otherwise).
    Item ``i``: ``[<= batch_size, px, px, 3]`` uint8 tensor.
    """

    def __init__(self, path: Path, n_tiles: int, batch_size: int) -> None:
        self.path, self.n, self.bs = path, n_tiles, batch_size
        self._tiles: np.ndarray | None = None

    def __len__(self) -> int:
        return math.ceil(self.n / self.bs)

    def __getitem__(self, i: int) -> Any:
        import torch

        if self._tiles is None:
            self._tiles = np.load(self.path, mmap_mode="r")
        return torch.from_numpy(np.array(self._tiles[i * self.bs:(i + 1) * self.bs]))

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tiles": None}


class TileEmbedder:
    """One featurize process's model, device and preprocessing; embeds tile batches.

    Args:
        config: the encoder's options.
        model: the network (moved to the device here; eval mode).
        pretrained_cfg: the checkpoint's preprocessing (see :func:`preprocessing`).
    """

    def __init__(self, config: TileModelOptions, model: Any, pretrained_cfg: dict[str, Any]) -> None:
        import torch

        torch.set_num_threads(config.threads)
        self.config = config
        self.device = resolve_device(config.device)
        self.precision = resolve_precision(config.precision, self.device)
        self.model = model.to(self.device).eval()
        self.prep = preprocessing(config, pretrained_cfg)
        self._mean = torch.tensor(self.prep["mean"], device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(self.prep["std"], device=self.device).view(1, 3, 1, 1)

    def transform(self, tiles: Any) -> Any:
        """``[B, px, px, 3]`` uint8 -> ``[B, 3, S, S]`` float normalised model input on the device."""
        import torch.nn.functional as F

        x = tiles.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        size, resize = self.prep["input_size"], self.prep["resize"]
        if x.shape[-1] != resize or x.shape[-2] != resize:
            mode = self.prep["interpolation"]
            x = F.interpolate(x, size=(resize, resize), mode=mode,
                              **({"antialias": True, "align_corners": False} if mode != "nearest" else {}))
        if resize != size:
            top = (resize - size) // 2
            x = x[..., top:top + size, top:top + size]
        return (x - self._mean) / self._std

    def pool(self, x: Any) -> Any:
        """Model input -> ``[B, D]`` embeddings (the model's own output, flattened)."""
        out = self.model(x)
        return out if out.ndim == 2 else out.flatten(1)

    def embed(self, tiles: Any) -> np.ndarray:
        """``[B, px, px, 3]`` uint8 tensor -> ``[B, D]`` float32 embeddings (inference mode, autocast on CUDA)."""
        import torch

        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(self.precision)
        with torch.inference_mode(), torch.autocast(self.device, dtype=dtype or torch.float32,
                                                      enabled=dtype is not None):
            out = self.pool(self.transform(tiles))
        return out.float().cpu().numpy()

    def slide_features(self, artifact_dir: Path, n_tiles: int) -> np.ndarray:
        """``[kept tiles, D]`` float32 embeddings of one slide's stored tiles, batch by batch.

        Raises:
            FeaturizeError: no stored tile pixels, or they do not match the tile table.
        """
        import torch

        from clinfusion.modalities.pathology.tile_store import TILE_PIXELS_FILE, open_tile_pixels

        open_tile_pixels(artifact_dir, n_tiles)  # validates presence and shape
        data = TileBatches(Path(artifact_dir) / TILE_PIXELS_FILE, n_tiles, self.config.batch_size)
        loader: Any = torch.utils.data.DataLoader(cast(Any, data), batch_size=None, shuffle=False,
                                                  num_workers=self.config.num_workers,
                                                  pin_memory=self.device == "cuda")
        out = [self.embed(batch) for batch in loader]
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


class TimmTileEmbedder(TileEmbedder):
    """A timm model from local weights (:mod:`.timm_model`) with the ``pooling`` option."""

    def __init__(self, config: TimmConfig) -> None:
        from clinfusion.modalities.pathology.timm_model import build_model, read_checkpoint_spec

        self.spec = read_checkpoint_spec(config.model_dir, config.arch, dict(config.model_args), config.random_init)
        super().__init__(config, build_model(self.spec, config.seed), self.spec.pretrained_cfg)
        self.pooling = default_pooling(self.model) if config.pooling == "default" else config.pooling

    def pool(self, x: Any) -> Any:
        """Model input -> ``[B, D]`` embeddings with the configured pooling."""
        import torch

        if self.pooling == "default":
            return super().pool(x)
        feats = self.model.forward_features(x)
        if feats.ndim == 4:  # CNN feature map [B, C, H, W]: only the spatial mean is defined
            if self.pooling != "mean":
                raise ConfigError(f"pooling {self.pooling} needs a transformer (token) model; {self.spec.arch} "
                                  "gives a feature map: use pooling=mean or default", field="pooling")
            return feats.mean(dim=(2, 3))
        prefix = int(getattr(self.model, "num_prefix_tokens", 1))
        cls, patches = feats[:, 0], feats[:, prefix:].mean(dim=1)
        return {"cls": cls, "mean": patches, "cls+mean": torch.cat([cls, patches], dim=1)}[self.pooling]
