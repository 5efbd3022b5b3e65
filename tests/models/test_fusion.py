from __future__ import annotations

import pytest
from clinfusion.graph import build_patient_graph, graph_loader
from clinfusion.models.config import FusionConfig
from clinfusion.testing.tokens import make_token_cohort

torch = pytest.importorskip("torch")
MODS = ["genomics", "pathology", "ecg"]


def _batch(missing_rate=0.4, seed=0, n=6):
    c = make_token_cohort(n, tuple(MODS), missing_rate=missing_rate, seed=seed)
    dims = {m: next(iter(c.tokens[m].values())).dim for m in MODS}
    graphs = []
    for pid in c.patient_ids:
        g = build_patient_graph({m: c.tokens[m][pid] for m in MODS if pid in c.tokens[m]}, modalities=MODS)
        g["patient"].cov = torch.ones(1, 2)
        graphs.append(g)
    return dims, next(iter(graph_loader(graphs, dims, batch_size=n)))


@pytest.mark.parametrize("conv", ["sage", "gatv2"])
def test_forward_shapes_and_attention(conv):
    from clinfusion.models.fusion import FusionModel

    dims, batch = _batch()
    torch.manual_seed(0)
    model = FusionModel(dims, n_covariates=2, n_classes=3, config=FusionConfig(conv=conv, gnn_layers=2, hidden=8,
                                                                                 deep_init_zero=False)).eval()
    out = model(batch)
    assert out["risk"].shape == (6,)
    assert out["hazard_logits"].shape == (6, 4)
    assert out["diagnosis_logits"].shape == (6, 3)
    assert out["embedding"].shape == (6, 8)
    for m in MODS:
        w = out["attention"][m]
        assert w.shape == (batch[m].num_nodes,)
        sums = torch.zeros(6).index_add_(0, batch[m].batch, w)
        present = batch["patient"].mask[:, MODS.index(m)]
        assert torch.allclose(sums[present], torch.ones(int(present.sum())))
    assert torch.equal(out["present"], batch["patient"].mask)  # eval: no modality dropout


def test_hidden_modality_tokens_do_not_change_the_prediction():
    from clinfusion.models.fusion import FusionModel

    dims, batch = _batch(missing_rate=0.0)
    torch.manual_seed(0)
    model = FusionModel(dims, config=FusionConfig(hidden=8, gnn_layers=2, deep_init_zero=False)).eval()
    batch["patient"].mask[:, 1] = False  # hide pathology for everyone
    before = model(batch)["risk"]
    batch["pathology"].x = batch["pathology"].x + 100.0
    after = model(batch)["risk"]
    assert torch.allclose(before, after)


def test_wide_path_alone_is_a_linear_model_at_init():
    from clinfusion.models.fusion import FusionModel

    dims, batch = _batch()
    model = FusionModel(dims, n_covariates=2, config=FusionConfig(hidden=8)).eval()
    with torch.no_grad():
        model.heads.cox_wide.weight.fill_(0.5)
    out = model(batch)
    # deep heads start at zero: risk = bias (0) + 0.5 * (1 + 1)
    assert torch.allclose(out["risk"], torch.full((6,), 1.0) + model.heads.cox.bias)


def test_modality_dropout_patterns_keep_one_modality():
    from clinfusion.models.modality_dropout import modality_dropout

    present = torch.tensor([[True, True, True], [True, False, False], [True, True, False]]).repeat(50, 1)
    g = torch.Generator().manual_seed(0)
    for pattern in ("random", "single"):
        out = modality_dropout(present, 0.7, pattern, g)
        assert out.any(dim=1).all()
        assert not (out & ~present).any()
        assert out.sum() < present.sum()
    score = torch.cat([torch.zeros(75), torch.ones(75)])
    out = modality_dropout(present, 0.4, "informative", g, score)
    assert out[:75].equal(present[:75])  # score 0: never dropped
    assert out[75:].sum() < present[75:].sum()
    with pytest.raises(ValueError, match="dropout_pattern"):
        modality_dropout(present, 0.5, "bogus", g)


def test_modality_heads_add_one_term_per_present_modality():
    from clinfusion.models.fusion import FusionModel

    dims, batch = _batch(missing_rate=0.4, seed=2)
    torch.manual_seed(0)
    model = FusionModel(dims, config=FusionConfig(hidden=8, modality_heads=True)).eval()
    base = model(batch)["risk"]  # zero-initialised: the additive heads change nothing at the start
    with torch.no_grad():
        model.modality_heads["pathology"].bias.fill_(1.0)
    out = model(batch)["risk"]
    has_path = batch["patient"].mask[:, MODS.index("pathology")].float()
    assert has_path.min() == 0 and has_path.max() == 1  # both kinds of patients in the batch
    assert torch.allclose(out - base, has_path)  # +1 for patients with a slide, nothing for the others
