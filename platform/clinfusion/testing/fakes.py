"""Fake reader and encoder for testing the ingest and featurize machinery without real formats.

``FakeTextReader`` ingests ``*.txt`` files: content ``BAD`` raises an IngestError (quarantine),
``CRASH`` raises a RuntimeError (a reader bug, also quarantined), ``SLOW...`` sleeps 0.3 s,
``HANG`` never returns (a stuck reader, for the per-item budget), ``LEAK`` raises a RuntimeError whose
message holds the raw patient id, the file name and its path (for masking), ``VANISH`` deletes its
own file and reads it again (a file deleted while ingest runs); anything else is written back
upper-cased. Files sharing a stem (``a.txt`` + ``a.sig``) form one item, to test grouping.
``FakeEncoder`` turns each ingested text into one token of character statistics.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.errors import FeaturizeError, IngestError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.base import IngestContext, IngestResult, Item, Reader
from clinfusion.modalities.registry import ModalityPlugin
from clinfusion.workspace.workspace import Workspace

FAKE_MODALITY = "ecg"
"""The fake stands in for a file-based modality that the cohort layout already knows."""


class FakeTextReader(Reader):
    """Reads text files; see the module docstring for the failure triggers."""

    modality = FAKE_MODALITY
    version = "1"

    def group(self, files: list[DiscoveredFile]) -> list[list[DiscoveredFile]]:
        groups: dict[str, list[DiscoveredFile]] = defaultdict(list)
        for f in files:
            groups[str(Path(f.rel).with_suffix(""))].append(f)
        return [sorted(g, key=lambda f: (not f.rel.endswith(".txt"), f.rel)) for _, g in sorted(groups.items())]

    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        text = item.primary.path.read_text().strip()
        if text == "BAD":
            raise IngestError("content is BAD; expected anything else", file=item.primary.rel, field="content")
        if text == "CRASH":
            raise RuntimeError("simulated reader bug")
        if text == "HANG":
            while True:  # stuck like a backtracking regex: only killing the process ends it
                time.sleep(0.05)
        if text == "LEAK":
            raise RuntimeError(f"bad header value for {item.patient_id} in {item.primary.path.name} ({item.primary.path})")
        if text == "VANISH":
            item.primary.path.unlink()
            item.primary.path.read_text()
        if text.startswith("SLOW"):
            time.sleep(0.3)  # lets a test kill the process mid-run
        (out_dir / "text.txt").write_text(text.upper())
        rejected = {f.rel: "signature file not used" for f in item.files[1:] if f.rel.endswith(".rej")}
        return IngestResult(artifacts=["text.txt"], metadata={"chars": len(text)}, rejected=rejected)


class FakeEncoder(Encoder):
    """One token per patient: [n_items, total chars, mean char code]; fails on text 'NOFEAT'."""

    modality = FAKE_MODALITY
    name = "fake"
    version = "1"

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        texts = [(ws.root / r.artifact_dir / "text.txt").read_text() for r in rows.itertuples()]
        if any(t == "NOFEAT" for t in texts):
            raise FeaturizeError("text NOFEAT cannot be encoded", field="text")
        codes = np.array([ord(c) for t in texts for c in t] or [0], dtype=np.float32)
        return TokenSet(np.array([[len(texts), sum(map(len, texts)), codes.mean()]]), names=["all"],
                        feature_names=["n_items", "chars", "mean_code"])


ENCODERS = {"fake": FakeEncoder}
DEFAULT_ENCODER = "fake"

FAKE_PLUGIN = ModalityPlugin(
    FAKE_MODALITY,
    reader="clinfusion.testing.fakes:FakeTextReader",
    features="clinfusion.testing.fakes",
)
