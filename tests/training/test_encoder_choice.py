"""Encoders chosen, not guessed (issue 15): configured, else the registered default, else the only cache."""

from __future__ import annotations

import shutil

import pytest
from clinfusion.errors import ConfigError, FeaturizeError
from clinfusion.testing.tokens import make_token_cohort, write_token_workspace
from clinfusion.training.dataset import available_modalities, load_cohort
from clinfusion.training.encoders import choose_encoder


def test_choose_encoder_rule():
    assert choose_encoder("ecg", ["aaa", "ecg_features"], None, "ecg_features") == ("ecg_features", "default")
    assert choose_encoder("ecg", ["aaa", "ecg_features"], "aaa", "ecg_features") == ("aaa", "configured")
    assert choose_encoder("ecg", ["custom"], None, "ecg_features") == ("custom", "only cache")
    assert choose_encoder("ecg", [], None, "ecg_features") is None
    with pytest.raises(ConfigError, match=r"encoders: \{ecg: aaa\}"):
        choose_encoder("ecg", ["zzz", "aaa"], None, "ecg_features")  # never the alphabetically first
    with pytest.raises(FeaturizeError, match="featurize -m ecg -e resnet1d"):
        choose_encoder("ecg", ["ecg_features"], "resnet1d", "ecg_features")


@pytest.fixture(scope="module")
def two_caches(tmp_path_factory):
    """ECG tokens under an alphabetically-first custom encoder ``aaa`` and the default ``ecg_features``."""
    ws = write_token_workspace(make_token_cohort(12, ("ecg",), seed=3), tmp_path_factory.mktemp("enc"), encoder="aaa")
    shutil.copytree(ws.tokens_dir / "ecg" / "aaa", ws.tokens_dir / "ecg" / "ecg_features")
    return ws


def test_workspace_uses_the_default_and_says_which_others_exist(two_caches):
    data = load_cohort(two_caches)
    choice = data.encoders["ecg"]
    assert (choice.encoder, choice.source, choice.others, choice.patients) == ("ecg_features", "default", ("aaa",), 12)
    assert "also cached: aaa" in choice.describe()
    assert available_modalities(two_caches) == {"ecg": "ecg_features"}  # drift and similarity read the same
    assert load_cohort(two_caches, encoders={"ecg": "aaa"}).encoders["ecg"].source == "configured"


def test_ambiguous_caches_are_refused(two_caches):
    shutil.move(two_caches.tokens_dir / "ecg" / "ecg_features", two_caches.tokens_dir / "ecg" / "zzz")
    try:
        with pytest.raises(ConfigError, match="choose one in the training config"):
            load_cohort(two_caches)
        assert available_modalities(two_caches) == {}
    finally:
        shutil.move(two_caches.tokens_dir / "ecg" / "zzz", two_caches.tokens_dir / "ecg" / "ecg_features")


@pytest.mark.slow
def test_chosen_encoders_are_mlflow_params(two_caches):
    from clinfusion.experiment import train_workspace
    from clinfusion.tracking.registry import client
    from clinfusion.training import load_train_config

    cfg = load_train_config({"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 1, "patience": 1},
                             "bootstrap": 0, "baselines": [], "folds": 2, "encoders": {"ecg": "aaa"}})
    lines: list[str] = []
    res = train_workspace(two_caches, cfg, progress=lines.append)
    params = client(two_caches.root).get_run(res["mlflow_run_id"]).data.params
    assert params["encoders.ecg"] == "aaa" and params["encoders.ecg.source"] == "configured"
    assert params["modalities.used"] == "ecg"
    assert any(line.startswith("modalities and encoders used: ecg: aaa (configured") for line in lines)
