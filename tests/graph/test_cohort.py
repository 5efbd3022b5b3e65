from __future__ import annotations

import numpy as np
import pytest
from clinfusion.graph import cohort_similarity_graph


def test_similarity_graph_finds_nearest_patients():
    emb = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    g = cohort_similarity_graph(emb, ["a", "b", "c", "d"], k=1)
    assert g.edge_index.shape == (2, 4)
    assert [n for n, _ in g.neighbours("a")] == ["b"]
    assert [n for n, _ in g.neighbours("d")] == ["c"]
    assert g.neighbours("c")[0][1] == pytest.approx(0.9 / np.sqrt(0.82))
    with pytest.raises(ValueError, match="embeddings"):
        cohort_similarity_graph(emb, ["a"], k=1)
