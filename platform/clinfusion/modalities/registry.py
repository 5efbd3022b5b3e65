"""Explicit registry of modalities: reader, encoders and export for each.

Entries are import strings, imported on first use, so ``import clinfusion`` stays cheap and a
modality's heavy dependencies (pydicom, openslide, wfdb, torch) load only when it is used.
Unknown names fail with the list of valid ones.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clinfusion.cohort.spec import ALL_MODALITIES
from clinfusion.errors import ConfigError

if TYPE_CHECKING:  # types only: importing the registry stays cheap
    from clinfusion.featurize.base import Encoder
    from clinfusion.modalities.base import Reader


@dataclass(frozen=True)
class ModalityPlugin:
    """Where a modality's pieces live.

    Attributes:
        name: modality name.
        reader: ``"module:Class"`` of its :class:`~clinfusion.modalities.base.Reader`.
        features: module exposing ``ENCODERS: dict[str, type[Encoder]]`` and ``DEFAULT_ENCODER``,
            or ``None`` until the modality has encoders.
        export: ``"module:function"`` with signature ``(workspace, catalog) -> DataFrame``
            (interpretable per-item table), or ``None`` for the generic metadata export.
    """

    name: str
    reader: str
    features: str | None = None
    export: str | None = None


def conventional_plugin(name: str) -> ModalityPlugin:
    """The plugin of a modality laid out as every built-in one is: ``modalities/<name>/read.py``
    with ``<Name>Reader``, ``features.py`` with ``ENCODERS``/``DEFAULT_ENCODER`` and ``export.py``
    with ``export_<name>``."""
    pkg = f"clinfusion.modalities.{name}"
    return ModalityPlugin(name, reader=f"{pkg}.read:{name.capitalize()}Reader", features=f"{pkg}.features",
                          export=f"{pkg}.export:export_{name}")


# One plugin per name of cohort.spec.ALL_MODALITIES (the single list of modalities): adding a
# modality is a name there plus a modalities/<name>/ package of the conventional shape.
MODALITY_PLUGINS: dict[str, ModalityPlugin] = {m: conventional_plugin(m) for m in ALL_MODALITIES}


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    mod = importlib.import_module(module)
    return getattr(mod, attr) if attr else mod


def plugin(modality: str) -> ModalityPlugin:
    """The registry entry of a modality.

    Raises:
        ConfigError: unknown modality (lists the registered ones).
    """
    try:
        return MODALITY_PLUGINS[modality]
    except KeyError:
        raise ConfigError(
            f"unknown modality {modality!r}; expected one of {sorted(MODALITY_PLUGINS)}", field="modality"
        ) from None


def registered_modalities() -> list[str]:
    """Modalities that have a reader."""
    return sorted(MODALITY_PLUGINS)


def reader_class(modality: str) -> type[Reader]:
    """The reader class of a modality (imports its module)."""
    return _import(plugin(modality).reader)


def encoders(modality: str) -> dict[str, type[Encoder]]:
    """The encoder registry of a modality (``{}`` when it has none yet)."""
    p = plugin(modality)
    return dict(_import(p.features).ENCODERS) if p.features else {}


def default_encoder(modality: str) -> str:
    """Name of a modality's default (offline) encoder.

    Raises:
        ConfigError: the modality has no encoders.
    """
    p = plugin(modality)
    if not p.features:
        raise ConfigError(f"modality {modality!r} has no encoders yet", field="modality")
    return str(_import(p.features).DEFAULT_ENCODER)


def encoder_class(modality: str, name: str | None = None) -> type[Encoder]:
    """An encoder class by name (default encoder when ``name`` is None).

    Raises:
        ConfigError: unknown encoder (lists the valid names).
    """
    reg = encoders(modality)
    name = name or default_encoder(modality)
    if name not in reg:
        raise ConfigError(f"unknown {modality} encoder {name!r}; expected one of {sorted(reg)}", field="encoder")
    return reg[name]


def export_function(modality: str) -> Any | None:
    """The modality's export function, or ``None`` for the generic metadata export."""
    p = plugin(modality)
    return _import(p.export) if p.export else None
