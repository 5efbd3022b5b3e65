"""Explicit registry of modalities: reader, encoders and export for each.

Entries are import strings, imported on first use, so ``import clinfusion`` stays cheap and a
modality's heavy dependencies (pydicom, openslide, wfdb, torch) load only when it is used.
Unknown names fail with the list of valid ones.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from clinfusion.errors import ConfigError


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


MODALITY_PLUGINS: dict[str, ModalityPlugin] = {
    "clinical": ModalityPlugin(
        "clinical",
        reader="clinfusion.modalities.clinical.read:ClinicalReader",
        features="clinfusion.modalities.clinical.features",
        export="clinfusion.modalities.clinical.export:export_clinical",
    ),
    "ecg": ModalityPlugin(
        "ecg",
        reader="clinfusion.modalities.ecg.read:EcgReader",
        features="clinfusion.modalities.ecg.features",
        export="clinfusion.modalities.ecg.export:export_ecg",
    ),
    "radiology": ModalityPlugin(
        "radiology",
        reader="clinfusion.modalities.radiology.read:RadiologyReader",
        features="clinfusion.modalities.radiology.features",
        export="clinfusion.modalities.radiology.export:export_radiology",
    ),
    "pathology": ModalityPlugin(
        "pathology",
        reader="clinfusion.modalities.pathology.read:PathologyReader",
        features="clinfusion.modalities.pathology.features",
        export="clinfusion.modalities.pathology.export:export_pathology",
    ),
    "genomics": ModalityPlugin(
        "genomics",
        reader="clinfusion.modalities.genomics.read:GenomicsReader",
        features="clinfusion.modalities.genomics.features",
        export="clinfusion.modalities.genomics.export:export_genomics",
    ),
    "reports": ModalityPlugin(
        "reports",
        reader="clinfusion.modalities.reports.read:ReportsReader",
        features="clinfusion.modalities.reports.features",
        export="clinfusion.modalities.reports.export:export_reports",
    ),
}


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


def reader_class(modality: str) -> type:
    """The reader class of a modality (imports its module)."""
    return _import(plugin(modality).reader)


def encoders(modality: str) -> dict[str, type]:
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


def encoder_class(modality: str, name: str | None = None) -> type:
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
