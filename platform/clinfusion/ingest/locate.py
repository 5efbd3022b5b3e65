"""Map masked source paths back to real files: the operator's view, for fixing quarantined inputs.

Needs the pseudonymisation key and the cohort directory; the result is printed, never stored.
"""

from __future__ import annotations

from pathlib import Path

from clinfusion.cohort.discovery import discover_files
from clinfusion.cohort.spec import load_cohort_spec
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.privacy.paths import mask_path
from clinfusion.workspace.workspace import Workspace


def real_paths(ws: Workspace, cohort_dir: str | Path) -> dict[str, str]:
    """``{masked source: real cohort-relative path}`` for every file the cohort's patterns find."""
    spec = load_cohort_spec(cohort_dir)
    pz = Pseudonymizer(load_key(ws.root))
    out = {mask_path(f, pz): f.rel for f in discover_files(spec)}
    out[spec.clinical.path] = spec.clinical.path
    return out
