"""The Ray executor gives the same tokens, cache index and CV fold results as the local one.

The Ray tests share one local Ray instance (``ray_session``, 2 CPUs; starting it takes ~40 s here),
and skip when ray is not installed (``pip install -e '.[ray]'``; ``make test`` installs it).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from clinfusion.errors import ConfigError
from clinfusion.executors import LocalExecutor, RayExecutor, executor, make_executor
from clinfusion.retrain import load_retrain_config


def _ingested(root, name):
    from clinfusion.ingest import ingest
    from clinfusion.testing.cohorts import write_tiny_cohort

    cohort = write_tiny_cohort(root / f"{name}-cohort", 10)
    return ingest(cohort.root, root / name).workspace


def _square(shared, job):
    return shared * job * job


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for this module; executors find it running and leave it running."""
    ray = pytest.importorskip("ray")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as err:  # ray#65983: on a loaded machine the raylet gives up waiting for its agents (15 s)
        ray.shutdown()
        if "timed out during startup" in str(err):
            pytest.skip(f"a local Ray node could not start on this machine: {err}")
        raise
    yield ray
    ray.shutdown()


def test_executor_registry_follows_the_config():
    assert isinstance(executor(load_retrain_config({})), LocalExecutor)
    ray_exec = executor(load_retrain_config({"executor": "ray", "ray_num_cpus": 1}))
    assert isinstance(ray_exec, RayExecutor) and ray_exec.num_cpus == 1
    assert make_executor("ray", "auto").address == "auto"
    with pytest.raises(ConfigError, match=r"\['local', 'ray'\]"):
        make_executor("dask")
    with pytest.raises(ConfigError, match="ray executor"):
        make_executor("local", "auto")
    with LocalExecutor() as local:
        assert local.map(_square, [1, 2, 3], shared=2) == [2, 8, 18]


@pytest.mark.slow
def test_ray_gives_the_same_tokens_as_local(tmp_path, ray_session):
    a, b = _ingested(tmp_path, "local"), _ingested(tmp_path, "ray")
    local = LocalExecutor().featurize(a.root, ["clinical"], 1)
    remote = RayExecutor(num_cpus=2).featurize(b.root, ["clinical"], 1)
    assert ray_session.is_initialized()  # the executor did not stop a Ray it had not started
    assert [(r["encoded"], r["cached"], r["failed"]) for r in remote] == [(10, 0, 0)]
    assert [(r["encoded"], r["cached"]) for r in local] == [(10, 0)]
    files_a = {p.name: p.read_bytes() for p in a.tokens_dir.rglob("*.npz")}
    files_b = {p.name: p.read_bytes() for p in b.tokens_dir.rglob("*.npz")}
    assert files_a == files_b and len(files_a) == 10  # same pseudonyms, cache keys and bytes
    idx = sorted(a.tokens_dir.rglob("index.json"))[0].relative_to(a.tokens_dir)
    assert json.loads((a.tokens_dir / idx).read_text()) == json.loads((b.tokens_dir / idx).read_text())


@pytest.mark.slow
def test_ray_cv_folds_give_the_same_risks_and_cindex_as_local(ray_session):
    import time

    from clinfusion.evaluation import harrell_c
    from clinfusion.testing.tokens import make_token_cohort
    from clinfusion.training import cohort_from_frames, load_train_config
    from clinfusion.training.cv import default_splits, run_cv

    c = make_token_cohort(36, ("genomics", "ecg"), missing_rate=0.2, seed=2)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"model": {"hidden": 8}, "optim": {"epochs": 3, "patience": 2}, "bootstrap": 0})
    splits = default_splits(data, 3, cfg.seed)
    t0 = time.perf_counter()
    local = run_cv(data, splits, cfg)
    t1 = time.perf_counter()
    remote = run_cv(data, splits, cfg, executor=RayExecutor(num_cpus=2))
    t2 = time.perf_counter()
    print(f"3-fold CV of {len(data.patient_ids)} patients: local {t1 - t0:.1f} s, ray (2 CPUs) {t2 - t1:.1f} s")
    key = [(p.model, p.fold) for p in local.predictions]
    assert key == [(p.model, p.fold) for p in remote.predictions]
    assert {m for m, _ in key} >= {"fusion", "clinical_cox", "rsf", "late_fusion", "unimodal_ecg"}
    for a, b in zip(local.predictions, remote.predictions, strict=True):
        assert a.test_ids == b.test_ids
        np.testing.assert_allclose(b.test_risk, a.test_risk, rtol=1e-6, atol=1e-9, err_msg=f"{a.model} fold {a.fold}")
        np.testing.assert_allclose(b.train_risk, a.train_risk, rtol=1e-6, atol=1e-9, err_msg=f"{a.model} fold {a.fold}")
        ix = data.index(a.test_ids)
        assert harrell_c(data.time[ix], data.event[ix], b.test_risk) == harrell_c(data.time[ix], data.event[ix], a.test_risk)
    assert [len(f.history) for f in remote.fusion_fits] == [len(f.history) for f in local.fusion_fits]


@pytest.mark.slow
def test_train_cli_on_ray_reports_the_same_folds_as_local(tmp_path, ray_session):
    import yaml
    from clinfusion.cli.app import main
    from clinfusion.testing.tokens import make_token_cohort, write_token_workspace

    ws = write_token_workspace(make_token_cohort(24, ("genomics",), seed=3), tmp_path)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({"model": {"hidden": 8}, "optim": {"epochs": 2},
                                                       "bootstrap": 0, "baselines": ["clinical_cox"]}))
    common = ["train", "-w", str(ws.root), "-c", str(tmp_path / "cfg.yaml"), "--folds", "2", "--no-mlflow", "--json"]
    assert main([*common, str(tmp_path / "local.json")]) == 0
    assert main([*common, str(tmp_path / "ray.json"), "--executor", "ray"]) == 0
    assert ray_session.is_initialized()  # the CLI leaves a Ray it did not start running
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    assert set(local["models"]) == set(remote["models"]) == {"stack", "fusion", "clinical_cox"}
    for name, res in local["models"].items():
        np.testing.assert_allclose(remote["models"][name]["cindex"], res["cindex"], rtol=1e-9)
    assert remote["robustness"] == local["robustness"]
