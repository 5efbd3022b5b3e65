"""Similar-patient features when a run has no fused embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
from clinfusion.featurize.tokens import TokenSet
from clinfusion.review.predictions import Predictions, ServedModel
from clinfusion.review.similarity import pooled_token_features


def _ts(rows):
    return TokenSet(np.asarray(rows, np.float32))


def test_pooled_features_standardise_mean_tokens_and_flag_missing_modalities():
    tokens = {"ecg": {"a": _ts([[0, 1], [2, 1]]), "b": _ts([[3, 1]]), "c": _ts([[5, 1]])},
              "genomics": {"a": _ts([[1.0]]), "b": _ts([[3.0]])}}
    f = pooled_token_features(tokens).set_index("patient_id")
    assert list(f.columns) == ["ecg_0", "ecg_1", "has_ecg", "genomics_0", "has_genomics"]
    # ecg means 1, 3, 5 -> z -1.22, 0, 1.22, divided by sqrt(2)
    assert np.allclose(f["ecg_0"], np.array([-1, 0, 1]) * np.sqrt(1.5) / np.sqrt(2))
    assert np.allclose(f["ecg_1"], 0)  # constant feature: centred, sd taken as 1
    assert f.loc["c", "genomics_0"] == 0 and f.loc["c", "has_genomics"] == 0 and f.loc["a", "has_genomics"] == 1
    assert np.allclose(f.loc[["a", "b"], "genomics_0"], [-1, 1])


def test_similar_falls_back_to_given_features_without_embeddings():
    table = pd.DataFrame({"risk": [0.1, 0.2, 0.3, 0.4], "percentile": [25.0, 50.0, 75.0, 100.0]},
                         index=pd.Index(list("abcd"), name="patient_id"))
    model = ServedModel("m", "1", "champion", "run", "2026-01-01", "")
    feats = pd.DataFrame({"patient_id": list("abcd"), "x": [1.0, 0.9, -1.0, 0.0], "y": [0.0, 0.1, 0.0, 1.0]})
    preds = Predictions(table, model)
    assert preds.similar("a").empty  # no embeddings, no fallback given
    sim = preds.similar("a", k=2, features=feats)
    assert sim["patient_id"].tolist() == ["b", "d"] and sim["similarity"].is_monotonic_decreasing
    emb = pd.DataFrame({"patient_id": list("abcd"), "emb_0": [1.0, -1.0, 1.0, 0.0], "emb_1": [0.0, 0.0, 0.1, 1.0]})
    with_emb = Predictions(table, model, embeddings=emb)
    assert with_emb.similar("a", k=1, features=feats)["patient_id"].tolist() == ["c"]  # embeddings win when present
