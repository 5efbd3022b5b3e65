"""Synthetic H&E whole-slide images as Aperio-style pyramidal tiled TIFFs.

Layout (what OpenSlide's Aperio driver reads): the pyramid levels are consecutive tiled JPEG
pages (each half the size of the previous one), the first page's ImageDescription starts with
``Aperio`` and carries ``MPP`` and ``AppMag``; then a stripped ``label`` page whose pixels show
the patient's name and MRN, as a scanner's label photo does. Colours follow Beer-Lambert
stain mixing of haematoxylin and eosin optical densities. Nuclear density follows
``proliferation``; the fraction of small dark lymphocytes follows ``immune``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.synth.config import ScaleSpec
from clinfusion.synth.phi import PatientPHI, PhiLedger

MPP = 0.5
"""Level-0 microns per pixel (20x)."""
_H_OD = np.array([0.65, 0.70, 0.29], np.float32)  # haematoxylin optical density per RGB channel
_E_OD = np.array([0.07, 0.99, 0.11], np.float32)  # eosin
_LUT_STEPS = 64


def slide_params(prolif: float, immune: float, rng: np.random.Generator) -> dict[str, float]:
    """Nuclei per mm^2 of tissue and lymphocyte fraction from the latents plus noise."""
    return {
        "nuclei_per_mm2": float(np.clip(2500.0 * np.exp(0.35 * prolif + 0.1 * rng.standard_normal()), 600, 9000)),
        "lymphocyte_fraction": float(1 / (1 + np.exp(-(1.2 * immune - 0.8 + 0.3 * rng.standard_normal())))),
    }


def _smooth_field(shape: tuple[int, int], coarse: int, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [0, 1], shape ``shape``: a coarse grid resized bilinearly."""
    from PIL import Image
    from scipy.ndimage import gaussian_filter

    g = gaussian_filter(rng.random((coarse, coarse)), 1.5)
    g = ((g - g.min()) / (np.ptp(g) + 1e-9)).astype(np.float32)
    return np.asarray(Image.fromarray(g, mode="F").resize((shape[1], shape[0]), Image.Resampling.BILINEAR))


def _stamps(radius: float, rng: np.random.Generator, n: int = 6) -> list[np.ndarray]:
    """Soft elliptical nucleus stamps (haematoxylin density) with chromatin texture."""
    r = int(np.ceil(radius * 1.4)) + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    out = []
    for _ in range(n):
        a, b, th = radius * rng.uniform(0.9, 1.3), radius * rng.uniform(0.6, 1.0), rng.uniform(0, np.pi)
        u, v = xx * np.cos(th) + yy * np.sin(th), -xx * np.sin(th) + yy * np.cos(th)
        d = (u / a) ** 2 + (v / b) ** 2
        out.append(np.clip(1.3 - d, 0, 1) ** 0.5 * (0.8 + 0.4 * rng.random(d.shape).astype(np.float32)))
    return out


def render_he(size: int, params: dict[str, float], rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Render level 0.

    Returns:
        ``(rgb uint8 [size, size, 3], tissue_fraction)``.
    """
    tissue = _smooth_field((size, size), 12, rng)
    c = (np.arange(size, dtype=np.float32) - size / 2) / size
    env = 1 - ((c[:, None] / 0.48) ** 2 + (c[None, :] / 0.45) ** 2)
    mask = (tissue * 0.8 + env) > 0.55
    tissue_frac = float(mask.mean())
    n = int(params["nuclei_per_mm2"] * tissue_frac * (size * MPP / 1000) ** 2)
    hem = np.zeros((size, size), np.float32)
    tumour, lymph = _stamps(7.0, rng), _stamps(4.0, rng)
    ys, xs = rng.integers(0, size, n), rng.integers(0, size, n)
    is_lymph = rng.random(n) < params["lymphocyte_fraction"]
    for y, x, lym, k in zip(ys, xs, is_lymph, rng.integers(0, 6, n), strict=True):
        if not mask[y, x]:
            continue
        st = (lymph if lym else tumour)[k] * (1.5 if lym else 1.0)
        r = st.shape[0] // 2
        y0, x0 = max(y - r, 0), max(x - r, 0)
        y1, x1 = min(y + r + 1, size), min(x + r + 1, size)
        sub = st[y0 - (y - r) : st.shape[0] - ((y + r + 1) - y1), x0 - (x - r) : st.shape[1] - ((x + r + 1) - x1)]
        np.maximum(hem[y0:y1, x0:x1], sub, out=hem[y0:y1, x0:x1])
    eos = mask * (0.2 + 0.3 * _smooth_field((size, size), 48, rng))
    # Beer-Lambert through a lookup table over quantised stain densities: the random offset
    # before truncation dithers the quantisation and doubles as camera grain
    hq = np.minimum(hem * (_LUT_STEPS / 2) + rng.random((size, size), dtype=np.float32), _LUT_STEPS - 1)
    eq = np.minimum(eos * (_LUT_STEPS / 1) + rng.random((size, size), dtype=np.float32), _LUT_STEPS - 1)
    flat = hq.astype(np.uint16) * _LUT_STEPS + eq.astype(np.uint16)
    return np.take(_stain_lut().reshape(-1, 3), flat, axis=0), tissue_frac


def _stain_lut() -> np.ndarray:
    """RGB uint8 of every (haematoxylin, eosin) density step, shape ``[steps, steps, 3]``."""
    h = np.arange(_LUT_STEPS, dtype=np.float32) / (_LUT_STEPS / 2)  # density 0..2
    e = np.arange(_LUT_STEPS, dtype=np.float32) / _LUT_STEPS  # density 0..1
    od = h[:, None, None] * _H_OD + e[None, :, None] * _E_OD
    return np.clip(244.0 * np.exp(-od), 0, 255).astype(np.uint8)


def pyramid(level0: np.ndarray, levels: int) -> list[np.ndarray]:
    """Levels by 2x2 box averaging (PIL ``reduce``): ``[level0, level0/2, ...]``."""
    from PIL import Image

    out = [level0]
    for _ in range(levels - 1):
        out.append(np.asarray(Image.fromarray(out[-1]).reduce(2)))
    return out


def label_image(lines: list[str]) -> np.ndarray:
    """A slide-label photo: white paper with the text lines and a fake 2D barcode, ``[300, 400, 3]``."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (400, 300), (246, 246, 240))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    for i, line in enumerate(lines):
        draw.text((12, 14 + 34 * i), line, fill=(10, 10, 10), font=font)
    code = np.frombuffer(" ".join(lines).encode(), np.uint8)
    bits = np.unpackbits(np.resize(code, 12 * 12 // 8 + 2))[: 12 * 12].reshape(12, 12)
    for (r, c), b in np.ndenumerate(bits):
        if b:
            draw.rectangle((300 + 7 * c, 200 + 7 * r, 306 + 7 * c, 206 + 7 * r), fill=(0, 0, 0))
    return np.asarray(img)


def write_slide(path: Path, pid: str, latents: dict[str, float], phi: PatientPHI, sizes: ScaleSpec,
                rng: np.random.Generator, ledger: PhiLedger) -> dict[str, float]:
    """Write one slide to ``path`` (``pathology/<pid>/<slide>.tiff``).

    Returns:
        The pathology phenotype: nuclei per mm^2, lymphocyte fraction, tissue fraction, mpp.
    """
    import tifffile

    params = slide_params(latents["proliferation"], latents["immune"], rng)
    rgb, tissue_frac = render_he(sizes.slide_size_px, params, rng)
    levels = pyramid(rgb, sizes.slide_levels)
    scan_date = phi.study_date.strftime("%m/%d/%y")
    fname = f"{phi.family}_{phi.mrn}_HE"
    s, t = sizes.slide_size_px, sizes.tile_px
    head = "Aperio Image Library v12.0.15 \r\n"
    desc0 = (f"{head}{s}x{s} [0,0 {s}x{s}] ({t}x{t}) JPEG/RGB Q=80|AppMag = 20|MPP = {MPP}"
             f"|Filename = {fname}|Date = {scan_date}|ScanScope ID = SS1302")
    path.parent.mkdir(parents=True, exist_ok=True)
    res = (1e4 / MPP, 1e4 / MPP)
    with tifffile.TiffWriter(path) as tw:
        for i, lev in enumerate(levels):
            desc = desc0 if i == 0 else f"{head}{s}x{s} -> {lev.shape[1]}x{lev.shape[0]} JPEG/RGB Q=80"
            tw.write(lev, tile=(t, t), compression="jpeg", compressionargs={"level": 80}, photometric="rgb",
                     description=desc, metadata=None, subfiletype=0,
                     resolution=(res[0] / 2**i, res[1] / 2**i), resolutionunit="CENTIMETER")
        lab = label_image([phi.full_name, phi.mrn, phi.study_date.isoformat(), "H&E  A1"])
        tw.write(lab, compression="lzw", photometric="rgb", description=f"{head}label {lab.shape[1]}x{lab.shape[0]}",
                 metadata=None, subfiletype=1, rowsperstrip=32)
    ledger.add(pid, "pathology", "ImageDescription.Filename", phi.family)
    ledger.add(pid, "pathology", "ImageDescription.Filename", phi.mrn)
    ledger.add(pid, "pathology", "ImageDescription.Date", scan_date)
    ledger.add(pid, "pathology", "label image pixels", phi.full_name)
    return {**params, "tissue_fraction": tissue_frac, "mpp": MPP}
