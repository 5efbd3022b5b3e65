from __future__ import annotations

import numpy as np
import pytest
from clinfusion.cohort.splits import Split
from clinfusion.errors import CohortSpecError, ConfigError
from clinfusion.tabular import TabularEncoder
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames, flatten, load_train_config
from clinfusion.training.cv import map_splits
from clinfusion.training.preprocess import TokenStandardizer

SMALL = {"model": {"hidden": 8}, "optim": {"epochs": 3, "patience": 2}, "bootstrap": 0}


def test_default_config_loads_and_rejects_unknown_names():
    cfg = load_train_config()
    assert cfg.model.conv == "sage"
    assert flatten(cfg)["optim.lr"] == "0.001"
    with pytest.raises(ConfigError, match="baselines"):
        load_train_config({"baselines": ["magic"]})
    with pytest.raises(ConfigError, match="model.conv"):
        load_train_config({"model": {"conv": "gcn"}})


def test_preprocessing_is_fitted_on_training_ids_only():
    c = make_token_cohort(10, ("genomics",))
    std = TokenStandardizer.fit(c.tokens, c.patient_ids[:5])
    train_x = np.concatenate([c.tokens["genomics"][p].tokens for p in c.patient_ids[:5]])
    z = std.apply("genomics", train_x)
    assert np.allclose(z.mean(0), 0, atol=1e-5)
    assert not np.allclose(std.apply("genomics", c.tokens["genomics"][c.patient_ids[7]].tokens).mean(), 0, atol=1e-6)
    assert TokenStandardizer.from_dict(std.to_dict()).mean == std.mean
    enc = TabularEncoder.fit(c.clinical[["age", "stage"]].iloc[:5])
    x = enc.transform(c.clinical[["age", "stage"]])
    assert x.shape[1] == enc.width
    assert np.allclose(x[:5, 0].mean(), 0, atol=1e-6) and not np.allclose(x[5:, 0].mean(), 0, atol=1e-6)
    assert TabularEncoder.from_dict(enc.to_dict()).transform(c.clinical[["age", "stage"]]).tolist() == x.tolist()


def test_split_files_map_raw_ids_to_pseudonyms():
    known = {"pa", "pb", "pc"}
    out = map_splits([Split(0, ("a", "b", "zz"), ("c",))], lambda raw: "p" + raw, known)
    assert out[0].train == ("pa", "pb") and out[0].val == ("pc",)
    with pytest.raises(CohortSpecError, match="fold 0"):
        map_splits([Split(0, ("a",), ("zz",))], lambda raw: "p" + raw, known)


def test_training_is_deterministic_for_a_seed():
    from clinfusion.training.trainer import predict_fusion, train_fusion

    c = make_token_cohort(24, ("genomics", "pathology"), missing_rate=0.3)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config(SMALL)
    tr, te = data.patient_ids[:16], data.patient_ids[16:]
    a = predict_fusion(train_fusion(data, tr, cfg), data, te)["risk"]
    b = predict_fusion(train_fusion(data, tr, cfg), data, te)["risk"]
    assert np.array_equal(a, b)
    c2 = predict_fusion(train_fusion(data, tr, load_train_config({**SMALL, "seed": 1})), data, te)["risk"]
    assert not np.array_equal(a, c2)


def test_fusion_learns_planted_signal():
    from clinfusion.evaluation import harrell_c
    from clinfusion.training.trainer import predict_fusion, train_fusion

    c = make_token_cohort(90, ("genomics",), signal=2.0, seed=3)
    data = cohort_from_frames(c.clinical, c.tokens, covariates=[])
    cfg = load_train_config({"model": {"hidden": 16}, "optim": {"epochs": 25, "lr": 0.005}})
    tr, te = data.patient_ids[:60], data.patient_ids[60:]
    fit = train_fusion(data, tr, cfg)
    ix = data.index(te)
    assert harrell_c(data.time[ix], data.event[ix], predict_fusion(fit, data, te)["risk"]) > 0.6


def test_inner_fold_ensemble_members_outputs_oof_and_rebuild():
    from clinfusion.models.ensemble import FusionEnsemble
    from clinfusion.training.trainer import predict_fusion, predict_model, rebuild, train_fusion

    c = make_token_cohort(30, ("genomics", "pathology"), missing_rate=0.2, seed=4)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({**SMALL, "optim": {"epochs": 3, "patience": 2, "ensemble": 3}})
    tr, te = data.patient_ids[:24], data.patient_ids[24:]
    fit = train_fusion(data, tr, cfg)
    assert isinstance(fit.model, FusionEnsemble) and len(fit.model) == 3
    assert sorted(fit.oof_risk) == sorted(tr)  # every training patient held out by exactly one member
    assert {h["member"] for h in fit.history} == {0, 1, 2}
    out = predict_fusion(fit, data, te)
    members = [predict_model(fit, m, data, te) for m in fit.model.members]
    assert np.allclose(out["risk"], np.mean([m["risk"] for m in members], 0), atol=1e-6)
    assert out["embedding"].shape == (len(te), 3 * 8)
    again = rebuild(fit.spec(), fit.model.state_dict())
    assert np.allclose(predict_fusion(again, data, te)["risk"], out["risk"], atol=1e-6)
    assert np.array_equal(predict_fusion(train_fusion(data, tr, cfg), data, te)["risk"], out["risk"])


def test_selection_with_an_ensemble_scores_the_whole_training_fold():
    from clinfusion.training.trainer import train_fusion

    c = make_token_cohort(30, ("genomics",), signal=2.0, seed=5)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({**SMALL, "optim": {"epochs": 3, "patience": 2, "ensemble": 2},
                             "select": [{}, {"model": {"deep": False}}]})
    fit = train_fusion(data, data.patient_ids[:24], cfg)
    assert [s["chosen"] for s in fit.selection].count(True) == 1
    assert len(fit.oof_risk) == 24
