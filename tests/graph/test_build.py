from __future__ import annotations

import numpy as np
import pytest
from clinfusion.errors import ConfigError
from clinfusion.featurize.tokens import TokenSet
from clinfusion.graph import GraphConfig, align_schema, build_patient_graph, graph_loader, load_graph_config
from clinfusion.graph.edges import knn_edges, sequential_edges, set_overlap_edges

torch = pytest.importorskip("torch")


def _patient() -> dict[str, TokenSet]:
    # 4 tiles on a line at x = 0, 1, 2, 10; 3 ECG leads; 3 gene sets, two overlapping
    path = TokenSet(np.eye(4, 3), positions=np.array([[0, 0], [1, 0], [2, 0], [10, 0]]))
    ecg = TokenSet(np.ones((3, 2)), positions=np.array([2.0, 0.0, 1.0]))
    gen = TokenSet(np.zeros((3, 2)), meta={"set_members": [["A", "B"], ["B", "C"], ["X"]]})
    return {"pathology": path, "ecg": ecg, "genomics": gen}


def test_edge_builders_on_hand_built_inputs():
    e = knn_edges(np.array([[0.0], [1.0], [2.0], [10.0]]), k=1)
    # nearest of 0 is 1, of 1 is 0 (tie with 2: lower index), of 2 is 1, of 10 is 2 -> undirected {0-1, 1-2, 2-3}
    assert sorted(map(tuple, e.T.tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
    s = sequential_edges(np.array([2.0, 0.0, 1.0]), 3)
    assert sorted(map(tuple, s.T.tolist())) == [(0, 2), (1, 2), (2, 0), (2, 1)]
    g = sequential_edges(None, 4, groups=np.array([0, 0, 1, 1]))
    assert g.shape == (2, 4)  # 0-1 and 2-3 only: no edge across groups
    o = set_overlap_edges([["A", "B"], ["B", "C"], ["X"]], min_jaccard=0.3)
    assert o.T.tolist() == [[0, 1], [1, 0]]


def test_node_and_edge_counts_on_hand_built_patient():
    data = build_patient_graph(_patient(), GraphConfig(k_spatial=1), modalities=["pathology", "ecg", "genomics", "reports"])
    assert data["patient"].num_nodes == 1
    assert data["pathology"].x.shape == (4, 3)
    assert data["pathology"].pos.shape == (4, 2)
    assert data["pathology", "intra", "pathology"].edge_index.shape[1] == 6
    assert data["ecg", "intra", "ecg"].edge_index.shape[1] == 4
    assert data["genomics", "intra", "genomics"].edge_index.shape[1] == 2
    for m, t in (("pathology", 4), ("ecg", 3), ("genomics", 3)):
        to_hub = data[m, "to_hub", "patient"].edge_index
        assert to_hub.shape == (2, t)
        assert to_hub[1].eq(0).all()
        assert torch.equal(data["patient", "from_hub", m].edge_index, to_hub.flip(0))
    # reports missing: no node type, no edges, mask False
    assert "reports" not in data.node_types
    assert not any("reports" in et for et in data.edge_types)
    assert data["patient"].mask.tolist() == [[True, True, True, False]]


def test_missing_modality_is_masked_not_zero_filled_after_batching():
    dims = {"pathology": 3, "ecg": 2, "genomics": 2, "reports": 5}
    full = _patient()
    partial = {"ecg": full["ecg"]}
    graphs = [build_patient_graph(p, GraphConfig(), modalities=list(dims)) for p in (full, partial)]
    batch = next(iter(graph_loader(graphs, dims, batch_size=2)))
    assert batch["patient"].mask.tolist() == [[True, True, True, False], [False, True, False, False]]
    assert batch["reports"].x.shape == (0, 5)  # absent everywhere: no nodes at all
    assert batch["pathology"].x.shape == (4, 3)  # only patient 0's tiles
    assert batch["pathology"].batch.tolist() == [0, 0, 0, 0]
    assert batch["ecg"].batch.tolist() == [0, 0, 0, 1, 1, 1]
    hub_dst = batch["ecg", "to_hub", "patient"].edge_index[1]
    assert hub_dst.tolist() == [0, 0, 0, 1, 1, 1]


def test_feature_knn_fallbacks_and_config_errors():
    ts = TokenSet(np.arange(8, dtype=float).reshape(4, 2))  # no positions, no set members
    for m in ("pathology", "genomics", "radiology"):
        data = build_patient_graph({m: ts}, GraphConfig(k_feature=1))
        assert data[m, "intra", m].edge_index.shape[1] == 6
    single = build_patient_graph({"clinical": TokenSet(np.ones((1, 3)))})
    assert single["clinical", "intra", "clinical"].edge_index.shape[1] == 0
    with pytest.raises(ConfigError, match="ecg"):
        build_patient_graph({"ecg": ts}, modalities=["pathology"])
    with pytest.raises(ConfigError, match="spatial_knn"):
        load_graph_config({"strategies": {"ecg": "bogus"}})
    assert load_graph_config().k_spatial == 8
    aligned = align_schema(build_patient_graph({"ecg": ts}), {"ecg": 2, "pathology": 3})
    assert aligned["pathology"].x.shape == (0, 3)


def test_edge_cache_reuses_edges_from_disk_and_keys_on_inputs(tmp_path, monkeypatch):
    import numpy as np
    from clinfusion.featurize.tokens import TokenSet
    from clinfusion.graph import GraphConfig, build_patient_graph
    from clinfusion.graph import edges as edge_mod
    from clinfusion.graph.cache import EdgeCache

    rng = np.random.default_rng(0)
    tiles = TokenSet(rng.normal(size=(12, 4)).astype(np.float32), positions=rng.uniform(0, 1000, (12, 2)))
    first = EdgeCache(tmp_path / "edges")
    g1 = build_patient_graph({"pathology": tiles}, GraphConfig(), ["pathology"], first)
    assert first.misses == 1 and len(list((tmp_path / "edges").rglob("*.npy"))) == 1

    def boom(*a, **k):
        raise AssertionError("edges recomputed")

    monkeypatch.setattr(edge_mod, "knn_edges", boom)
    again = EdgeCache(tmp_path / "edges")  # a new process: read from disk
    other_values = TokenSet(tiles.tokens + 5.0, positions=tiles.positions)  # spatial edges ignore values
    g2 = build_patient_graph({"pathology": other_values}, GraphConfig(), ["pathology"], again)
    assert again.hits == 1
    et = ("pathology", "intra", "pathology")
    assert np.array_equal(g1[et].edge_index.numpy(), g2[et].edge_index.numpy())
    moved = TokenSet(tiles.tokens, positions=tiles.positions * 2.0 + 1.0)
    with pytest.raises(AssertionError, match="recomputed"):  # new positions: a new key, computed again
        build_patient_graph({"pathology": moved}, GraphConfig(), ["pathology"], again)
