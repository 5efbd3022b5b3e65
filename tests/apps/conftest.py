"""A small synthetic workspace with every modality and three users, built once per test session.

The raw cohort directory is deleted after ingest: the app must show everything from the
workspace alone (it holds only pseudonymous, de-identified data).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PASSWORD = "review-pass-1"
USERS = {"clin": "clinician", "res": "researcher", "adm": "admin"}
APP = Path(__file__).resolve().parents[2] / "apps" / "review" / "app.py"


@pytest.fixture(scope="session")
def review_ws(tmp_path_factory) -> Path:
    from clinfusion.ingest import ingest
    from clinfusion.review.users import add_user
    from clinfusion.synth import generate_cohort

    base = tmp_path_factory.mktemp("review")
    cohort, ws = base / "cohort", base / "ws"
    generate_cohort(cohort, n_patients=3, seed=0, scale="small")
    ingest(cohort, ws, demo=True)
    shutil.rmtree(cohort)
    for name, role in USERS.items():
        add_user(ws, name, PASSWORD, role, rounds=4)
    return ws
