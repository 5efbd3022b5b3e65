"""Build a timm model from local files only: a Hugging Face hub snapshot or a bare state dict.

Hub layout (what UNI/UNI2-h, Virchow/Virchow2, H-optimus, Phikon, Prov-GigaPath, Kaiko and
Hibou ship): ``config.json`` with ``architecture``, ``model_args`` and ``pretrained_cfg``, plus
``model.safetensors`` or ``pytorch_model.bin``. A bare state dict (one file, or a directory
without ``config.json``) needs the ``arch`` option (and ``model_args`` when they differ from
timm's defaults). ``timm.create_model(pretrained=False)`` builds the network, then the weights
are loaded strictly: nothing is ever downloaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinfusion.errors import ConfigError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin")
STATE_DICT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
# model_args values that name a class: resolved from timm.layers (e.g. Virchow's SwiGLUPacked).
CLASS_ARGS = ("mlp_layer", "embed_layer", "block_fn", "norm_layer", "act_layer")
# Known families whose published config.json leaves out arguments their model card passes in code.
FAMILY_ARGS: dict[str, dict[str, Any]] = {
    "virchow": {"mlp_layer": "SwiGLUPacked", "act_layer": "SiLU"},
}


@dataclass
class CheckpointSpec:
    """What to build and load.

    Attributes:
        arch: timm architecture name.
        model_args: keyword arguments of ``timm.create_model`` (``num_classes`` is forced to 0).
        pretrained_cfg: the checkpoint's preprocessing (input_size, mean, std, interpolation,
            crop_pct, crop_mode, tag...), ``{}`` when unknown.
        weights: the state dict file (``None``: random init).
    """

    arch: str
    model_args: dict[str, Any] = field(default_factory=dict)
    pretrained_cfg: dict[str, Any] = field(default_factory=dict)
    weights: Path | None = None


def _weights_in(directory: Path) -> Path | None:
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    found = sorted(p for p in directory.iterdir() if p.suffix in STATE_DICT_SUFFIXES and p.is_file())
    return found[0] if len(found) == 1 else None


def family(pretrained_cfg: dict[str, Any]) -> str:
    """Known family of a checkpoint by its ``pretrained_cfg`` tag/hub id (``""`` when unknown)."""
    text = f"{pretrained_cfg.get('tag', '')} {pretrained_cfg.get('hf_hub_id', '')}".lower()
    return next((f for f in FAMILY_ARGS if f in text), "")


def read_checkpoint_spec(model_dir: str, arch: str, model_args: dict[str, Any], random_init: bool) -> CheckpointSpec:
    """Resolve a ``model_dir`` (+ ``arch``/``model_args`` options) into a :class:`CheckpointSpec`.

    Options override ``config.json``: ``arch`` replaces ``architecture``, ``model_args`` are
    merged over its ``model_args``.

    Raises:
        ConfigError: no config.json and no ``arch``; no weights file; unreadable config.json
            (each names the file and the option).
    """
    cfg: dict[str, Any] = {}
    weights: Path | None = None
    if model_dir:
        path = Path(model_dir).expanduser()
        if path.is_dir():
            if (path / "config.json").is_file():
                try:
                    cfg = json.loads((path / "config.json").read_text())
                except (OSError, ValueError) as err:
                    raise ConfigError(f"config.json is not valid JSON ({err})", file=path / "config.json",
                                      field="model_dir") from None
            weights = _weights_in(path)
            if weights is None and not random_init:
                raise ConfigError(f"no weights file in the model directory: expected one of {list(WEIGHT_FILES)} "
                                  f"or a single {'/'.join(STATE_DICT_SUFFIXES)} file", file=path, field="model_dir")
        elif path.is_file():
            weights = path
        else:
            raise ConfigError("model_dir does not exist", file=path, field="model_dir")
    name = arch or str(cfg.get("architecture") or cfg.get("arch") or "")
    if not name:
        where = f"{model_dir}/config.json has no 'architecture'" if model_dir else "no model_dir"
        raise ConfigError(f"timm architecture unknown ({where}): set --option arch=NAME, e.g. arch=vit_large_patch16_224",
                          file=model_dir, field="arch")
    pretrained = dict(cfg.get("pretrained_cfg") or {})
    args = {**FAMILY_ARGS.get(family(pretrained), {}), **dict(cfg.get("model_args") or {}), **model_args}
    return CheckpointSpec(name, args, pretrained, None if random_init else weights)


def _resolve_class_args(timm: Any, args: dict[str, Any]) -> dict[str, Any]:
    import torch

    out = dict(args)
    for key in CLASS_ARGS:
        value = out.get(key)
        if not isinstance(value, str) or key in ("norm_layer", "act_layer") and value.islower():
            continue  # lower-case act/norm names ("silu", "layernorm") are resolved by timm itself
        short = value.rsplit(".", 1)[-1]
        for home in (timm.layers, torch.nn):
            if hasattr(home, short):
                out[key] = getattr(home, short)
                break
        else:
            raise ConfigError(f"model_args.{key}={value!r} names no class of timm.layers or torch.nn", field="model_args")
    return out


def load_state_dict(path: Path) -> dict[str, Any]:
    """A state dict from ``.safetensors`` or a torch pickle (``weights_only``), prefixes stripped.

    Raises:
        ConfigError: unreadable file.
    """
    import torch

    state: Any
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # safetensors/torch raise many types for corrupt or unsafe files
        raise ConfigError(f"cannot read weights ({type(err).__name__}: {str(err)[:200]})", file=path,
                          field="model_dir") from None
    for key in ("state_dict", "model", "teacher"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ConfigError(f"weights file holds a {type(state).__name__}, expected a state dict", file=path,
                          field="model_dir")
    for prefix in ("module.", "model.", "backbone."):
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def build_model(spec: CheckpointSpec, seed: int) -> Any:
    """The network in eval mode with the checkpoint's weights (or seeded random weights).

    Raises:
        ConfigError: unknown architecture, bad ``model_args``, or weights that do not fit.
    """
    import torch

    from clinfusion.modalities.pathology.timm_import import import_timm

    timm = import_timm()
    if spec.arch not in timm.list_models():
        raise ConfigError(f"unknown timm architecture {spec.arch!r} (timm {timm.__version__})", field="arch")
    args = {**_resolve_class_args(timm, spec.model_args), "num_classes": 0}
    torch.manual_seed(seed)
    try:
        model = timm.create_model(spec.arch, pretrained=False, **args)
    except TypeError as err:
        raise ConfigError(f"model_args do not fit {spec.arch}: {err}", field="model_args") from None
    if spec.weights is not None:
        state = load_state_dict(spec.weights)
        own = model.state_dict()
        # a classification head the checkpoint carries is not part of the embedding model
        state = {k: v for k, v in state.items() if k in own or not k.startswith(("head.", "fc.", "classifier."))}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        wrong = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
        if missing or unexpected or wrong:
            parts = [f"{label} {keys[:4]}{' ...' if len(keys) > 4 else ''}" for label, keys in
                     (("missing", missing), ("unexpected", unexpected), ("shape mismatch", wrong)) if keys]
            raise ConfigError(f"weights do not fit {spec.arch} with model_args {spec.model_args}: {'; '.join(parts)}. "
                              "Check --option arch / model_args against the model card", file=spec.weights,
                              field="model_args")
        model.load_state_dict(state, strict=True)
    return model.eval()
