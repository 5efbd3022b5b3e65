"""Pretrained 3D encoders from local files: a MONAI bundle (``monai_bundle``) or TorchScript (``torchscript3d``).

``monai_bundle`` reads a MONAI bundle directory::

    BUNDLE/configs/inference.json | inference.yaml   (with a ``network_def`` entry, the key is an option)
    BUNDLE/models/model.pt                           (state dict of network_def)  or
    BUNDLE/models/model.ts                           (TorchScript, used when there is no model.pt)

and uses the network as a feature extractor: a forward hook reads the module named by ``layer``
(dotted name as in ``net.named_modules()``, e.g. ``down_layers.3`` of a SegResNet, ``layer4`` of
a ResNet; empty = the network's output) and its output is global-average-pooled over the
spatial axes. ``torchscript3d`` runs a TorchScript file whose output is the embedding (pooled
the same way when it is still a feature map). Input preparation: :mod:`.ct_preprocess`
(Merlin's defaults). Neither encoder runs without weights unless ``random_init=true`` is given
(``monai_bundle`` only: network_def with seeded random weights).

Shapes:
    tokens ``[S, C]``: one per series (C = channels of the read layer); positions ``[S, 3]``
    volume centre, RAS mm; ``groups`` = running series number.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from clinfusion.errors import ConfigError, FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.options import WeightsOptions, resolve_device
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.radiology.ct_preprocess import FoundationPreprocess, foundation_input
from clinfusion.modalities.radiology.read import series_paths
from clinfusion.modalities.radiology.regions import ijk_to_world
from clinfusion.workspace.hashing import sha256_file, sha256_text
from clinfusion.workspace.workspace import Workspace

CONFIG_NAMES = ("inference.json", "inference.yaml", "inference.yml")


def bundle_files(model_dir: str | Path) -> tuple[Path, Path]:
    """``(inference config, weights file)`` of a bundle directory.

    Raises:
        ConfigError: not a directory, no ``configs/inference.json|yaml`` or no ``models/model.pt|.ts``.
    """
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise ConfigError("model_dir is not a directory (expected a MONAI bundle: configs/inference.json + "
                          "models/model.pt)", file=root, field="model_dir")
    configs = [root / "configs" / n for n in CONFIG_NAMES if (root / "configs" / n).is_file()]
    weights = [root / "models" / n for n in ("model.pt", "model.ts") if (root / "models" / n).is_file()]
    if not configs:
        raise ConfigError(f"no bundle config: expected configs/{' | configs/'.join(CONFIG_NAMES)}", file=root,
                          field="model_dir")
    if not weights:
        raise ConfigError("no bundle weights: expected models/model.pt (state dict) or models/model.ts (TorchScript)",
                          file=root, field="model_dir")
    return configs[0], weights[0]


def _state_dict(obj: Any, path: Path) -> dict[str, Any]:
    """The state dict inside a checkpoint (plain, or under ``state_dict``/``model``/``network``)."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "network"):
            if isinstance(obj.get(key), dict):
                return obj[key]
        return obj
    raise ConfigError(f"expected a state dict (saved with torch.save(net.state_dict())), got {type(obj).__name__}",
                      file=path, field="model_dir")


def load_bundle_network(model_dir: str | Path, network_key: str = "network_def", *, random_init: bool = False,
                        seed: int = 0) -> Any:
    """The bundle's network (``network_key`` of its inference config) with ``models/model.pt`` loaded,
    or the TorchScript ``models/model.ts`` when there is no ``model.pt``; eval mode, on CPU.

    Raises:
        ConfigError: missing files, a config without ``network_key``, or weights that do not fit
            (the message names the file and the first mismatching keys).
    """
    import torch
    from monai.bundle import ConfigParser

    config, weights = bundle_files(model_dir)
    if weights.suffix == ".ts":
        if random_init:
            raise ConfigError("random_init needs models/model.pt's network_def, not a TorchScript model", file=weights,
                              field="random_init")
        return torch.jit.load(str(weights), map_location="cpu").eval()
    parser = ConfigParser()
    parser.read_config(str(config))
    parser["bundle_root"] = str(Path(model_dir).expanduser())
    raw: Any = parser.config  # typed ConfigItem | None by MONAI; after read_config it is the parsed dict
    entries: dict[str, Any] = dict(raw or {})
    if network_key not in entries:
        raise ConfigError(f"bundle config has no {network_key!r} entry (keys: {sorted(entries)[:12]})",
                          file=config, field="network_key")
    torch.manual_seed(seed)
    try:
        net = parser.get_parsed_content(network_key, instantiate=True)
    except Exception as err:  # MONAI wraps any constructor error in RuntimeError
        raise ConfigError(f"cannot build {network_key}: {str(err).splitlines()[0][:200]}", file=config,
                          field=network_key) from None
    if not random_init:
        state = _state_dict(torch.load(str(weights), map_location="cpu", weights_only=True), weights)
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ConfigError(f"weights do not fit {network_key}: {'; '.join(str(err).splitlines()[1:3]).strip()[:300]}", file=weights,
                              field="model_dir") from None
    return net.eval()


def global_pool(out: Any) -> Any:
    """``[B, C, *spatial]`` -> ``[B, C]`` (mean over the spatial axes); ``[B, C]`` unchanged.

    A tuple/list/dict output contributes its first tensor (MONAI nets with deep supervision).
    """
    import torch

    if isinstance(out, dict):
        out = next(iter(out.values()))
    if isinstance(out, tuple | list):
        out = next(o for o in out if isinstance(o, torch.Tensor))
    if out.ndim == 1:
        return out[None]
    return out.float().flatten(2).mean(-1) if out.ndim > 2 else out.float()


def pooled_features(net: Any, x: Any, layer: str = "") -> Any:
    """Global-average-pooled output ``[B, C]`` of module ``layer`` of ``net`` for input ``x``.

    Raises:
        ConfigError: ``layer`` is not a module of ``net`` (the message lists some names), or a
            layer is asked of a TorchScript model (hooks are not supported there).
    """
    import torch

    if not layer:
        with torch.inference_mode():
            return global_pool(net(x))
    if isinstance(net, torch.jit.ScriptModule):
        raise ConfigError("TorchScript models cannot be hooked: leave layer empty (the model output is used)",
                          field="layer")
    modules = dict(net.named_modules())
    if layer not in modules:
        names = [n for n in modules if n and "." not in n]
        raise ConfigError(f"layer {layer!r} is not a module of {type(net).__name__}; top-level modules: {names}",
                          field="layer")
    seen: list[Any] = []
    handle = modules[layer].register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        with torch.inference_mode():
            net(x)
    finally:
        handle.remove()
    if not seen:
        raise FeaturizeError(f"layer {layer!r} was not called in the forward pass", field="layer")
    return global_pool(seen[0])


class _Pretrained3dConfig(WeightsOptions):
    series: Literal["all", "selected"] = Field("all", description="encode all stored series or the selected one")
    preprocess: FoundationPreprocess = Field(default_factory=FoundationPreprocess, description=(
        "input preparation: spacing_mm, orientation, hu_window, scale_range, clip, spatial_size, crop_foreground, "
        "in_channels (Merlin defaults)"))


class BundleConfig(_Pretrained3dConfig):
    """``monai_bundle`` options (plus :class:`WeightsOptions`: ``model_dir`` = the bundle directory;
    ``random_init`` builds network_def with seeded random weights, the bundle config is still read).

    Attributes:
        network_key: entry of the inference config that builds the network.
        layer: dotted module name whose output is pooled (empty = network output).
    """

    network_key: str = Field("network_def", description="inference-config entry that builds the network")
    layer: str = Field("", description="dotted module name read by a forward hook and average-pooled "
                                       "(empty = network output)")


class TorchScript3dConfig(_Pretrained3dConfig):
    """``torchscript3d`` options: ``model_dir`` = a TorchScript file (``torch.jit.save``), or a directory
    holding ``model.ts``, whose output for ``[B, in_channels, X, Y, Z]`` is an embedding ``[B, D]``
    (or a feature map, then average-pooled). ``random_init`` is refused (no architecture to initialise)."""


class _Pretrained3dEncoder(Encoder):
    modality = "radiology"
    needs_weights = True
    weights_options = ("model_dir",)
    config: _Pretrained3dConfig
    _net: Any = None

    @abstractmethod
    def _load(self) -> Any:
        """The network on CPU in eval mode (ConfigError when its weights are missing)."""

    def _layer(self) -> str:
        return ""

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        if self._net is None:
            self._device = resolve_device(self.config.device)
            self._net = self._load().to(self._device)

    def embed_volume(self, path: Path, *, ct: bool) -> np.ndarray:
        """Pooled features ``[C]`` of one NIfTI volume."""
        self.setup(Workspace(Path(".")), pd.DataFrame())
        x = foundation_input(path, self.config.preprocess, ct=ct)[None].to(self._device)
        return pooled_features(self._net, x, self._layer()).reshape(-1).cpu().numpy().astype(np.float32)

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        tokens: list[np.ndarray] = []
        pos: list[np.ndarray] = []
        groups: list[int] = []
        meta: list[dict[str, Any]] = []
        for _, row in rows.iterrows():
            found = series_paths(ws.root, row)
            for idx, path, rec in found[:1] if self.config.series == "selected" else found:
                g = len(groups)
                tokens.append(self.embed_volume(path, ct=rec.get("modality") == "CT"))
                k, j, i = (np.asarray(rec["shape"], dtype=np.float64) - 1) / 2
                pos.append(ijk_to_world(np.asarray(rec["affine"], dtype=np.float64), (i, j, k)))
                groups.append(g)
                meta.append({"group": g, "item_id": row["item_id"], "series_index": idx,
                             "modality": rec.get("modality", "")})
        if not tokens:
            raise FeaturizeError("no stored radiology series for this patient", field="series")
        return TokenSet(np.stack(tokens), positions=np.stack(pos), names=[f"s{g}:{self.name}" for g in groups],
                        groups=np.asarray(groups), meta={"series": meta, "encoder": self.name})


class MonaiBundleEncoder(_Pretrained3dEncoder):
    """A MONAI bundle's network as a frozen feature extractor (one token per series)."""

    name = "monai_bundle"
    version = "1"
    Config = BundleConfig
    config: BundleConfig  # validated by Encoder.__init__ with Config

    def config_hash(self) -> str:
        """The base key; with ``random_init`` (weights not hashed) plus the bundle config's content."""
        key = super().config_hash()
        if self.config.random_init and self.config.model_dir:
            config, _ = bundle_files(self.config.model_dir)
            key = sha256_text(key + "|network_def:" + sha256_file(config))
        return key

    def _layer(self) -> str:
        return self.config.layer

    def _load(self) -> Any:
        c = self.config
        if not c.model_dir:
            raise ConfigError("monai_bundle needs a MONAI bundle: set model_dir=/path/to/bundle (configs/inference.json"
                              " + models/model.pt); random_init=true still needs model_dir for network_def",
                              field="model_dir")
        return load_bundle_network(c.model_dir, c.network_key, random_init=c.random_init, seed=c.seed)


class TorchScript3dEncoder(_Pretrained3dEncoder):
    """A TorchScript 3D encoder file (e.g. an exported CT foundation model image tower)."""

    name = "torchscript3d"
    version = "1"
    Config = TorchScript3dConfig
    config: TorchScript3dConfig  # validated by Encoder.__init__ with Config

    def _load(self) -> Any:
        import torch

        if self.config.random_init:
            raise ConfigError("torchscript3d cannot use random_init (a TorchScript file has no architecture to "
                              "initialise): set model_dir=/path/model.ts", field="random_init")
        if not self.config.model_dir:
            raise ConfigError("torchscript3d needs weights: set model_dir=/path/model.ts (a torch.jit.save file)",
                              field="model_dir")
        path = Path(self.config.model_dir).expanduser()
        path = path / "model.ts" if path.is_dir() else path
        if not path.is_file():
            raise ConfigError("TorchScript file not found (model_dir: a .ts file or a directory with model.ts)",
                              file=path, field="model_dir")
        try:
            return torch.jit.load(str(path), map_location="cpu").eval()
        except RuntimeError as err:
            raise ConfigError(f"not a TorchScript file (torch.jit.save): {str(err).splitlines()[0][:160]}", file=path,
                              field="model_dir") from None
