"""ClinFusion: open clinical multimodal analytics.

Import cost matters (every Streamlit rerun and pipeline start pays it), so this module imports
nothing heavy: subpackages are imported where they are used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
