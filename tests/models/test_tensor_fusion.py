from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
DIMS = {"covariates": 3, "genomics": 4, "pathology": 5}


def _inputs(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = {"covariates": torch.randn(n, 1, 3, generator=g), "genomics": torch.randn(n, 6, 4, generator=g),
              "pathology": torch.randn(n, 7, 5, generator=g)}
    return tokens, {m: torch.ones(x.shape[:2], dtype=torch.bool) for m, x in tokens.items()}


def _model(dim=2):
    from clinfusion.models.tensor_fusion import TensorFusion

    torch.manual_seed(0)
    return TensorFusion(DIMS, hidden=8, dim=dim).eval()


def test_fused_dim_keeps_the_product_small():
    from clinfusion.models.tensor_fusion import fused_dim

    assert fused_dim(7) == 2 and 3 ** 7 <= 2187
    assert fused_dim(4) == 5
    assert fused_dim(3) == 8
    assert fused_dim(12) == 1


def test_kronecker_matches_torch_kron():
    from clinfusion.models.tensor_fusion import kronecker

    g = torch.Generator().manual_seed(1)
    a, b, c = torch.randn(2, 3, generator=g), torch.randn(2, 2, generator=g), torch.randn(2, 4, generator=g)
    out = kronecker([a, b, c])
    for i in range(2):
        assert torch.allclose(out[i], torch.kron(torch.kron(a[i], b[i]), c[i]))


def test_shapes():
    out = _model()(*_inputs())
    assert out["risk"].shape == (4,)
    assert out["fused"].shape == (4, 3 ** 3)
    assert out["gates"]["genomics"].shape == (4, 2)


def test_missing_modality_is_the_one_only_vector():
    model = _model()
    tokens, masks = _inputs()
    masks["genomics"][1] = False
    tokens["genomics"][1] = 1e4
    out = model(tokens, masks)
    assert torch.isfinite(out["risk"]).all()
    cube = out["fused"][1].reshape(3, 3, 3)  # covariates x genomics x pathology, each [1, z]
    assert torch.equal(cube[:, 1:, :], torch.zeros(3, 2, 3))  # no genomics term survives
    assert cube[0, 0, 0] == 1.0
    tokens["genomics"][1] = -5.0  # the absent modality's tokens do not matter
    assert torch.allclose(model(tokens, masks)["risk"][1], out["risk"][1])
    present = model(*_inputs())["fused"][1].reshape(3, 3, 3)
    assert present[:, 1:, :].abs().sum() > 0  # ... whereas a present genomics vector fills those terms
