"""Tiny whole-slide images for tests and benchmarks: pyramidal tiled TIFFs OpenSlide reads.

:func:`write_synthetic_slide` paints H&E-like tissue (pink stroma with purple nuclei, optional
blue pen stroke) on white glass, writes it as a JPEG-tiled pyramid with its mpp in the TIFF
resolution tags (OpenSlide "generic-tiff"), and appends a *label* image with planted text plus
planted PHI in the ImageDescription and DateTime tags, like a scanner would: the privacy tests
check that none of it reaches the workspace. :func:`write_bad_slides` writes the inputs that
must be quarantined (truncated slide, non-tiled TIFF, PNG renamed ``.svs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SyntheticSlide:
    """What was written: path, level-0 size (w, h), mpp, the label image and planted strings."""

    path: Path
    size: tuple[int, int]
    mpp: float
    label: np.ndarray
    planted: tuple[str, ...]


def text_image(text: str, size: tuple[int, int] = (320, 120)) -> np.ndarray:
    """An RGB image ``[h, w, 3]`` with ``text`` drawn in black on white (a slide label)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(text.split("\n")):
        draw.text((10, 10 + 22 * i), line, fill="black")
    draw.rectangle([size[0] - 70, 10, size[0] - 10, 70], outline="black", width=3)  # a 'barcode' box
    return np.asarray(img)


def paint_tissue(size: tuple[int, int], seed: int = 0, pen: bool = False, tissue_frac: float = 0.45) -> np.ndarray:
    """H&E-like RGB image ``[h, w, 3]`` uint8: an elliptical tissue region with nuclei on glass."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(tissue_frac / np.pi)
    inside = ((xx / w - 0.5) / r) ** 2 + ((yy / h - 0.5) / (r * 1.2)) ** 2 < 1.0
    img = np.empty((h, w, 3), np.float32)
    img[:] = (242, 240, 243)
    stroma = np.array([225, 140, 180], np.float32) + rng.normal(0, 12, (h, w, 1))
    img[inside] = stroma[inside]
    n_nuclei = int(inside.sum() / 400)
    cx, cy = rng.integers(0, w, n_nuclei), rng.integers(0, h, n_nuclei)
    for x, y in zip(cx, cy, strict=True):
        if inside[y, x]:
            y0, y1, x0, x1 = max(0, y - 4), min(h, y + 5), max(0, x - 4), min(w, x + 5)
            img[y0:y1, x0:x1] = (90, 50, 140)
    if pen:
        band = (np.abs(yy - 0.3 * h - 0.2 * xx) < max(6, h // 40)) & inside
        img[band] = (30, 60, 200)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_synthetic_slide(path: str | Path, size: tuple[int, int] = (1536, 1280), *, mpp: float = 0.5, levels: int = 3,
                          seed: int = 0, pen: bool = False, patient_name: str = "DOE^JANE",
                          barcode: str = "SLIDE-BC-998877") -> SyntheticSlide:
    """Write a JPEG-tiled pyramidal TIFF with a label image and planted PHI.

    Args:
        path: output ``.tiff`` path.
        size: level-0 (width, height) in pixels.
        mpp: level-0 um/px (stored in the TIFF resolution tags, centimetre unit).
        levels: pyramid levels (each halves the size).
        seed: painting seed.
        pen: draw a blue pen stroke across the tissue.
        patient_name, barcode: planted in the label image, ImageDescription and DateTime tags.

    Returns:
        The description, including the label pixels and the planted strings.
    """
    import tifffile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = paint_tissue(size, seed, pen)
    label = text_image(f"{patient_name}\n{barcode}\n1987-03-14")
    description = f"Synthetic scanner|Patient={patient_name}|Barcode={barcode}|Filename={path.name}"
    px_per_cm = 1e4 / mpp
    with tifffile.TiffWriter(path) as tif:
        for i in range(levels):
            level = base[:: 2**i, :: 2**i]
            tif.write(level, tile=(256, 256) if min(level.shape[:2]) >= 256 else (128, 128), photometric="rgb",
                      compression="jpeg", resolution=(px_per_cm / 2**i, px_per_cm / 2**i), resolutionunit="CENTIMETER",
                      description=description if i == 0 else None, metadata=None, subfiletype=0 if i == 0 else 1,
                      datetime="1987:03:14 10:11:12" if i == 0 else None)
        tif.write(label, photometric="rgb", description=f"label {barcode}", metadata=None, subfiletype=1)
    return SyntheticSlide(path, size, mpp, label, (patient_name, barcode, "1987-03-14", "1987:03:14"))


def write_bad_slides(folder: str | Path, good_slide: str | Path) -> dict[str, Path]:
    """Write inputs that must be quarantined into ``folder``.

    Returns:
        ``{"truncated": ..., "plain_tiff": ..., "png_as_svs": ...}``.
    """
    import tifffile
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = Path(good_slide).read_bytes()
    out = {"truncated": folder / "truncated.svs", "plain_tiff": folder / "plain.tif", "png_as_svs": folder / "photo.svs"}
    out["truncated"].write_bytes(data[: len(data) // 2])
    img = paint_tissue((300, 200), seed=1)
    tifffile.imwrite(out["plain_tiff"], img, photometric="rgb")
    Image.fromarray(img).save(out["png_as_svs"], format="PNG")
    return out
