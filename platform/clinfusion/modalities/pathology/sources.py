"""Find the source slide files of ingested items again, without storing raw paths.

The workspace holds only masked paths (patient id replaced by its pseudonym), so a raw path
cannot be read back from it. Item ids, though, are keyed hashes of the cohort-relative path
(``pz.token("item", "pathology:<rel>")``): with the same key, re-discovering the cohort's files
(``workspace.json`` records the cohort directory) and hashing their paths maps every item id
back to its files. Only someone holding the key can do this, which is exactly who may read the
raw slides anyway; the workspace itself stays free of raw ids.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from clinfusion.errors import FeaturizeError
from clinfusion.workspace.workspace import Workspace


def resolve_slide_sources(ws: Workspace) -> dict[str, list[Path]]:
    """``{item_id: [primary file, other files of the slide]}`` for every pathology file of the cohort.

    Raises:
        FeaturizeError: the key is missing or is not the workspace's key, or the cohort moved.
        PrivacyError: no key configured.
    """
    from clinfusion.cohort.discovery import discover_files
    from clinfusion.cohort.spec import load_cohort_spec
    from clinfusion.modalities.pathology.read import PathologyReader
    from clinfusion.privacy import Pseudonymizer, load_key

    manifest = ws.manifest()
    key = load_key(ws.root)
    if key.fingerprint != manifest.get("key_fingerprint"):
        raise FeaturizeError("the configured pseudonymisation key is not this workspace's key; cannot locate slides",
                             file=ws.manifest_path, field="key_fingerprint")
    cohort_dir = Path(manifest.get("cohort_dir", ""))
    if not (cohort_dir / "cohort.yaml").is_file():
        raise FeaturizeError("cohort directory recorded in workspace.json no longer exists", file=ws.manifest_path,
                             field="cohort_dir")
    spec = load_cohort_spec(cohort_dir)
    pz = Pseudonymizer(key)
    by_patient = defaultdict(list)
    for f in discover_files(spec, ["pathology"]):
        by_patient[f.patient_id].append(f)
    out: dict[str, list[Path]] = {}
    reader = PathologyReader()
    for files in by_patient.values():
        for group in reader.group(sorted(files)):
            out[pz.token("item", f"pathology:{group[0].rel}")] = [f.path for f in group]
    return out
