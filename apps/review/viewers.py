"""The review app's interactive viewers as Streamlit custom components (layout; data from clinfusion.review).

Both components are single self-written HTML/JS files under ``components/`` (no CDN, no npm build,
nothing fetched at run time). Their pixel data travels inside the component's arguments, i.e. over
the websocket of the session that passed the login check on this script run: there is no URL that
serves a volume or a slide tile (the component's static HTML holds no patient data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

HERE = Path(__file__).resolve().parent / "components"
_CT = components.declare_component("cf_ct_viewer", path=str(HERE / "ct_viewer"))
_SLIDE = components.declare_component("cf_slide_viewer", path=str(HERE / "slide_viewer"))


@st.cache_data(show_spinner=False, max_entries=8)
def ct_payload(path: str, is_ct: bool, label: str, max_voxels: int) -> dict[str, Any]:
    """The CT viewer's arguments for one stored series (cached per series; see clinfusion.review.ct_volume)."""
    from clinfusion.review import ct_volume

    vol = ct_volume.downsample(ct_volume.load_volume(Path(path)), max_voxels)
    overlay, name = (ct_volume.region_labels(vol), "lesion-like regions (radiomics heuristic)") if is_ct else (None, "")
    return ct_volume.payload(vol, is_ct=is_ct, overlay=overlay, overlay_name=name, label=label)


def ct_viewer(args: dict[str, Any], initial_preset: str, key: str) -> None:
    """Embed the CT viewer with the payload ``args`` (:func:`ct_payload`)."""
    _CT(**args, initial_preset=initial_preset, key=key, default=None, height=640)


@st.cache_data(show_spinner=False, max_entries=8)
def slide_payload(slide_dir: str, budget_bytes: int) -> dict[str, Any]:
    """The slide viewer's pyramid for one slide's artifacts (cached; see clinfusion.review.dzi)."""
    from clinfusion.review import dzi

    return dzi.viewer_payload(Path(slide_dir), budget_bytes)


def slide_viewer(args: dict[str, Any], layers: list[dict[str, Any]], key: str) -> None:
    """Embed the deep-zoom slide viewer; ``layers``: per-tile score layers (:func:`clinfusion.review.dzi.heat_layer`),
    the first shown, the others selectable (attention / attribution)."""
    _SLIDE(**args, heat={"layers": layers}, key=key, default=None, height=700)


@st.cache_data(show_spinner=False, max_entries=64)
def ecg_png(artifact_dir: str, window: int, speed: float, gain: float, dpi: float,
            quality: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[bytes, str]:
    """One ECG window at true scale as PNG and its scale statement (clinfusion.review.ecg_paper)."""
    from clinfusion.modalities.ecg.artifact import load_signal
    from clinfusion.review.ecg_paper import ecg_paper_figure, figure_png

    a = load_signal(Path(artifact_dir))
    fig, sc = ecg_paper_figure(a.signal[window], a.fs_hz, a.present, speed_mm_s=speed, gain_mm_mv=gain, dpi=dpi,
                               quality={k: list(v) for k, v in quality}, title=f"window {window + 1} of {len(a.signal)}")
    return figure_png(fig, dpi), sc.describe()


def true_scale_html(png: bytes, caption: str) -> str:
    """An inline ``<figure>`` (class ``cf-image``) showing the PNG at its natural pixel size (never shrunk to
    the column: a narrower column scrolls horizontally, so the mm scale holds)."""
    import base64
    import html

    from images import IMAGE_CLASS

    b64 = base64.b64encode(png).decode("ascii")
    return (f'<figure class="{IMAGE_CLASS}" style="margin:0 0 1em 0;overflow-x:auto">'
            f'<img src="data:image/png;base64,{b64}" style="max-width:none;width:auto" alt="{html.escape(caption)}"/>'
            f'<figcaption style="font-size:0.85em;opacity:0.7">{html.escape(caption)}</figcaption></figure>')
