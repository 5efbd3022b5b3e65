from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
DIMS = {"covariates": 3, "genomics": 4, "pathology": 5}


def _inputs(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = {"covariates": torch.randn(n, 1, 3, generator=g), "genomics": torch.randn(n, 6, 4, generator=g),
              "pathology": torch.randn(n, 9, 5, generator=g)}
    masks = {m: torch.ones(x.shape[:2], dtype=torch.bool) for m, x in tokens.items()}
    masks["pathology"][0, 5:] = False
    return tokens, masks


def _model(dims=DIMS, trained=True):
    from clinfusion.models.coattention import CoAttention

    torch.manual_seed(0)
    model = CoAttention(dims, hidden=8, heads=2)
    if trained and model.active:  # the residual starts at zero; give it weights as training would
        torch.nn.init.normal_(model.coattn.out_proj.weight, std=0.5)
    return model.eval()


def test_shapes_and_attention_over_valid_tiles_only():
    out = _model()(*_inputs())
    assert out["risk"].shape == (4,)
    w = out["coattention"]
    assert w.shape == (4, 6, 9)
    assert torch.allclose(w.sum(-1), torch.ones(4, 6))
    assert (w[0, :, 5:] == 0).all()
    assert out["coattended"].all()


def test_coattention_is_used_when_slides_and_genes_are_present():
    model = _model()
    tokens, masks = _inputs()
    base = model(tokens, masks)["risk"]
    plain = _model()
    plain.active = False  # the same weights without the co-attention residual
    assert not torch.allclose(base, plain(tokens, masks)["risk"])


def test_falls_back_to_summaries_without_slides():
    model = _model()
    tokens, masks = _inputs()
    masks["pathology"][2] = False
    tokens["pathology"][2] = 1e4
    out = model(tokens, masks)
    assert torch.isfinite(out["risk"]).all()
    assert not out["coattended"][2] and out["coattended"][[0, 1, 3]].all()
    tokens["pathology"][2] = -3.0
    assert torch.allclose(model(tokens, masks)["risk"][2], out["risk"][2])


def test_cohort_without_slides_builds_the_summary_model():
    dims = {"covariates": 3, "genomics": 4}
    model = _model(dims)
    tokens, masks = _inputs()
    tokens.pop("pathology")
    masks.pop("pathology")
    out = model(tokens, masks)
    assert not model.active and "coattention" not in out
    assert out["risk"].shape == (4,) and torch.isfinite(out["risk"]).all()
