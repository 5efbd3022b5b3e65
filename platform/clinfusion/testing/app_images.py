"""Find the review app's inline patient images in an AppTest run (``apps/review/images.py``).

The app renders patient images as ``<figure class="cf-image"><img src="data:image/png;base64,...">``
markdown, not with ``st.image``, so ``AppTest.image`` is empty by design; these helpers give tests
the pictures and captions back.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from typing import Any

_FIGURE = re.compile(r'<figure class="cf-image"[^>]*><img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*/>'
                     r"(?:<figcaption[^>]*>(.*?)</figcaption>)?</figure>", re.S)


@dataclass(frozen=True)
class InlineImage:
    """One inline image: its PNG bytes and its caption (unescaped text, ``""`` when none)."""

    png: bytes
    caption: str


def inline_images(app: Any) -> list[InlineImage]:
    """Every inline patient image of an :class:`streamlit.testing.v1.AppTest` after a run, in page order."""
    out = []
    for m in app.markdown:
        for b64, cap in _FIGURE.findall(m.value):
            out.append(InlineImage(base64.b64decode(b64), html.unescape(cap or "")))
    return out
