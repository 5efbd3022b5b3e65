"""Featurize runner and cache: encode once, reuse, invalidate on change, isolate failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clinfusion.errors import ConfigError, FeaturizeError
from clinfusion.featurize import featurize, load_tokens
from clinfusion.ingest import ingest
from clinfusion.modalities.registry import encoder_class
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.fakes import FakeEncoder


@pytest.fixture
def ingested(tmp_path: Path, fake_modality: str):
    c = write_tiny_cohort(tmp_path / "c", 4)
    texts = {c.patients[0]: ["ab", "cd"], c.patients[1]: ["xyz"], c.patients[2]: ["NOFEAT"]}
    for pid, items in texts.items():
        for i, t in enumerate(items):
            p = c.root / "ecg" / pid / f"{i}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(t)
    return c, ingest(c.root, tmp_path / "ws")


def test_encode_then_cached_then_changed(ingested) -> None:
    c, rep = ingested
    ws = rep.workspace
    first = featurize(ws, FakeEncoder())
    assert len(first.encoded) == 2 and not first.cached
    assert list(first.failed.values()) == ["text NOFEAT cannot be encoded"]
    tokens = load_tokens(ws, "ecg")
    assert len(tokens) == 2
    two_items = [t for t in tokens.values() if t.tokens[0, 0] == 2][0]
    np.testing.assert_allclose(two_items.tokens[0, :2], [2, 4])
    again = featurize(ws, FakeEncoder())
    assert not again.encoded and len(again.cached) == 2
    (c.root / "ecg" / c.patients[1] / "0.txt").write_text("changed")
    ingest(c.root, ws.root)
    third = featurize(ws, FakeEncoder())
    assert len(third.encoded) == 1 and len(third.cached) == 1
    files = sorted(p.name for p in (ws.tokens_dir / "ecg" / "fake").glob("*.npz"))
    assert len(files) == 2  # the stale file of the changed patient was replaced
    assert len(featurize(ws, FakeEncoder(), force=True).encoded) == 2


def test_workers_match_serial(ingested) -> None:
    _, rep = ingested
    serial = featurize(rep.workspace, FakeEncoder())
    parallel = featurize(rep.workspace, FakeEncoder(), workers=2, force=True)
    assert sorted(serial.encoded) == sorted(parallel.encoded)
    assert serial.failed == parallel.failed


def test_registry_lookup_and_missing_cache(ingested) -> None:
    _, rep = ingested
    assert encoder_class("ecg") is FakeEncoder
    with pytest.raises(ConfigError, match=r"expected one of \['fake'\]"):
        encoder_class("ecg", "nope")
    with pytest.raises(FeaturizeError, match="clinfusion featurize"):
        load_tokens(rep.workspace, "ecg")
