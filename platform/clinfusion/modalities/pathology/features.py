"""Pathology encoders: per patient, one token per kept tile of every slide (or K prototypes).

Registry: ``ENCODERS`` (``handcrafted``, default, offline; ``cnn``, a MONAI ResNet from a local
checkpoint; ``timm``, any timm architecture from local weights, e.g. UNI or Virchow2;
``open_clip``, the image tower of a local open_clip model; ``conch``, CONCH's image tower from its
checkpoint). Tokens: ``[T, D]`` with positions ``[T, 2]`` = tile top-left (x, y) in level-0
pixels and groups ``[T]`` = slide index within the patient (slides ordered by their masked
source path, listed in ``meta["slides"]``).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from clinfusion.errors import FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.pathology.cnn import CnnConfig, CnnTileEncoder
from clinfusion.modalities.pathology.conch_encoder import ConchConfig, ConchTileEmbedder
from clinfusion.modalities.pathology.open_clip_encoder import OpenClipConfig, OpenClipTileEmbedder
from clinfusion.modalities.pathology.prototypes import DEFAULT_PROTOTYPE_ABOVE, DEFAULT_SLIDE_PROTOTYPES
from clinfusion.modalities.pathology.timm_encoder import (
    TileEmbedder,
    TileModelOptions,
    TimmConfig,
    TimmTileEmbedder,
    resolve_precision,
)
from clinfusion.workspace.hashing import sha256_text
from clinfusion.workspace.workspace import Workspace


class HandcraftedConfig(BaseModel):
    """Handcrafted encoder settings.

    Attributes:
        prototypes: compress to this many k-means prototypes per patient (0 = every tile, unless
            a slide is above ``prototype_above``).
        prototype_above: slides with more kept tiles than this become ``slide_prototypes``
            per-slide mini-batch k-means prototypes (0 = never; see prototypes.compress_large_slides).
        slide_prototypes: prototypes per compressed slide.
        seed: k-means seed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    prototypes: int = Field(0, ge=0)
    prototype_above: int = Field(DEFAULT_PROTOTYPE_ABOVE, ge=0)
    slide_prototypes: int = Field(DEFAULT_SLIDE_PROTOTYPES, ge=1)
    seed: int = 0


class _TileEncoder(Encoder):
    """Shared merge of per-slide tile features into one patient TokenSet."""

    modality = "pathology"

    @abstractmethod
    def slide_features(self, row: Any, artifacts: dict[str, Any], ws: Workspace) -> tuple[np.ndarray, list[str] | None]:
        """``([kept tiles, D] float32, feature names or None)`` of one slide."""

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        from clinfusion.modalities.pathology.prototypes import compress_tokens
        from clinfusion.modalities.pathology.read import load_slide_artifacts

        feats, pos, groups, slides, names = [], [], [], [], None
        for g, row in enumerate(rows.sort_values("source").itertuples()):
            art = load_slide_artifacts(ws.root / row.artifact_dir)
            f, names = self.slide_features(row, art, ws)
            if len(f) != len(art["tiles"]):
                raise FeaturizeError(f"{len(f)} feature rows for {len(art['tiles'])} kept tiles", file=row.artifact_dir)
            feats.append(f)
            pos.append(art["tiles"][["x", "y"]].to_numpy(np.float32))
            groups.append(np.full(len(f), g, np.int64))
            slides.append(row.item_id)
        tokens = TokenSet(np.concatenate(feats), positions=np.concatenate(pos), groups=np.concatenate(groups),
                          feature_names=names, meta={"slides": slides, "positions": "tile top-left x, y (level-0 px)"})
        return compress_tokens(tokens, self.config)


class HandcraftedEncoder(_TileEncoder):
    """Handcrafted H&E tile features (computed during ingest; see handcrafted.py). No weights."""

    name = "handcrafted"
    version = "2"
    Config = HandcraftedConfig
    config: HandcraftedConfig  # validated by Encoder.__init__ with Config

    def slide_features(self, row: Any, artifacts: dict[str, Any], ws: Workspace) -> tuple[np.ndarray, list[str] | None]:
        if artifacts["features"] is None:
            raise FeaturizeError("slide was ingested with options.features: false; re-ingest with features on",
                                 file=row.artifact_dir, field="features")
        return artifacts["features"], artifacts["meta"].get("feature_names")


class CnnEncoder(_TileEncoder):
    """MONAI ResNet tile embeddings from a local checkpoint, of the tile pixels ingest stored in the workspace."""

    name = "cnn"
    version = "1"
    Config = CnnConfig
    config: CnnConfig  # validated by Encoder.__init__ with Config
    needs_weights = True
    weights_options = ("checkpoint",)

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        self._impl = CnnTileEncoder(self.config)

    def slide_features(self, row: Any, artifacts: dict[str, Any], ws: Workspace) -> tuple[np.ndarray, list[str] | None]:
        if not hasattr(self, "_impl"):
            self.setup(ws, pd.DataFrame())
        return self._impl.slide_features(ws.root / row.artifact_dir, artifacts), None


class _PixelTileEncoder(_TileEncoder):
    """A network over the stored tile pixels (timm, open_clip): weights, device, autocast."""

    needs_weights = True
    weights_options = ("model_dir",)
    _impl: TileEmbedder

    def config_hash(self) -> str:
        """Base key + the autocast dtype this device will use (bf16 tokens differ from fp32 ones)."""
        from clinfusion.featurize.options import resolve_device

        config = cast(TileModelOptions, self.config)
        dtype = resolve_precision(config.precision, resolve_device(config.device))
        return sha256_text(f"{super().config_hash()}|precision={dtype}")

    @abstractmethod
    def embedder(self) -> TileEmbedder:
        """The model holder of this process."""

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        self._impl = self.embedder()

    def slide_features(self, row: Any, artifacts: dict[str, Any], ws: Workspace) -> tuple[np.ndarray, list[str] | None]:
        if not hasattr(self, "_impl"):
            self.setup(ws, pd.DataFrame())
        return self._impl.slide_features(ws.root / row.artifact_dir, len(artifacts["tiles"])), None


class TimmEncoder(_PixelTileEncoder):
    """Any timm architecture from local weights (UNI, Virchow2, H-optimus, ...); see timm_encoder.py."""

    name = "timm"
    version = "1"
    Config = TimmConfig
    config: TimmConfig  # validated by Encoder.__init__ with Config

    def embedder(self) -> TileEmbedder:
        return TimmTileEmbedder(self.config)


class OpenClipEncoder(_PixelTileEncoder):
    """The image tower of an open_clip model from local weights (CLIP-style); see open_clip_encoder.py."""

    name = "open_clip"
    version = "1"
    Config = OpenClipConfig
    config: OpenClipConfig  # validated by Encoder.__init__ with Config

    def embedder(self) -> TileEmbedder:
        return OpenClipTileEmbedder(self.config)


class ConchEncoder(_PixelTileEncoder):
    """CONCH's image tower (CoCa ViT-B/16 + attentional pooling) from local weights; see conch_encoder.py."""

    name = "conch"
    version = "1"
    Config = ConchConfig
    config: ConchConfig  # validated by Encoder.__init__ with Config

    def embedder(self) -> TileEmbedder:
        return ConchTileEmbedder(self.config)


ENCODERS: dict[str, type[Encoder]] = {"handcrafted": HandcraftedEncoder, "cnn": CnnEncoder, "timm": TimmEncoder,
                                      "open_clip": OpenClipEncoder, "conch": ConchEncoder}
DEFAULT_ENCODER = "handcrafted"
