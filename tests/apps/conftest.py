"""A small synthetic workspace with every modality and three users, built once per test session.

The raw cohort directory is deleted after ingest: the app must show everything from the
workspace alone (it holds only pseudonymous, de-identified data). A tiny fusion model is then
trained on it (``clinfusion train --folds 2``, no baselines, a few epochs, a diagnosis head) so the
prediction panel shows real MLflow predictions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

PASSWORD = "review-pass-1"
USERS = {"clin": "clinician", "res": "researcher", "adm": "admin"}
APP = Path(__file__).resolve().parents[2] / "apps" / "review" / "app.py"
N_PATIENTS = 6
TRAIN_CFG = {"model": {"hidden": 8, "n_bins": 3}, "optim": {"epochs": 2, "patience": 1, "inner_val_fraction": 0.45},
             "loss": {"diagnosis": 0.3}, "bootstrap": 0, "baselines": []}


@pytest.fixture(scope="session")
def review_ws(tmp_path_factory) -> Path:
    from clinfusion.ingest import ingest
    from clinfusion.review.users import add_user
    from clinfusion.synth import generate_cohort

    base = tmp_path_factory.mktemp("review")
    cohort, ws = base / "cohort", base / "ws"
    generate_cohort(cohort, n_patients=N_PATIENTS, seed=0, scale="small")
    ingest(cohort, ws, demo=True)
    shutil.rmtree(cohort)
    _train(ws, base / "train.yaml")
    for name, role in USERS.items():
        add_user(ws, name, PASSWORD, role, rounds=4)
    return ws


def _train(ws: Path, cfg: Path) -> None:
    """``clinfusion featurize`` then ``clinfusion train --folds 2`` with a tiny config; fails the session with the CLI's exit code."""
    from clinfusion.cli.app import main

    rc = main(["featurize", "--workspace", str(ws)])
    if rc not in (0, 2):  # 2: some items could not be featurized (reported), the rest are usable
        raise RuntimeError(f"clinfusion featurize failed on the test workspace (exit {rc})")
    cfg.write_text(yaml.safe_dump(TRAIN_CFG))
    rc = main(["train", "--workspace", str(ws), "--config", str(cfg), "--folds", "2", "--json", str(cfg.with_suffix(".json"))])
    if rc != 0:
        raise RuntimeError(f"clinfusion train failed on the test workspace (exit {rc})")


@pytest.fixture
def live_app(review_ws, tmp_path):
    """The review app served for the session's workspace on a free loopback port (its URL)."""
    from clinfusion.review import server

    proc, url = server.start(review_ws, log=tmp_path / "server.log")
    yield url
    server.stop(proc)

