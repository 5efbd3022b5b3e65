"""PNG slice previews with window/level presets (for the review app).

Presets are (level, width) in HU: ``lung`` (-600, 1500), ``mediastinum`` (40, 400),
``bone`` (400, 1800); ``auto`` uses the 1st..99th percentile (MR, radiographs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.errors import ConfigError

WINDOWS: dict[str, tuple[float, float] | None] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (40.0, 400.0),
    "bone": (400.0, 1800.0),
    "auto": None,
}
CT_PRESETS = ("lung", "mediastinum", "bone")


def window(image: np.ndarray, preset: str) -> np.ndarray:
    """Map a 2D slice to uint8 with a window preset.

    Args:
        image: ``[rows, cols]`` values (HU for CT).
        preset: a key of :data:`WINDOWS`.

    Raises:
        ConfigError: unknown preset (lists the valid ones).
    """
    if preset not in WINDOWS:
        raise ConfigError(f"unknown window preset {preset!r}; expected one of {sorted(WINDOWS)}", field="preset")
    w = WINDOWS[preset]
    if w is None:
        lo, hi = (float(v) for v in np.percentile(image, [1, 99]))
    else:
        lo, hi = w[0] - w[1] / 2, w[0] + w[1] / 2
    scaled = (np.asarray(image, dtype=np.float32) - lo) / max(hi - lo, 1e-6)
    return (np.clip(scaled, 0, 1) * 255).round().astype(np.uint8)


def representative_slice(array: np.ndarray) -> int:
    """Index of the middle slice of ``[k, j, i]``."""
    return int(array.shape[0] // 2)


def write_previews(array: np.ndarray, out_dir: str | Path, stem: str, presets: tuple[str, ...]) -> list[str]:
    """Write ``<stem>_<preset>.png`` of the representative slice for each preset.

    Returns:
        File names written (relative to ``out_dir``).
    """
    from PIL import Image

    k = representative_slice(array)
    names = []
    for p in presets:
        name = f"{stem}_{p}.png"
        Image.fromarray(window(array[k], p)).save(Path(out_dir) / name)
        names.append(name)
    return names
