"""Per-patient tables logged for the review app: token attention."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.featurize.tokens import TokenSet
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.review_tables import token_attention_frame, token_attention_table
from clinfusion.training.trainer import train_fusion


def test_token_attention_frame_splits_batch_weights_by_patient_in_token_order():
    path = TokenSet(np.zeros((3, 2)), positions=[[0, 0], [256, 0], [0, 256]], groups=[0, 0, 1], meta={"slides": ["s1", "s2"]})
    bundles = [{"pathology": path}, {"ecg": TokenSet(np.zeros((2, 2)))}, {"pathology": TokenSet(np.zeros((1, 2)))}]
    att = {"pathology": np.array([0.2, 0.5, 0.3, 1.0]), "ecg": np.array([0.4, 0.6])}
    f = token_attention_frame(["a", "b", "c"], bundles, att)
    a = f[(f["patient_id"] == "a")]
    assert np.allclose(a["weight"], [0.2, 0.5, 0.3]) and a["token_index"].tolist() == [0, 1, 2]
    assert a["source"].tolist() == ["s1", "s1", "s2"] and a["pos_0"].tolist() == [0, 256, 0]
    c = f[f["patient_id"] == "c"]
    assert c[["weight", "group", "source"]].values.tolist() == [[1.0, -1, ""]] and c["pos_0"].isna().all()
    assert f[f["modality"] == "ecg"]["patient_id"].tolist() == ["b", "b"]
    with pytest.raises(ValueError, match="3 attention weights for 4 tokens"):
        token_attention_frame(["a", "b", "c"], bundles, {"pathology": np.ones(3)})


def test_final_model_attention_sums_to_one_per_patient_and_modality(tmp_path):
    c = make_token_cohort(12, ("genomics", "pathology"), missing_rate=0.3, seed=1)
    data = cohort_from_frames(c.clinical, c.tokens)
    fit = train_fusion(data, data.patient_ids, load_train_config({"model": {"hidden": 8}, "optim": {"epochs": 2, "patience": 1}}))
    table = token_attention_table(fit, data, data.patient_ids)
    sums = table.groupby(["patient_id", "modality"])["weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-5) and (table["weight"] > 0).all()
    expected = {(p, m) for m, per in c.tokens.items() for p in per}
    assert set(sums.index) == expected  # every present modality, no absent one
    pid = next(iter(c.tokens["pathology"]))
    rows = table[(table["patient_id"] == pid) & (table["modality"] == "pathology")]
    assert np.allclose(rows[["pos_0", "pos_1"]].to_numpy(), c.tokens["pathology"][pid].positions)
    table.to_parquet(tmp_path / "token_attention.parquet", index=False)  # the artifact's format
    assert len(table) == sum(ts.n_tokens for per in c.tokens.values() for ts in per.values())
