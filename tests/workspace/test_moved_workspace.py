"""A workspace can move: a copied or moved workspace reads and logs its MLflow runs in place.

Before: ``mlflow.db`` kept absolute artifact locations, so a copy's runs pointed into the original
and a retrain of the copy wrote into it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from clinfusion.errors import WorkspaceError
from clinfusion.tracking.registry import artifact_dir, client, log_decision_run
from clinfusion.tracking.relocate import check_inside, relocate_store

CLI = "from clinfusion.cli import main; raise SystemExit(main())"


def _store_with_a_registered_run(ws: Path) -> str:
    """Experiment ``e`` with one run (artifact ``note.md``) registered as model ``m`` version 1."""
    ws.mkdir(parents=True)
    run_id = log_decision_run(ws, experiment="e", run_name="r", tags={}, metrics={"c": 0.7}, texts={"note.md": "v1"})
    c = client(ws)
    c.create_registered_model("m")
    c.create_model_version("m", source=f"{c.get_run(run_id).info.artifact_uri}/note.md", run_id=run_id)
    c.set_registered_model_alias("m", "champion", "1")
    return run_id


def test_moved_workspace_reads_and_writes_in_place(tmp_path: Path) -> None:
    old, new = tmp_path / "old" / "ws", tmp_path / "new" / "ws"
    run_id = _store_with_a_registered_run(old)
    shutil.copytree(old, new)
    shutil.rmtree(old.parent)  # nothing may be read from, or written to, the old path
    show = subprocess.run([sys.executable, "-c", CLI, "registry", "show", "-w", str(new), "--model", "m"],
                          capture_output=True, text=True, timeout=300)
    assert show.returncode == 0 and "champion" in show.stdout, show.stderr
    c = client(new)
    run = c.get_run(run_id)
    assert run.info.artifact_uri.startswith((new.resolve() / "mlartifacts").as_uri())
    assert (artifact_dir(run.info.artifact_uri) / "note.md").read_text() == "v1"
    assert c.get_model_version("m", "1").source.startswith((new.resolve() / "mlartifacts").as_uri())
    second = log_decision_run(new, experiment="e", run_name="r2", tags={}, metrics={}, texts={"note.md": "v2"})
    assert (artifact_dir(c.get_run(second).info.artifact_uri) / "note.md").read_text() == "v2"
    assert not old.parent.exists()
    assert relocate_store(new) == 0  # idempotent: nothing left to rewrite


def test_refuses_to_log_outside_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    client(ws).create_experiment("elsewhere", artifact_location=(tmp_path / "outside").as_uri())
    with pytest.raises(WorkspaceError, match="outside this workspace; refusing to write there"):
        log_decision_run(ws, experiment="elsewhere", run_name="r", tags={}, metrics={}, texts={"a.md": "x"})
    assert not (tmp_path / "outside").exists()
    check_inside((ws / "mlartifacts").as_uri(), ws, experiment="e")  # inside: fine
    check_inside("s3://bucket/artifacts", ws, experiment="e")  # remote stores are the server's business


@pytest.mark.slow
def test_train_on_a_moved_workspace(tmp_path: Path) -> None:
    """`clinfusion train` on a moved copy registers version 2 beside version 1, all under the copy."""
    from clinfusion.cli.app import main
    from clinfusion.testing.tokens import make_token_cohort, write_token_workspace
    from clinfusion.tracking.registry import aliases, default_model_name, resolve_alias

    ws = write_token_workspace(make_token_cohort(24, ("genomics",), seed=4), tmp_path / "a").root
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 2, "patience": 1},
                                   "bootstrap": 5}))
    assert main(["train", "-w", str(ws), "-c", str(cfg), "--folds", "2"]) == 0
    new = tmp_path / "b" / "ws"
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "a")
    assert main(["train", "-w", str(new), "-c", str(cfg), "--folds", "2"]) == 0
    name = default_model_name(new)
    assert aliases(new, name) == {"champion": "1", "challenger": "2"}
    champion = resolve_alias(new, name, "champion")
    assert champion["artifact_uri"].startswith((new.resolve() / "mlartifacts").as_uri())
    assert not (tmp_path / "a").exists()
    from clinfusion.review.predictions import load_predictions

    preds, why = load_predictions(new)  # what the review app shows: the champion, read from the copy
    assert preds is not None, why
    assert preds.model.version == "1" and preds.artifact_dir.resolve().is_relative_to(new.resolve())
    loose = [p for p in new.rglob("*") if not p.is_symlink() and p.stat().st_mode & 0o077]
    assert loose == []  # the model's logged package code too (copied with the repository's 0644)
