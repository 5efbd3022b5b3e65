"""CV folds through an executor: each fold is a pure job, so any executor gives the same results.

The Ray executor is checked against this in ``tests/retrain/test_executors.py``.
"""

from __future__ import annotations

import numpy as np
from clinfusion.cli.app import main
from clinfusion.executors import LocalExecutor
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.cv import default_splits, run_cv, run_fold

SMALL = {"model": {"hidden": 8}, "optim": {"epochs": 2, "patience": 2}, "bootstrap": 0,
         "baselines": ["clinical_cox", "late_fusion", "unimodal"]}


class _Reversed(LocalExecutor):
    """Runs the jobs last to first (results still in job order), as a pool of workers might."""

    def map(self, fn, jobs, shared=None, num_cpus=1):
        return list(reversed([fn(shared, job) for job in reversed(jobs)]))


def test_folds_on_an_executor_match_the_in_process_loop_whatever_the_order():
    c = make_token_cohort(24, ("genomics", "ecg"), missing_rate=0.2, seed=1)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config(SMALL)
    splits = default_splits(data, 2, cfg.seed)
    here, there = run_cv(data, splits, cfg), run_cv(data, splits, cfg, executor=_Reversed())
    assert [(p.model, p.fold) for p in here.predictions] == [(p.model, p.fold) for p in there.predictions]
    for a, b in zip(here.predictions, there.predictions, strict=True):
        np.testing.assert_array_equal(a.test_risk, b.test_risk)
    assert len(there.fusion_fits) == 2
    alone = run_fold(data, splits[1], cfg)  # one fold needs nothing from the folds before it
    np.testing.assert_array_equal(alone.predictions[0].test_risk, here.predictions[len(alone.predictions)].test_risk)


def test_train_cli_rejects_an_unknown_executor_and_an_address_without_ray(tmp_path, capsys):
    assert main(["train", "-w", str(tmp_path), "--executor", "dask"]) == 1
    assert "['local', 'ray']" in capsys.readouterr().err
    assert main(["train", "-w", str(tmp_path), "--ray-address", "auto"]) == 1
    assert "ray executor" in capsys.readouterr().err
