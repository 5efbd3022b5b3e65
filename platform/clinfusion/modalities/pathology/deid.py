"""What slide metadata reaches the workspace: an allow-list, never a block-list.

Vendor property sets are open-ended (Aperio ``Filename``, ``Date``, ``User``, barcodes in
``ImageDescription``, DICOM patient and container identifiers), so scrubbing known bad keys
would miss the next vendor's. Only the fields below are kept, and only as numbers or as one of
a fixed set of vendor names. Associated images (label, macro, thumbnail, DICOM LABEL/OVERVIEW)
are never read: only their *names* are recorded, to show they were dropped.
"""

from __future__ import annotations

import re
from typing import Any

from clinfusion.modalities.pathology.backends.base import SlideBackend

KNOWN_VENDORS = frozenset({
    "aperio", "hamamatsu", "leica", "mirax", "philips", "sakura", "trestle", "ventana", "generic-tiff",
    "synthetic", "dicom", "unknown",
})
_ASSOCIATED = re.compile(r"^openslide\.associated\.([a-z0-9_-]+)\.")


def dropped_associated_images(props: dict[str, Any]) -> list[str]:
    """Names of the associated images a slide carries (label, macro, thumbnail); never their pixels."""
    return sorted({m.group(1) for k in props if (m := _ASSOCIATED.match(k))})


def safe_vendor(vendor: str) -> str:
    """The vendor name if it is one of the known format families, else ``"other"``."""
    return vendor if vendor in KNOWN_VENDORS else "other"


def _num(value: float | None, digits: int = 5) -> float | None:
    return None if value is None else round(float(value), digits)


def slide_metadata(slide: SlideBackend, mpp: tuple[float, float], mpp_source: str) -> dict[str, Any]:
    """De-identified slide description for the catalog and export.

    Args:
        slide: the open slide.
        mpp: level-0 resolution used (x, y) in um/px.
        mpp_source: where it came from (``"slide"``, ``"override"``).

    Returns:
        JSON-serialisable dict of numbers and enumerated strings only.
    """
    props = slide.raw_properties
    return {
        "vendor": safe_vendor(slide.vendor),
        "backend": slide.name,
        "level_count": slide.level_count,
        "width": int(slide.dimensions[0]),
        "height": int(slide.dimensions[1]),
        "level_dimensions": [[int(w), int(h)] for w, h in slide.level_dimensions],
        "level_downsamples": [_num(d, 4) for d in slide.level_downsamples],
        "mpp_x": _num(mpp[0]),
        "mpp_y": _num(mpp[1]),
        "mpp_source": mpp_source,
        "objective_power": _num(slide.objective_power, 2),
        "associated_images_dropped": dropped_associated_images(props),
        "properties_dropped": len(props),
    }
