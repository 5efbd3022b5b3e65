"""Bad input on every CLI path ends in one readable line (file, field, expectation), exit 1, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clinfusion.cli import main
from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort

CLI = "from clinfusion.cli import main; raise SystemExit(main())"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("readable")
    c = write_tiny_cohort(base / "c", 3)
    ingest(c.root, base / "ws")
    return base / "ws"


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI in-process; the one error line it printed (asserting exit 1 and no traceback)."""
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ValidationError" not in err
    assert err.startswith("error: ") or "\nerror: " in err  # progress lines may come first
    return " ".join(err[err.index("error: "):].split())  # rich may wrap long lines


def test_encoder_without_a_required_option_names_the_option(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["featurize", "-w", str(ws), "-m", "reports", "-e", "local_transformer"], capsys)
    assert "encoder 'local_transformer'" in err and "[model_path]" in err and "needs weights" in err
    assert "--option" in err


@pytest.mark.parametrize(("option", "expected"), [
    ("nosuch=1", "[nosuch]: unknown option 'nosuch'; valid options: batch_size,"),
    ("batch_size=abc", "[batch_size]: batch_size: Input should be a valid integer"),
    ("junk", "[--option]: expected KEY=VALUE, got 'junk'"),
])
def test_unknown_or_bad_encoder_options(ws: Path, capsys: pytest.CaptureFixture[str], option: str, expected: str) -> None:
    err = _error(["featurize", "-w", str(ws), "-m", "reports", "-e", "minilm", "-o", option], capsys)
    assert expected in err


@pytest.mark.parametrize(("command", "text", "expected"), [
    ("train", "optim: {lr: -1}\n", "[optim.lr]: optim.lr: Input should be greater than 0 (got -1)"),
    ("train", "nosuchkey: 1\n", "[nosuchkey]: nosuchkey: Extra inputs are not permitted"),
    ("train", "optim: {lr: [\n", "not valid YAML at line 2, column 1"),
    ("train", "- a list\n", "expected a mapping of settings at the top level, got list"),
    ("retrain", "gate: {ci_level: 2}\n", "[gate.ci_level]: gate.ci_level: Input should be less than 1"),
    ("retrain", "train: {optim: {epochs: -3}}\n", "(train: keys over default_train.yaml) [optim.epochs]"),
])
def test_bad_config_values_name_file_and_field(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               command: str, text: str, expected: str) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(text)
    err = _error([command, "-w", str(ws), "-c", str(cfg)], capsys)
    assert str(cfg) in err and expected in err


@pytest.mark.parametrize("command", ["train", "retrain"])
def test_missing_config_files(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    err = _error([command, "-w", str(ws), "-c", str(tmp_path / "nope.yaml")], capsys)
    assert f"{tmp_path / 'nope.yaml'}: config file not found" in err


def test_retrain_checks_its_training_config_before_any_work(ws: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "retrain.yaml"
    cfg.write_text(f"train_config: {tmp_path / 'missing_train.yaml'}\n")
    err = _error(["retrain", "-w", str(ws), "-c", str(cfg)], capsys)
    assert "missing_train.yaml: config file not found" in err


def test_impossible_fold_count_is_readable(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["train", "-w", str(ws), "--folds", "1"], capsys)
    assert "[folds]: k must be between 2 and the number of patients (3), got 1" in err


def test_bad_cron_expression_is_readable(ws: Path) -> None:
    # in a subprocess: importing prefect configures its logging handlers on the current stderr,
    # which in-process would be this test's capture (closed afterwards, breaking later Prefect tests)
    out = subprocess.run([sys.executable, "-c", CLI, "schedule", "-w", str(ws), "--cron", "bad"], capture_output=True,
                         text=True, timeout=300)
    err = " ".join(out.stderr.split())
    assert out.returncode == 1 and "Traceback" not in err
    assert "[--cron]: expected a cron expression" in err and "'bad'" in err


def test_overlong_password_is_refused_readably(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["users", "add", "longpw", "--role", "clinician", "-w", str(ws), "--password", "p" * 100], capsys)
    assert "72 bytes" in err


def test_a_pydantic_error_outside_a_loader_is_readable(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The last line of defence in main(): a config object built in code with a bad value."""
    from clinfusion.ingest import validate
    from clinfusion.training.config import TrainConfig

    def broken(*_args, **_kwargs):
        TrainConfig.model_validate({"folds": "many"})

    monkeypatch.setattr(validate, "validate_cohort", broken)
    err = _error(["validate", "x"], capsys)
    assert "TrainConfig [folds]" in err


def test_real_entry_point_prints_no_traceback_and_debug_shows_one(ws: Path) -> None:
    argv = [sys.executable, "-c", CLI, "featurize", "-w", str(ws), "-m", "reports", "-e", "local_transformer"]
    env = {**os.environ, "COLUMNS": "200"}
    plain = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr and "[model_path]" in plain.stderr
    debug = subprocess.run([*argv, "--debug"], capture_output=True, text=True, env=env, timeout=120)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
