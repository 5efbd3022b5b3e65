from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
DIMS = {"covariates": 3, "genomics": 4, "pathology": 5}


def _inputs(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = {"covariates": torch.randn(n, 1, 3, generator=g), "genomics": torch.randn(n, 6, 4, generator=g),
              "pathology": torch.randn(n, 7, 5, generator=g)}
    masks = {m: torch.ones(x.shape[:2], dtype=torch.bool) for m, x in tokens.items()}
    masks["pathology"][1, 4:] = False  # patient 1: fewer tiles
    return tokens, masks


def _model():
    from clinfusion.models.multimodn import MultiModN

    torch.manual_seed(0)
    return MultiModN(DIMS, hidden=8).eval()


def test_shapes_one_prediction_per_step():
    out = _model()(*_inputs())
    assert out["risk"].shape == (4,)
    assert out["step_risk"].shape == (4, 3)
    assert out["state"].shape == (4, 8)
    assert torch.equal(out["risk"], out["step_risk"][:, -1])


def test_absent_modality_is_skipped_not_imputed():
    model = _model()
    tokens, masks = _inputs()
    masks["genomics"][0] = False  # patient 0 lacks genomics; its (garbage) tokens stay in the tensor
    tokens["genomics"][0] = 1e4
    out = model(tokens, masks)
    skipped = model(tokens, masks, order=["covariates", "pathology"])  # the same sequence without the step
    assert torch.isfinite(out["risk"]).all()
    assert torch.allclose(out["risk"][0], skipped["risk"][0])
    assert torch.allclose(out["step_risk"][0, 1], out["step_risk"][0, 0])  # the skipped step leaves the state alone
    assert not torch.allclose(out["risk"][2], skipped["risk"][2])  # a present modality's step does change the risk


def test_order_is_free_and_unknown_names_fail():
    model = _model()
    tokens, masks = _inputs()
    a = model(tokens, masks)["risk"]
    b = model(tokens, masks, order=["pathology", "genomics", "covariates"])["risk"]
    assert torch.isfinite(b).all() and not torch.allclose(a, b)
    with pytest.raises(KeyError, match="radiology"):
        model(tokens, masks, order=["radiology"])


def test_gradients_are_finite_with_an_absent_modality():
    model = _model().train()
    tokens, masks = _inputs()
    masks["pathology"][2] = False
    out = model(tokens, masks)
    out["step_risk"].sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
