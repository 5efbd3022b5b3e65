from __future__ import annotations

import numpy as np
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.tracking import bundle_from_json, bundle_to_json


def test_bundle_json_roundtrip_keeps_tokens_positions_and_meta():
    c = make_token_cohort(2, ("pathology", "genomics"))
    pid = c.patient_ids[0]
    bundle = {m: c.tokens[m][pid] for m in ("pathology", "genomics")}
    back = bundle_from_json(bundle_to_json(bundle))
    assert set(back) == {"pathology", "genomics"}
    assert np.allclose(back["pathology"].tokens, bundle["pathology"].tokens)
    assert np.allclose(back["pathology"].positions, bundle["pathology"].positions)
    assert back["genomics"].positions is None
    assert back["genomics"].meta["set_members"] == bundle["genomics"].meta["set_members"]
