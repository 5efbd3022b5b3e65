from __future__ import annotations

import pickle
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

# what the architectures read from a TrainConfig (kept minimal so these tests do not depend on the
# rest of the training configuration)
CONFIG = SimpleNamespace(seed=0, optim=SimpleNamespace(threads=1, inner_val_fraction=0.2))
SIGNAL = {"multimodn": "genomics", "tensor_fusion": "genomics", "coattention": "pathology"}


def _cindex(data, ids, risk):
    from clinfusion.evaluation import harrell_c

    ix = data.index(ids)
    return harrell_c(data.time[ix], data.event[ix], risk)


def test_registry_names_and_protocol():
    from clinfusion.training.architectures import ARCHITECTURES

    assert set(ARCHITECTURES) == {"multimodn", "tensor_fusion", "coattention"}
    assert all(a.name == n and callable(a.fit) for n, a in ARCHITECTURES.items())


@pytest.mark.parametrize("name", ["multimodn", "tensor_fusion", "coattention"])
def test_learns_the_signal_of_one_modality(name):
    from clinfusion.testing.one_signal import one_signal_cohort
    from clinfusion.training.architectures import ARCHITECTURES

    data, _ = one_signal_cohort(160, SIGNAL[name], missing_rate=0.2, seed=3)
    train, test = data.patient_ids[:110], data.patient_ids[110:]
    fit = ARCHITECTURES[name].fit(data, train, CONFIG, None)
    risk = fit.risk(data, test)
    assert risk.shape == (50,) and np.isfinite(risk).all()
    assert _cindex(data, test, risk) > 0.7
    assert fit.history and len(fit.history) < fit.settings.epochs + 1
    blind = replace(data, tokens={m: per for m, per in data.tokens.items() if m != SIGNAL[name]})
    control = ARCHITECTURES[name].fit(blind, train, CONFIG, None).risk(blind, test)
    assert _cindex(data, test, control) < 0.62  # without the signal modality there is nothing to learn


@pytest.mark.parametrize("name", ["multimodn", "tensor_fusion", "coattention"])
def test_deterministic_with_the_same_seed(name):
    from clinfusion.testing.one_signal import one_signal_cohort
    from clinfusion.training.architectures import ARCHITECTURES

    data, _ = one_signal_cohort(60, missing_rate=0.3, seed=1)
    arch = replace(ARCHITECTURES[name], settings=replace(ARCHITECTURES[name].settings, epochs=5))
    a = arch.fit(data, data.patient_ids[:45], CONFIG, None).risk(data, data.patient_ids)
    b = arch.fit(data, data.patient_ids[:45], CONFIG, None).risk(data, data.patient_ids)
    other = SimpleNamespace(seed=1, optim=CONFIG.optim)
    c = arch.fit(data, data.patient_ids[:45], other, None).risk(data, data.patient_ids)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_multimodn_fit_skips_a_modality_removed_from_the_cohort():
    from clinfusion.testing.one_signal import one_signal_cohort
    from clinfusion.training.architectures import ARCHITECTURES

    data, _ = one_signal_cohort(50, seed=2)
    arch = replace(ARCHITECTURES["multimodn"], settings=replace(ARCHITECTURES["multimodn"].settings, epochs=5))
    fit = arch.fit(data, data.patient_ids[:40], CONFIG, None)
    pid = data.patient_ids[45]
    without = replace(data, tokens={m: {p: t for p, t in per.items() if not (m == "pathology" and p == pid)}
                                    for m, per in data.tokens.items()})
    tokens, masks = fit.inputs(data, [pid])
    with torch.no_grad():
        expected = fit.model(tokens, masks, order=[m for m in fit.dims if m != "pathology"])["risk"].numpy()
    assert np.allclose(fit.risk(without, [pid]), expected, atol=1e-6)
    assert not np.allclose(fit.risk(data, [pid]), expected)
    assert list(fit.dims)[0] == "covariates"  # the clinical covariates are one modality step


def test_fitted_is_picklable_and_scores_patients_without_outcomes():
    from clinfusion.testing.one_signal import one_signal_cohort
    from clinfusion.training.architectures import ARCHITECTURES

    data, _ = one_signal_cohort(40, seed=4)
    arch = replace(ARCHITECTURES["tensor_fusion"], settings=replace(ARCHITECTURES["tensor_fusion"].settings, epochs=3))
    fit = arch.fit(data, data.patient_ids[:30], CONFIG, None)
    again = pickle.loads(pickle.dumps(fit))
    blind = replace(data, time=np.full(len(data.patient_ids), np.nan), event=np.zeros(len(data.patient_ids), int))
    assert np.array_equal(again.risk(blind, data.patient_ids[30:]), fit.risk(data, data.patient_ids[30:]))


def test_inner_val_mask_is_used_and_checked():
    from clinfusion.testing.one_signal import one_signal_cohort
    from clinfusion.training.architectures import ARCHITECTURES

    data, _ = one_signal_cohort(40, seed=5)
    arch = replace(ARCHITECTURES["coattention"], settings=replace(ARCHITECTURES["coattention"].settings, epochs=3))
    train = data.patient_ids[:30]
    mask = np.zeros(30, bool)
    mask[:8] = True
    a = arch.fit(data, train, CONFIG, mask).risk(data, train)
    b = arch.fit(data, train, CONFIG, ~mask).risk(data, train)
    assert not np.allclose(a, b)
    with pytest.raises(ValueError, match="inner_val"):
        arch.fit(data, train, CONFIG, np.ones(30, bool))
    with pytest.raises(ValueError, match="inner_val"):
        arch.fit(data, train, CONFIG, mask[:10])


def test_scores_new_patients_given_as_bundles():
    from clinfusion.testing.one_signal import one_signal_cohort
    from clinfusion.training.architectures import ARCHITECTURES
    from clinfusion.training.candidates import cohort_from_bundles

    data, _ = one_signal_cohort(40, seed=6)
    arch = replace(ARCHITECTURES["coattention"], settings=replace(ARCHITECTURES["coattention"].settings, epochs=3))
    fit = arch.fit(data, data.patient_ids[:30], CONFIG, None)
    ids = data.patient_ids[30:]
    bundles = [{m: data.tokens[m][p] for m in data.tokens if p in data.tokens[m] and m != "pathology"} for p in ids]
    new = cohort_from_bundles(bundles, data.covariates.iloc[data.index(ids)], data.modalities)
    risk = fit.risk(new, new.patient_ids)
    assert risk.shape == (10,) and np.isfinite(risk).all()
    assert not np.allclose(risk, fit.risk(data, ids))  # no slides: the summary fallback, not the same scores


@pytest.mark.slow
def test_train_cli_model_multimodn_gives_rows_and_the_default(tmp_path):
    import json

    import yaml
    from clinfusion.cli.app import main
    from clinfusion.testing.tokens import make_token_cohort, write_token_workspace

    ws = write_token_workspace(make_token_cohort(30, ("genomics", "pathology"), missing_rate=0.2, seed=2), tmp_path)
    cfg = {"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 3, "patience": 2}, "bootstrap": 0,
           "baselines": ["concat_mlp", "tensor_fusion", "coattention"], "stack": {"enabled": False}}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "res.json"
    rc = main(["train", "--workspace", str(ws.root), "--config", str(tmp_path / "cfg.yaml"), "--folds", "2",
               "--model", "multimodn", "--no-mlflow", "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["default_model"] == "multimodn"
    assert {"multimodn", "tensor_fusion", "coattention", "fusion", "concat_mlp"} <= set(res["models"])
    for name in ("multimodn", "tensor_fusion", "coattention"):
        assert len(res["models"][name]["cindex"]) == 2
