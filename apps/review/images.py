"""The one way the review app shows patient images: inline in the page, never as a ``/media`` URL.

``st.image`` registers the picture with Streamlit's media file manager and the browser fetches it
from ``/media/<hash>.png``: a URL that the server hands to anyone who knows it, without a session,
also after logout. Here the PNG travels base64-encoded inside the page's own markdown element
(``<img src="data:image/png;base64,...">``), i.e. over the websocket of a session that has passed
the login check on this very script run; there is no URL to replay. Cost: ~33% more bytes per image
than PNG, once per rerun (CT slice 512 x 512 ~ 0.1-0.3 MB).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

IMAGE_CLASS = "cf-image"  # class of the <figure> wrapping every patient image (tests look for it)


def png_bytes(image: Any) -> bytes:
    """PNG bytes of an image given as PNG/JPEG bytes, a file path, a PIL image or an array.

    Arrays are ``[rows, cols]`` (grey) or ``[rows, cols, 3|4]`` (RGB/RGBA), uint8 or floats in [0, 1].
    """
    from PIL import Image

    if isinstance(image, bytes | bytearray):
        raw = bytes(image)
        if raw.startswith(b"\x89PNG"):
            return raw
        image = Image.open(io.BytesIO(raw))
    elif isinstance(image, str | Path):
        return png_bytes(Path(image).read_bytes())
    elif isinstance(image, np.ndarray):
        arr = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
        image = Image.fromarray(arr)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def figure_html(image: Any, caption: str = "", width: int | None = None) -> str:
    """``<figure>`` with the image as a ``data:`` URI and the caption as escaped text.

    Args:
        width: display width in CSS px (never wider than the column); ``None``: the column width.
    """
    b64 = base64.b64encode(png_bytes(image)).decode("ascii")
    size = f"width:{int(width)}px;max-width:100%" if width else "width:100%"
    cap = f'<figcaption style="font-size:0.85em;opacity:0.7">{html.escape(caption)}</figcaption>' if caption else ""
    return (f'<figure class="{IMAGE_CLASS}" style="margin:0 0 1em 0">'
            f'<img src="data:image/png;base64,{b64}" style="{size}" alt="{html.escape(caption)}"/>{cap}</figure>')


def show(image: Any, caption: str = "", width: int | None = None, *, container: Any = st) -> None:
    """Render a patient image inline in ``container`` (``st`` or a column); see the module docstring."""
    container.markdown(figure_html(image, caption, width), unsafe_allow_html=True)


def download_link(data: bytes | str, filename: str, mime: str, label: str, *, container: Any = st) -> None:
    """An inline download link (``data:`` URI) instead of ``st.download_button``'s ``/media`` URL.

    ``st.download_button`` parks the file in the media file manager, reachable by URL without a
    session for as long as the session lives; this link carries the bytes inside the page.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    b64 = base64.b64encode(raw).decode("ascii")
    container.markdown(f'<a class="cf-download" download="{html.escape(filename)}" '
                       f'href="data:{html.escape(mime)};base64,{b64}">{html.escape(label)}</a>',
                       unsafe_allow_html=True)
