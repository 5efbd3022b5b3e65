from __future__ import annotations

import numpy as np
import pytest
from clinfusion.errors import FeaturizeError
from clinfusion.featurize import TokenSet


def test_roundtrip_keeps_everything() -> None:
    ts = TokenSet(
        np.arange(6).reshape(3, 2),
        positions=np.array([[0, 0], [256, 0], [0, 256]]),
        names=["a", "b", "c"],
        feature_names=["f0", "f1"],
        groups=[0, 0, 1],
        meta={"mpp": 0.5},
    )
    back = TokenSet.from_bytes(ts.to_bytes())
    np.testing.assert_array_equal(back.tokens, ts.tokens)
    np.testing.assert_array_equal(back.positions, ts.positions)
    np.testing.assert_array_equal(back.groups, [0, 0, 1])
    assert back.names == ["a", "b", "c"] and back.feature_names == ["f0", "f1"] and back.meta == {"mpp": 0.5}
    assert back.tokens.dtype == np.float32 and (back.n_tokens, back.dim) == (3, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tokens": np.zeros((0, 4))}, "T>=1"),
        ({"tokens": np.zeros(4)}, "T>=1"),
        ({"tokens": np.array([[np.nan]])}, "NaN"),
        ({"tokens": np.zeros((2, 2)), "positions": np.zeros((3, 2))}, "positions"),
        ({"tokens": np.zeros((2, 2)), "names": ["a"]}, "names"),
        ({"tokens": np.zeros((2, 2)), "feature_names": ["a"]}, "feature names"),
        ({"tokens": np.zeros((2, 2)), "groups": [0]}, "groups"),
    ],
)
def test_invalid_token_sets_fail_clearly(kwargs: dict, match: str) -> None:
    with pytest.raises(FeaturizeError, match=match):
        TokenSet(**kwargs)
