"""Encoder options: validation, weights requirement, cache key, weight hashes, featurize config files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import ClassVar

import pytest
from clinfusion.cli.featurize_cmds import featurize_plan
from clinfusion.errors import ConfigError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.config import load_featurize_config
from clinfusion.featurize.options import EncoderOptions, WeightsOptions, describe_options, validate_options
from clinfusion.featurize.weights import hash_cache_path, weights_sha256
from clinfusion.workspace.hashing import sha256_file
from pydantic import Field


class _Opts(WeightsOptions):
    """Test options.

    Attributes:
        width: output width, documented in the docstring only.
    """

    width: int = Field(4, ge=1)


class _Net(Encoder):
    modality = "pathology"
    name = "net"
    Config = _Opts
    needs_weights = True
    weights_options: ClassVar[tuple[str, ...]] = ("model_dir",)

    def encode(self, patient_id, rows, ws):  # pragma: no cover - not run here
        raise NotImplementedError


class _Plain(Encoder):
    modality = "pathology"
    name = "plain"
    Config = EncoderOptions

    def encode(self, patient_id, rows, ws):  # pragma: no cover - not run here
        raise NotImplementedError


@pytest.fixture(autouse=True)
def _hash_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINFUSION_CACHE_DIR", str(tmp_path / "cache"))


def _ckpt(path: Path, payload: bytes) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text('{"architecture": "x"}')
    (path / "model.safetensors").write_bytes(payload)
    (path / ".cache").mkdir()
    (path / ".cache" / "lock").write_text("ignored: hidden")
    return path


def test_unknown_option_lists_valid_ones_and_bad_value_names_the_option() -> None:
    with pytest.raises(ConfigError) as err:
        validate_options(_Opts, {"widht": 3}, "pathology encoder 'net'")
    assert "unknown option 'widht'" in err.value.message
    assert "valid options: batch_size, device, model_dir, random_init, seed, width" in err.value.message
    assert err.value.field == "widht"
    with pytest.raises(ConfigError) as err:
        validate_options(_Opts, {"width": 0}, "src")
    assert err.value.field == "width" and "greater than or equal to 1" in err.value.message
    with pytest.raises(ConfigError, match="device"):
        _Net({"device": "tpu"})
    assert validate_options(_Opts, {"width": 8}, "src").width == 8


def test_needs_weights_refuses_without_them_unless_random_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs weights: set --option model_dir=PATH") as err:
        _Net().config_hash()
    assert err.value.field == "model_dir" and "random_init=true" in err.value.message
    random = _Net({"random_init": True})
    assert random.weights_hashes() == {} and random.cache_options()["random_init"] is True
    assert random.config_hash() != _Net({"random_init": True, "seed": 1}).config_hash()
    with pytest.raises(ConfigError, match="does not exist"):
        _Net({"model_dir": str(tmp_path / "absent")}).config_hash()
    _Plain().check_weights()  # encoders without weights are never refused


def test_cache_key_hashes_weight_content_not_paths(tmp_path: Path) -> None:
    a = _ckpt(tmp_path / "a", b"weights-A")
    b = _ckpt(tmp_path / "b", b"weights-B")
    key = _Net({"model_dir": str(a)}).config_hash()
    assert key != _Net({"model_dir": str(b)}).config_hash()
    assert key == _Net({"model_dir": str(a), "batch_size": 2, "device": "cpu"}).config_hash()  # runtime only
    assert key != _Net({"model_dir": str(a), "width": 5}).config_hash()
    moved = tmp_path / "moved" / "uni"
    shutil.copytree(a, moved)
    assert _Net({"model_dir": str(moved)}).config_hash() == key
    assert "model_dir" not in _Net({"model_dir": str(a)}).cache_options()
    single = tmp_path / "w.pt"
    single.write_bytes(b"weights-A")
    assert weights_sha256(single) == sha256_file(single)
    assert weights_sha256(a) != weights_sha256(tmp_path / "moved" / "uni" / "model.safetensors")


def test_weight_hashes_are_memoised_by_size_and_mtime(tmp_path: Path) -> None:
    f = tmp_path / "w.bin"
    f.write_bytes(b"one")
    first = weights_sha256(f)
    assert hash_cache_path().is_file() and first in hash_cache_path().read_text()
    st = f.stat()
    f.write_bytes(b"two")  # same size: only the new mtime tells it changed
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert weights_sha256(f) == sha256_file(f) != first
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="empty"):
        weights_sha256(tmp_path / "empty")


def test_featurize_config_file_and_plan(tmp_path: Path) -> None:
    cfg = tmp_path / "featurize.yaml"
    cfg.write_text("pathology:\n  encoder: timm\n  options: {model_dir: /m/uni, batch_size: 64}\nreports:\n")
    blocks = load_featurize_config(cfg)
    assert blocks["pathology"].encoder == "timm" and blocks["pathology"].options["batch_size"] == 64
    assert blocks["reports"].encoder is None
    plan = featurize_plan(["pathology", "reports"], None, None, None, cfg, has_encoders=lambda m: True)
    assert plan["pathology"][:2] == ("timm", {"model_dir": "/m/uni", "batch_size": 64})
    one = featurize_plan([], ["pathology"], None, ["batch_size=8", 'model_args={"depth": 2}'], cfg,
                         has_encoders=lambda m: True)
    assert one["pathology"][1] == {"model_dir": "/m/uni", "batch_size": 8, "model_args": {"depth": 2}}
    with pytest.raises(ConfigError, match="exactly one --modality"):
        featurize_plan([], None, None, ["batch_size=8"], cfg, has_encoders=lambda m: True)
    cli = featurize_plan(["pathology"], None, "timm", ["model_dir=/x", "random_init=true"], None,
                         has_encoders=lambda m: True)
    assert cli == {"pathology": ("timm", {"model_dir": "/x", "random_init": True}, "--option KEY=VALUE")}
    cfg.write_text("pathology: [timm]\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_featurize_config(cfg)


def test_describe_options_reads_field_and_docstring_descriptions() -> None:
    rows = {r["option"]: r for r in describe_options(_Opts)}
    assert rows["width"] == {"option": "width", "type": "int", "default": "4",
                             "description": "output width, documented in the docstring only."}
    assert rows["device"]["type"] == "auto|cpu|cuda" and rows["model_dir"]["default"] == '""'
