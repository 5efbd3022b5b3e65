"""Fusion networks, heads, losses and baselines; models know nothing of files.

Import the torch modules from their files (``clinfusion.models.fusion``) so that importing this
package stays cheap.
"""

from __future__ import annotations

from clinfusion.models.config import FusionConfig
from clinfusion.models.errors import ModelError

__all__ = ["FusionConfig", "ModelError"]
