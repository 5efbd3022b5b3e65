"""Sanity checks on a sample of the real IU chest X-ray reports (loose thresholds)."""

from __future__ import annotations

import pytest
from clinfusion.testing import requires_shared_data
from clinfusion.testing.reports import (
    IU_RELPATH,
    extraction_scores,
    load_iu_reports,
    mean_embeddings,
    probe_auroc,
)

pytestmark = [requires_shared_data(IU_RELPATH), pytest.mark.shared_data]


@pytest.fixture(scope="module")
def sample():
    return load_iu_reports(n=400, seed=0)


def test_finding_extraction_matches_labels(sample):
    scores = extraction_scores(sample)
    for finding in ("cardiomegaly", "effusion", "opacity", "atelectasis", "granuloma"):
        s = scores[finding]
        assert s["n_labelled"] >= 10, finding
        assert s["precision"] > 0.6 and s["recall"] > 0.75, (finding, s)


def test_normal_vs_abnormal_separable_from_minilm(sample):
    from clinfusion.modalities.reports.embed import SentenceTransformerBackend

    small = sample.iloc[:120]
    x = mean_embeddings(list(small["text"]), SentenceTransformerBackend())
    y = (~small["normal"]).to_numpy(int)
    mean, _ = probe_auroc(x, y, folds=5)
    assert x.shape == (120, 384)
    assert mean > 0.8
