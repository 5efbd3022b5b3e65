"""The promotion gate on hand-built risks: promotion, each rejection rule, config validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.errors import ConfigError
from clinfusion.evaluation import harrell_c
from clinfusion.retrain import load_retrain_config
from clinfusion.retrain.config import GateConfig, SubgroupSpec
from clinfusion.retrain.gate import Scores, decide, paired_bootstrap_cdiff, subgroup_labels

CFG = GateConfig(n_bootstrap=200, subgroups=(SubgroupSpec(column="sex"),))


def _cohort(n: int = 240, seed: int = 0):
    """Exponential survival driven by ``lp``; random censoring; half F / half M."""
    rng = np.random.default_rng(seed)
    lp = rng.normal(size=n)
    t = rng.exponential(np.exp(-lp))
    c = rng.exponential(2.0, n)
    ids = [f"P{i:03d}" for i in range(n)]
    clinical = pd.DataFrame({"patient_id": ids, "sex": np.where(np.arange(n) % 2 == 0, "F", "M"),
                             "age": rng.integers(40, 85, n)})
    return ids, np.minimum(t, c), (t <= c).astype(int), lp, rng, clinical


def _groups(clinical, ids, cfg=CFG):
    return {s.column: subgroup_labels(clinical, s, ids) for s in cfg.subgroups}


def test_better_challenger_is_promoted():
    ids, t, e, lp, rng, clin = _cohort()
    s = Scores(patient_ids=ids, time=t, event=e, champion=lp + 2.0 * rng.normal(size=len(ids)), challenger=lp)
    d = decide(s, CFG, _groups(clin, ids))
    assert d.promote, d.reasons
    c = d.checks["cindex"]
    assert c["diff"] >= CFG.cindex_margin and c["ci_low"] > 0
    assert {r["subgroup"] for r in d.subgroups} == {"sex=F", "sex=M"}
    assert "PROMOTE" in d.summary()


def test_equal_models_keep_the_champion_with_reasons():
    ids, t, e, lp, _, clin = _cohort()
    s = Scores(patient_ids=ids, time=t, event=e, champion=lp, challenger=lp.copy())
    d = decide(s, CFG, _groups(clin, ids))
    assert not d.promote
    assert any("below the margin" in r for r in d.reasons)
    assert any("not above zero" in r for r in d.reasons)
    assert d.checks["ibs"]["passed"]  # equal risks: equal Brier scores


def test_subgroup_loss_blocks_promotion():
    ids, t, e, lp, rng, clin = _cohort(400)
    male = clin["sex"].to_numpy() == "M"
    champion = lp + 1.5 * rng.normal(size=len(ids))
    challenger = lp.copy()
    challenger[male] = -lp[male]  # better for women, reversed for men
    champion[~male] = lp[~male] + 3.0 * rng.normal(size=(~male).sum())
    s = Scores(patient_ids=ids, time=t, event=e, champion=champion, challenger=challenger)
    d = decide(s, GateConfig(n_bootstrap=50, cindex_margin=0.0, subgroups=(SubgroupSpec(column="sex"),)),
               _groups(clin, ids))
    assert not d.promote
    assert any(r.startswith("subgroup sex=M") for r in d.reasons)


def test_too_few_common_patients_keep_the_champion():
    ids, t, e, lp, _, _ = _cohort(12)
    d = decide(Scores(patient_ids=ids, time=t, event=e, champion=-lp, challenger=lp), CFG)
    assert not d.promote and "min_common_patients" in d.reasons[0]


def test_paired_bootstrap_point_matches_the_difference_of_c_indices():
    ids, t, e, lp, rng, _ = _cohort(150)
    a, b = lp + rng.normal(size=150), lp
    s = Scores(patient_ids=ids, time=t, event=e, champion=a, challenger=b)
    diff, lo, hi = paired_bootstrap_cdiff(s, 100, 0.95, 0)
    assert diff == pytest.approx(harrell_c(t, e, b) - harrell_c(t, e, a))
    assert lo <= diff <= hi


def test_age_bands_are_half_open():
    clin = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "age": [59, 60, 70, None]})
    lab = subgroup_labels(clin, SubgroupSpec(column="age", bins=(0, 60, 70, 200)), ["a", "b", "c", "d"])
    assert lab.tolist()[:3] == ["age=[0,60)", "age=[60,70)", "age=[70,200)"] and pd.isna(lab.iloc[3])


def test_default_yaml_loads_and_unknown_keys_fail(tmp_path):
    cfg = load_retrain_config()
    assert cfg.gate.cindex_margin == 0.01 and cfg.gate.ci_level == 0.95
    assert [s.column for s in cfg.gate.subgroups] == ["sex", "age"]
    assert cfg.train_settings().folds == 5  # the packaged training defaults
    bad = tmp_path / "bad.yaml"
    bad.write_text("gate:\n  margin: 0.1\n")
    with pytest.raises(ConfigError, match="gate.margin"):
        load_retrain_config(bad)
    with pytest.raises(ConfigError, match="executor"):
        load_retrain_config({"executor": "spark"})  # choices: local, ray
    with pytest.raises(ConfigError, match="bins"):
        load_retrain_config({"gate": {"subgroups": [{"column": "age", "bins": [60, 10]}]}})
