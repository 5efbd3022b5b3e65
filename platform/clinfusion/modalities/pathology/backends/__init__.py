"""Slide backends: one file per backend behind an explicit registry.

``BACKENDS`` maps a name to ``"module:Class"`` (imported on use, so openslide or pydicom load
only when a slide of that kind is opened). ``open_slide`` picks the backend by file content
(see :mod:`clinfusion.modalities.pathology.detect`), never by extension.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from clinfusion.errors import ConfigError
from clinfusion.modalities.pathology.backends.base import SlideBackend

BACKENDS: dict[str, str] = {
    "openslide": "clinfusion.modalities.pathology.backends.openslide_backend:OpenSlideBackend",
    "dicom": "clinfusion.modalities.pathology.backends.dicom_backend:DicomWsiBackend",
}


def backend_class(name: str) -> type[SlideBackend]:
    """The backend class registered as ``name``.

    Raises:
        ConfigError: unknown backend (lists the valid ones).
    """
    if name not in BACKENDS:
        raise ConfigError(f"unknown slide backend {name!r}; expected one of {sorted(BACKENDS)}", field="backend")
    module, _, attr = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def open_slide(path: str | Path, files: list[Path] | None = None, backend: str | None = None) -> SlideBackend:
    """Open a slide with the backend its content calls for (or the one named).

    Args:
        path: primary file.
        files: every file of the slide (DICOM series split across files); default ``[path]``.
        backend: force a backend by name.

    Raises:
        IngestError: the file is not a readable whole-slide image (the message says why).
        ConfigError: unknown backend name.
    """
    from clinfusion.modalities.pathology.detect import detect_backend

    name = backend or detect_backend(Path(path))
    cls = backend_class(name)
    if name == "dicom":
        return cls(Path(path), files=[Path(f) for f in files] if files else None)
    return cls(Path(path))


__all__ = ["BACKENDS", "SlideBackend", "backend_class", "open_slide"]
