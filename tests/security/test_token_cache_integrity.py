"""Token cache entries are verified by content hash and owner (issue 23).

A truncated cache file was reported "cached" and crashed train with ``BadZipFile``; a cache
file copied over another patient's was used silently. Now featurize recomputes both and says
why, and ``load_tokens`` (what training reads) refuses a damaged cache with a readable error.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from clinfusion.errors import FeaturizeError
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import cache_dir, load_tokens, read_index
from clinfusion.ingest.runner import ingest
from clinfusion.modalities.registry import default_encoder, encoder_class
from clinfusion.testing import write_tiny_cohort


@pytest.fixture
def featurized(tmp_path):
    tc = write_tiny_cohort(tmp_path / "cohort", n_patients=4)
    ws = ingest(tc.root, tmp_path / "ws", demo=True).workspace
    rep = featurize(ws, encoder_class("clinical")())
    assert len(rep.encoded) == 4
    return ws


def _files(ws):
    base = cache_dir(ws, "clinical", default_encoder("clinical"))
    return base, {pid: base / e["file"] for pid, e in read_index(ws, "clinical", default_encoder("clinical"))["patients"].items()}


def test_index_records_hash_and_owner(featurized):
    base, files = _files(featurized)
    entries = read_index(featurized, "clinical", default_encoder("clinical"))["patients"]
    assert all(len(e["sha256"]) == 64 and e["patient"] == pid for pid, e in entries.items())
    rep = featurize(featurized, encoder_class("clinical")())
    assert len(rep.cached) == 4 and not rep.recomputed


def test_truncated_file_refused_then_recomputed(featurized):
    base, files = _files(featurized)
    victim = sorted(files)[0]
    files[victim].write_bytes(files[victim].read_bytes()[:40])
    with pytest.raises(FeaturizeError, match="not intact.*run `clinfusion featurize"):
        load_tokens(featurized, "clinical")
    rep = featurize(featurized, encoder_class("clinical")())
    assert victim in rep.recomputed and "does not match its hash" in rep.recomputed[victim]
    assert victim not in rep.cached and victim in rep.encoded
    assert set(load_tokens(featurized, "clinical")) == set(files)


def test_file_copied_over_another_patients_is_not_used(featurized):
    base, files = _files(featurized)
    a, b = sorted(files)[:2]
    before = load_tokens(featurized, "clinical")
    assert not np.array_equal(before[a].tokens, before[b].tokens)
    shutil.copy(files[a], files[b])
    with pytest.raises(FeaturizeError, match="not intact"):
        load_tokens(featurized, "clinical")
    rep = featurize(featurized, encoder_class("clinical")())
    assert list(rep.recomputed) == [b]
    after = load_tokens(featurized, "clinical")
    assert np.array_equal(after[b].tokens, before[b].tokens)
