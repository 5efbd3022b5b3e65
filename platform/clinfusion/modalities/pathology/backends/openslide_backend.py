"""OpenSlide backend: Aperio SVS, Hamamatsu NDPI, MIRAX, Leica SCN, Ventana, generic tiled TIFF."""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.pathology.backends.base import SlideBackend

_BAND_PX = 256  # row band height of threaded whole-level reads


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out > 0 else None


class OpenSlideBackend(SlideBackend):
    """A slide opened with openslide-python (the bundled openslide-bin library)."""

    name = "openslide"
    concurrent_reads = True  # OpenSlide handles are thread-safe; ctypes calls release the GIL

    def __init__(self, path: Path, direct_jpeg: bool = True) -> None:
        """Open ``path``.

        Args:
            direct_jpeg: decode plain JPEG-tiled TIFF levels directly (:mod:`.tiff_jpeg`, checked
                against OpenSlide per level) for whole-level and region reads; False reads
                everything through OpenSlide (the reference the tests compare with).
        """
        super().__init__(path)
        import openslide

        self._direct = direct_jpeg
        self._fast_levels: dict[int, Any] = {}  # level -> TiffJpegLevel or None, found on first use
        self._fast_lock = threading.Lock()

        try:
            self._slide = openslide.OpenSlide(str(path))
        except openslide.OpenSlideError as err:
            raise IngestError(f"OpenSlide cannot open the slide: {err}", file=path, field="format") from None

    @property
    def level_dimensions(self) -> list[tuple[int, int]]:
        return [(int(w), int(h)) for w, h in self._slide.level_dimensions]

    @property
    def level_downsamples(self) -> list[float]:
        return [float(d) for d in self._slide.level_downsamples]

    @property
    def vendor(self) -> str:
        return str(self._slide.properties.get("openslide.vendor", "unknown"))

    @property
    def mpp(self) -> tuple[float, float] | None:
        props = self._slide.properties
        x, y = _float(props.get("openslide.mpp-x")), _float(props.get("openslide.mpp-y"))
        if x is None:
            return None
        return x, y or x

    @property
    def objective_power(self) -> float | None:
        return _float(self._slide.properties.get("openslide.objective-power"))

    @property
    def raw_properties(self) -> dict[str, Any]:
        return dict(self._slide.properties)

    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> np.ndarray:
        """See :meth:`SlideBackend.read_region`; regions inside a directly decodable level at
        whole level pixels come from its JPEG tiles (same pixels), the rest from OpenSlide."""
        fast = self._jpeg_level(level)
        if fast is not None:
            ds = round(self.level_downsamples[level])
            x, y = int(location[0]), int(location[1])
            if x % ds == 0 and y % ds == 0:
                out = fast.region(x // ds, y // ds, int(size[0]), int(size[1]))
                if out is not None:
                    return out
        return self._openslide_region(location, level, size)

    def _openslide_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> np.ndarray:
        """:meth:`read_region` through OpenSlide."""
        import openslide

        try:
            rgba = self._read_rgba(int(location[0]), int(location[1]), int(level), (int(size[0]), int(size[1])))
        except openslide.OpenSlideError as err:
            raise IngestError(f"tile read failed at {location} level {level}: {err}", file=self.path, field="pixels") from None
        # Transparent (outside the scanned area) pixels render as white, as on a glass slide.
        transparent = rgba[..., 3] == 0
        rgb = rgba[..., :3]  # a view: the caller's copy (into a tile batch) is the only one
        if transparent.any():
            rgb[transparent] = 255
        return rgb

    def read_level(self, level: int, threads: int = 1) -> np.ndarray:
        """A whole level: decoded directly when it is a plain JPEG-tiled TIFF page (checked
        against OpenSlide's pixels, see :mod:`.tiff_jpeg`), else read by OpenSlide in row bands
        from ``threads`` threads (level 0) or in one call."""
        fast = self._jpeg_level(level)
        if fast is not None:
            return fast.decode(threads)
        w, h = self.level_dimensions[level]
        if threads <= 1 or self.level_downsamples[level] != 1.0 or h < 2 * _BAND_PX:
            return self._openslide_region((0, 0), level, (w, h))
        from concurrent.futures import ThreadPoolExecutor

        out = np.empty((h, w, 3), np.uint8)

        def band(y: int) -> None:
            out[y:y + _BAND_PX] = self._openslide_region((0, y), 0, (w, min(_BAND_PX, h - y)))

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(band, range(0, h, _BAND_PX)))
        return out

    def read_level_reduced(self, level: int, max_factor: float, threads: int = 1) -> tuple[np.ndarray, int]:
        """See :meth:`SlideBackend.read_level_reduced`: on a directly decodable JPEG level, every tile
        decoded at 1/2, 1/4 or 1/8 (libjpeg DCT scaling, the largest factor <= ``max_factor``);
        otherwise the full level (:meth:`read_level`), factor 1."""
        from clinfusion.modalities.pathology.backends.tiff_jpeg import SCALES

        fast = self._jpeg_level(level)
        for scale in SCALES:
            if fast is not None and scale <= max_factor:
                image = fast.decode_scaled(scale, threads)
                if image is not None:
                    return image, scale
        return self.read_level(level, threads), 1

    def _jpeg_level(self, level: int):
        """The verified direct decoder of ``level`` (a ``TiffJpegLevel``) or None; looked up once."""
        with self._fast_lock:  # tile-reading threads ask at the same time: one lookup
            if level not in self._fast_levels:
                self._fast_levels[level] = self._find_jpeg_level(level) if self._direct else None
            return self._fast_levels[level]

    def _find_jpeg_level(self, level: int):
        from clinfusion.modalities.pathology.backends.tiff_jpeg import VENDORS, TiffJpegLevel

        ds = self.level_downsamples[level]
        if self.vendor not in VENDORS or ds != round(ds):
            return None
        fast = TiffJpegLevel.find(self.path, self.level_dimensions[level])
        if fast is None or not fast.matches(
                lambda xy, wh: self._openslide_region((xy[0] * int(ds), xy[1] * int(ds)), level, wh)):
            return None
        return fast

    def _read_rgba(self, x: int, y: int, level: int, size: tuple[int, int]) -> np.ndarray:
        """``[h, w, 4]`` uint8 RGBA straight into a numpy buffer (no PIL image round trip).

        Same C calls as ``OpenSlide.read_region`` (read, then OpenSlide's own premultiplied
        ARGB -> RGBA conversion), minus the PIL image and its byte copies; falls back to the
        public API if openslide-python's internals differ.
        """
        from openslide import lowlevel

        w, h = size
        low_read, convert = getattr(lowlevel, "_read_region", None), getattr(lowlevel, "_convert", None)
        handle = getattr(self._slide, "_osr", None)
        if low_read is None or convert is None or handle is None or w <= 0 or h <= 0:
            return np.array(self._slide.read_region((x, y), level, size))
        buf = np.empty((h, w), np.uint32)
        low_read(handle, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)), x, y, level, w, h)
        convert.argb2rgba(buf)
        return buf.view(np.uint8).reshape(h, w, 4)

    def close(self) -> None:
        for fast in self._fast_levels.values():
            if fast is not None:
                fast.close()
        self._slide.close()
