"""``train --repeats``: seeds, mean and spread over repeats, corrected paired differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from clinfusion.training.repeats import repeat_seeds, repeats_table, summarize_repeats


def test_seeds_start_at_the_configured_one():
    assert repeat_seeds(7, 3) == [7, 1007, 2007]


def test_summary_over_repeats_matches_a_hand_computation():
    per_repeat = [
        {"fusion": [0.60, 0.62], "coxnet": [0.64, 0.66], "rsf": [0.61, 0.61]},
        {"fusion": [0.64, 0.60], "coxnet": [0.63, 0.65], "rsf": [0.60, 0.62]},
        {"fusion": [0.61, 0.63], "coxnet": [0.62, 0.66], "rsf": [0.59, 0.63]},
    ]
    rep = summarize_repeats(per_repeat, test_fraction=1.0, seeds=[0, 1000, 2000], fold_assignment="reshuffled")
    assert rep["models"]["fusion"]["cindex_mean_per_repeat"] == pytest.approx([0.61, 0.62, 0.62])
    assert rep["models"]["fusion"]["sd_across_repeats"] == pytest.approx(np.std([0.61, 0.62, 0.62], ddof=1))
    assert rep["best_baseline"] == "coxnet"
    d = np.array([-0.04, -0.04, 0.01, -0.05, -0.01, -0.03])  # fusion - coxnet over 3 repeats x 2 folds
    half = 2.570582 * d.std(ddof=1) * math.sqrt(1 / 6 + 1.0)  # t_{0.975,5}, Nadeau-Bengio factor
    p = rep["paired_vs_best"]["fusion"]
    assert p["vs"] == "coxnet" and p["n"] == 6
    assert p["diff_mean"] == pytest.approx(d.mean())
    assert p["ci95"] == pytest.approx([d.mean() - half, d.mean() + half], abs=1e-6)
    assert rep["paired_vs_fusion"]["fusion"]["diff_mean"] == 0.0
    table = repeats_table(rep, ["fusion", "coxnet", "rsf"])
    assert list(table["model"]) == ["fusion", "coxnet", "rsf"]
    assert table.set_index("model").loc["coxnet", "ΔC vs coxnet"] == "ref"


@pytest.mark.slow
def test_train_repeats_cli_prints_default_first_and_writes_repeats(tmp_path, monkeypatch, capsys):
    import json

    import yaml
    from clinfusion.cli.app import main
    from clinfusion.testing.tokens import make_token_cohort, write_token_workspace

    monkeypatch.setenv("CLINFUSION_PSEUDONYM_KEY", "test-key-repeats-0123456789")
    ws = write_token_workspace(make_token_cohort(40, ("genomics",), missing_rate=0.1, seed=3), tmp_path)
    cfg = {"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 3, "patience": 2}, "bootstrap": 20,
           "baselines": ["clinical_cox", "coxnet"], "stack": {"inner_folds": 2}}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "res.json"
    rc = main(["train", "-w", str(ws.root), "-c", str(tmp_path / "cfg.yaml"), "--folds", "2", "--repeats", "2",
               "--no-mlflow", "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    rep = res["repeats"]
    assert rep["n"] == 2 and rep["seeds"] == [0, 1000] and "reshuffled" in rep["fold_assignment"]
    assert rep["models"]["fusion"]["cindex_mean_per_repeat"][0] == pytest.approx(res["models"]["fusion"]["cindex_mean"])
    assert rep["paired_vs_fusion"]["coxnet"]["n"] == 4  # 2 repeats x 2 folds
    assert {"paired_vs_best", "paired_vs_fusion", "calibration"} <= set(res["models"]["coxnet"])
    printed = capsys.readouterr().out
    table = printed[: printed.index("2 repeats of the CV")]
    first_row = next(line for line in table.splitlines() if line.startswith("│"))
    assert res["default_model"] in first_row and "default" in first_row
    assert "paired bootstrap over patients" in " ".join(table.split())  # the legend under the table
