from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_masked_pool_ignores_padding_and_empty_rows_are_zero():
    from clinfusion.models.token_pool import MaskedAttentionPool, safe_mask

    torch.manual_seed(0)
    pool = MaskedAttentionPool(4)
    x = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=torch.bool)
    out, w = pool(x, mask)
    assert out.shape == (3, 4)
    assert torch.isfinite(out).all()
    assert torch.allclose(w[:2].sum(1), torch.ones(2))
    assert (w[~mask] == 0).all()
    assert torch.equal(out[2], torch.zeros(4))
    x2 = x.clone()
    x2[0, 2:] = 1e3  # padding values never leak into the summary
    assert torch.allclose(pool(x2, mask)[0][0], out[0])
    assert safe_mask(mask)[2, 0] and not safe_mask(mask)[2, 1:].any() and torch.equal(safe_mask(mask)[:2], mask[:2])
