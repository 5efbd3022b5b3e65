from __future__ import annotations

import numpy as np
import pytest
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.robustness import contributions, missing_mask, robustness, robustness_summary
from clinfusion.training.trainer import predict_fusion, train_fusion

CFG = {"model": {"hidden": 8}, "optim": {"epochs": 12, "lr": 0.01}, "bootstrap": 0}


@pytest.fixture(scope="module")
def fitted():
    c = make_token_cohort(60, ("genomics", "ecg"), signal=2.0, seed=3, missing_rate=0.2)
    data = cohort_from_frames(c.clinical, c.tokens)
    fit = train_fusion(data, data.patient_ids[:40], load_train_config(CFG))
    return data, fit, data.patient_ids[40:]


def test_missing_masks_hide_present_modalities_at_the_requested_rate():
    present = np.ones((4000, 2), dtype=bool)
    present[:100, 1] = False
    score = np.linspace(0, 1, 4000)
    mcar = missing_mask(present, 0.3, "mcar", score, 0)
    assert not (mcar & ~present).any()
    assert abs(mcar[100:].mean() - 0.3) < 0.03
    mnar = missing_mask(present, 0.3, "mnar", score, 0)
    assert abs(mnar.mean() - 0.3) < 0.05
    assert mnar[-1000:].mean() > 2 * mnar[:1000].mean()  # high score (early events) lose more
    with pytest.raises(ValueError, match="pattern"):
        missing_mask(present, 0.3, "mar", score, 0)


def test_robustness_rows_and_removing_a_modality_changes_predictions(fitted):
    data, fit, te = fitted
    rows = robustness(fit, data, te, rates=(0.3,), seed=0)
    conds = [r["condition"] for r in rows]
    assert conds == ["full", "without_genomics", "without_ecg", "mcar", "mnar"]
    full = predict_fusion(fit, data, te)["risk"]
    assert rows[0]["cindex"] > 0.5
    summary = robustness_summary(__import__("pandas").DataFrame([{"fold": 0, **r} for r in rows]))
    assert summary["full"]["drop"] == 0.0 and "mcar@0.3" in summary
    assert all(0.0 <= r["cindex"] <= 1.0 for r in rows)
    assert full.std() > 0


def test_contributions_are_leave_one_out_deltas_and_attention(fitted):
    data, fit, te = fitted
    frame = contributions(fit, data, te)
    assert list(frame.patient_id) == list(te)
    full = predict_fusion(fit, data, te)["risk"]
    assert np.allclose(frame.risk, full, atol=1e-5)
    for m in ("genomics", "ecg"):
        absent = [p not in data.tokens[m] for p in te]
        assert frame.loc[absent, f"delta_{m}"].isna().all()
        assert frame.loc[absent, f"attention_{m}"].isna().all()
        assert frame.loc[[not a for a in absent], f"delta_{m}"].notna().all()
    att = frame[["attention_genomics", "attention_ecg"]].fillna(0).to_numpy()
    assert (att >= 0).all() and (att.sum(1) <= 1 + 1e-5).all()
    assert (frame[["delta_genomics", "delta_ecg"]].abs() > 1e-4).any().all()  # removing a modality moves risks


def test_wide_only_candidate_ignores_tokens_and_selection_is_recorded():
    c = make_token_cohort(40, ("genomics",), signal=2.0, seed=5)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"model": {"hidden": 8}, "optim": {"epochs": 3, "patience": 2}, "bootstrap": 0,
                             "select": [{"model": {"deep": False}}, {"optim": {"weight_decay": 0.5}}]})
    fit = train_fusion(data, data.patient_ids[:30], cfg)
    assert len(fit.selection) == 2 and sum(s["chosen"] for s in fit.selection) == 1
    best = max(fit.selection, key=lambda s: s["inner_cindex"])
    assert best["chosen"] or best["inner_cindex"] == next(s for s in fit.selection if s["chosen"])["inner_cindex"]
    assert not fit.config.select
    wide = train_fusion(data, data.patient_ids[:30], cfg.candidate({"model": {"deep": False}}))
    te = data.patient_ids[30:]
    shuffled = cohort_from_frames(c.clinical, {"genomics": dict(zip(data.patient_ids, reversed(
        [data.tokens["genomics"][p] for p in data.patient_ids]), strict=True))})
    assert np.allclose(predict_fusion(wide, data, te)["risk"], predict_fusion(wide, shuffled, te)["risk"])
    # a model without covariates has no wide-only candidate left
    no_cov = cohort_from_frames(c.clinical, c.tokens, covariates=[])
    only_wide = load_train_config({**cfg.model_dump(mode="json"), "select": [{"model": {"deep": False}}]})
    with pytest.raises(Exception, match="select"):
        train_fusion(no_cov, no_cov.patient_ids[:30], only_wide)


def test_wide_tokens_path_roundtrips_and_flat_encoder_width_is_fixed():
    import pandas as pd
    from clinfusion.training.flat import fit_pooled, pooled_names
    from clinfusion.training.trainer import rebuild

    dims = {"a": 1, "b": 1}
    x = pd.DataFrame([[1.0, np.nan, 2.0, 5.0], [2.0, 1.0, np.nan, np.nan], [3.0, np.nan, np.nan, np.nan]],
                     columns=pooled_names(["a", "b"], dims))
    sc = fit_pooled(x, ["a", "b"], dims)
    assert sc.transform(x.iloc[:1].fillna(1.0)).shape[1] == sc.width == sc.transform(x).shape[1] == 4 + 2
    assert sc.feature_names[-1] == "b__missing" and sc.transform(x)[:, -1].tolist() == [0.0, 1.0, 1.0]
    assert type(sc).from_dict(sc.to_dict()).transform(x).tolist() == sc.transform(x).tolist()
    c = make_token_cohort(30, ("genomics", "ecg"), missing_rate=0.3, seed=4)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"model": {"hidden": 8, "wide_tokens": True}, "optim": {"epochs": 3, "patience": 2}})
    fit = train_fusion(data, data.patient_ids[:20], cfg)
    assert fit.flat is not None and fit.n_wide == fit.covariates.width + fit.flat.width
    again = rebuild(fit.spec(), fit.model.state_dict())
    te = data.patient_ids[20:]
    assert np.allclose(predict_fusion(fit, data, te)["risk"], predict_fusion(again, data, te)["risk"], atol=1e-6)


def test_wide_path_warm_start_equals_the_penalised_cox():
    from clinfusion.models.baselines import PenalizedCox
    from clinfusion.training.trainer import _bundles, _warm_start_wide

    c = make_token_cohort(40, ("genomics",), signal=2.0, seed=6)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"model": {"hidden": 8, "wide_tokens": True, "wide_init": "cox"}, "optim": {"epochs": 1}})
    fit = train_fusion(data, data.patient_ids[:30], cfg)
    ids = data.patient_ids[:25]
    _warm_start_wide(fit, fit.model, data, ids)
    ix = data.index(ids)
    x = fit.wide_matrix(_bundles(data, ids, fit.modalities), data.covariates.iloc[ix])
    ref = PenalizedCox(0.1).fit(x, data.time[ix], data.event[ix])
    w = fit.model.heads.cox_wide.weight.detach().numpy()[0]
    assert np.allclose(w[ref.keep], ref.model.params_.to_numpy(), atol=1e-5)
    assert np.allclose(w[~ref.keep], 0.0)
