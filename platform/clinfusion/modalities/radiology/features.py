"""Radiology encoders: ``radiomics`` (default, offline), ``monai_cnn`` (MONAI 3D ResNet/DenseNet) and the
pretrained-weights encoders ``monai_bundle`` / ``torchscript3d`` (:mod:`.bundle_encoder`).

Both read the NIfTI series stored by the reader. A patient with several series (or NIfTI
items) gets tokens from each: ``groups`` holds a running series number per patient and
``meta["series"]`` maps it to (item, series index).

Shapes:
    radiomics: ``[T, 19]``: one whole-volume token per series (body mask for CT, Otsu
        foreground otherwise) plus one per lesion-like region (CT); positions ``[T, 3]`` RAS mm.
    monai_cnn: ``[S, embed_dim]``: one token per series; positions ``[S, 3]`` volume centre, RAS mm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from clinfusion.errors import ConfigError, FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.radiology.bundle_encoder import MonaiBundleEncoder, TorchScript3dEncoder
from clinfusion.modalities.radiology.nifti import read_nifti
from clinfusion.modalities.radiology.preprocess import PreprocessConfig, preprocess_volume
from clinfusion.modalities.radiology.radiomics import FEATURE_NAMES, region_features
from clinfusion.modalities.radiology.read import series_paths
from clinfusion.modalities.radiology.regions import body_mask, foreground_mask, ijk_to_world, lesion_regions
from clinfusion.workspace.workspace import Workspace


def _series(ws: Workspace, rows: pd.DataFrame, which: str) -> list[tuple[str, int, Path, dict[str, Any]]]:
    out = []
    for _, row in rows.iterrows():
        found = series_paths(ws.root, row)
        out += [(row["item_id"], i, p, rec) for i, p, rec in (found[:1] if which == "selected" else found)]
    if not out:
        raise FeaturizeError("no stored radiology series for this patient", field="series")
    return out


def _is_ct(rec: dict[str, Any], array: np.ndarray) -> bool:
    return rec.get("modality") == "CT" or (not rec.get("modality") and float(array.min()) <= -900)


class RadiomicsConfig(BaseModel):
    """Settings of the radiomics encoder.

    Attributes:
        series: encode ``all`` stored series or only the ``selected`` one per item.
        max_regions: lesion-like regions per CT series (0 = whole volume only).
        min_region_mm3: smaller regions are ignored.
        glcm_levels: grey levels of the GLCM.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    series: Literal["all", "selected"] = "all"
    max_regions: int = Field(8, ge=0)
    min_region_mm3: float = Field(30.0, ge=0)
    glcm_levels: int = Field(32, ge=4, le=256)


def volume_tokens(array: np.ndarray, affine: np.ndarray, spacing: tuple[float, float, float], *, ct: bool,
                  cfg: RadiomicsConfig) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Radiomics tokens of one volume: (features, RAS positions, names), whole volume first."""
    mask = body_mask(array) if ct else foreground_mask(array)
    k, j, i = (float(v.mean()) for v in np.nonzero(mask)) if mask.any() else (0.0, 0.0, 0.0)
    feats = [region_features(array, mask, spacing, ct=ct, levels=cfg.glcm_levels)]
    pos, names = [ijk_to_world(affine, (i, j, k))], ["volume"]
    if ct and cfg.max_regions and array.shape[0] > 1:
        for n, reg in enumerate(lesion_regions(array, spacing, max_regions=cfg.max_regions,
                                               min_volume_mm3=cfg.min_region_mm3)):
            feats.append(region_features(array, reg.mask, spacing, ct=True, levels=cfg.glcm_levels))
            pos.append(ijk_to_world(affine, reg.centroid_ijk))
            names.append(f"region{n + 1}")
    return feats, pos, names


class RadiomicsEncoder(Encoder):
    """Handcrafted radiomics tokens of the whole volume and of lesion-like regions (no weights)."""

    modality = "radiology"
    name = "radiomics"
    version = "1"
    Config = RadiomicsConfig
    config: RadiomicsConfig  # validated by Encoder.__init__ with Config

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        cfg = self.config
        tokens, pos, names, groups, series_meta = [], [], [], [], []
        for g, (item_id, idx, path, rec) in enumerate(_series(ws, rows, cfg.series)):
            vol = read_nifti(path)
            f, p, n = volume_tokens(vol.array, vol.affine, vol.spacing_mm, ct=_is_ct(rec, vol.array), cfg=cfg)
            tokens += f
            pos += p
            names += [f"s{g}:{x}" for x in n]
            groups += [g] * len(f)
            series_meta.append({"group": g, "item_id": item_id, "series_index": idx, "modality": rec.get("modality", "")})
        return TokenSet(np.stack(tokens), positions=np.stack(pos), names=names, feature_names=list(FEATURE_NAMES),
                        groups=np.asarray(groups), meta={"series": series_meta})


class CNNConfig(BaseModel):
    """Settings of the MONAI CNN encoder.

    Attributes:
        arch: ``resnet10`` (fast on CPU) or ``densenet121``.
        embed_dim: token dimension (the network's output layer size).
        checkpoint: local path of a ``state_dict`` saved with ``torch.save``; required unless
            ``random_init``.
        random_init: explicitly use seeded random weights (a fixed random projection to be
            trained in the fusion model) instead of a checkpoint.
        seed: initialisation seed of ``random_init``.
        series: encode ``all`` stored series or the ``selected`` one per item.
        preprocess: MONAI preprocessing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    arch: Literal["resnet10", "densenet121"] = "resnet10"
    embed_dim: int = Field(64, ge=1)
    checkpoint: str | None = None
    random_init: bool = False
    seed: int = 0
    series: Literal["all", "selected"] = "all"
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)


def build_network(cfg: CNNConfig):
    """The MONAI 3D network of ``cfg`` (random init with ``cfg.seed``), in eval mode."""
    import torch
    from monai.networks import nets

    torch.manual_seed(cfg.seed)
    net: torch.nn.Module
    if cfg.arch == "resnet10":
        net = nets.resnet10(spatial_dims=3, n_input_channels=1, num_classes=cfg.embed_dim)
    else:
        net = nets.DenseNet121(spatial_dims=3, in_channels=1, out_channels=cfg.embed_dim)
    return net.eval()


def load_network(cfg: CNNConfig):
    """Network with weights from ``cfg.checkpoint`` (seeded random weights only with ``random_init``).

    Raises:
        ConfigError: no checkpoint and no ``random_init``, or the checkpoint is missing or does
            not fit the architecture (names the file).
    """
    import torch

    if not cfg.checkpoint and not cfg.random_init:
        raise ConfigError(f"monai_cnn needs weights: set checkpoint=/path/state_dict.pt ({cfg.arch}, embed_dim "
                          f"{cfg.embed_dim}) or random_init=true for seeded random weights", field="checkpoint")
    net = build_network(cfg)
    if cfg.checkpoint:
        path = Path(cfg.checkpoint)
        if not path.is_file():
            raise ConfigError("checkpoint file not found", file=path, field="checkpoint")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
        except Exception as err:  # torch raises RuntimeError/UnpicklingError/KeyError for a bad file
            raise ConfigError(f"checkpoint does not fit {cfg.arch} (embed_dim {cfg.embed_dim}): "
                              f"{type(err).__name__}: {str(err)[:200]}", file=path, field="checkpoint") from None
    return net.eval()


class MonaiCNNEncoder(Encoder):
    """MONAI 3D CNN embeddings, one token per series."""

    modality = "radiology"
    name = "monai_cnn"
    version = "1"
    Config = CNNConfig
    config: CNNConfig  # validated by Encoder.__init__ with Config
    needs_weights = True
    weights_options = ("checkpoint",)  # the checkpoint's content hash is in the cache key

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        self._net = load_network(self.config)

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        import torch

        cfg = self.config
        if getattr(self, "_net", None) is None:
            self._net = load_network(cfg)
        tokens, pos, groups, series_meta = [], [], [], []
        for g, (item_id, idx, path, rec) in enumerate(_series(ws, rows, cfg.series)):
            x = preprocess_volume(path, cfg.preprocess, ct=rec.get("modality") == "CT")
            with torch.no_grad():
                tokens.append(self._net(x[None]).reshape(-1).numpy())
            aff = np.asarray(rec["affine"], dtype=np.float64)
            k, j, i = (np.asarray(rec["shape"], dtype=np.float64) - 1) / 2
            pos.append(ijk_to_world(aff, (i, j, k)))
            groups.append(g)
            series_meta.append({"group": g, "item_id": item_id, "series_index": idx, "modality": rec.get("modality", "")})
        return TokenSet(np.stack(tokens), positions=np.stack(pos), names=[f"s{g}:cnn" for g in groups],
                        groups=np.asarray(groups), meta={"series": series_meta, "arch": cfg.arch})


ENCODERS: dict[str, type[Encoder]] = {"radiomics": RadiomicsEncoder, "monai_cnn": MonaiCNNEncoder,
                                      "monai_bundle": MonaiBundleEncoder, "torchscript3d": TorchScript3dEncoder}
DEFAULT_ENCODER = "radiomics"
