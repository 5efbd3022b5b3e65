"""The pathology ``cnn`` encoder needs a checkpoint or an explicit ``random_init`` (no silent fallback)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clinfusion.errors import ConfigError
from clinfusion.modalities.pathology.cnn import CHECKPOINT_ENV, CnnConfig, CnnTileEncoder, embed_tiles
from clinfusion.modalities.pathology.features import CnnEncoder

SMALL = {"block": "basic", "layers": [1, 1, 1, 1], "block_inplanes": [4, 8, 8, 16], "num_classes": 2}


def test_cnn_refuses_to_run_without_a_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    with pytest.raises(ConfigError, match="needs weights: set --option checkpoint=PATH") as err:
        CnnEncoder({}).config_hash()
    assert err.value.field == "checkpoint"


def test_random_init_is_explicit_seeded_and_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    keys = {CnnEncoder({"random_init": True, "seed": s}).config_hash() for s in (0, 0, 1)}
    assert len(keys) == 2
    tiles = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    a, b = (embed_tiles(CnnTileEncoder(CnnConfig(random_init=True, seed=3)).model, tiles, 2) for _ in range(2))
    assert a.shape == (2, 512)
    np.testing.assert_array_equal(a, b)


def test_checkpoint_from_env_and_content_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clinfusion.modalities.pathology.cnn import write_resnet_checkpoint

    one = write_resnet_checkpoint(tmp_path / "one.pt", SMALL, seed=0)
    two = write_resnet_checkpoint(tmp_path / "two.pt", SMALL, seed=1)
    monkeypatch.setenv("CLINFUSION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(CHECKPOINT_ENV, str(one))
    from_env = CnnEncoder({})
    assert from_env.config.checkpoint == str(one)
    assert from_env.config_hash() != CnnEncoder({"checkpoint": str(two)}).config_hash()
    copy = tmp_path / "moved.pt"
    copy.write_bytes(one.read_bytes())
    assert CnnEncoder({"checkpoint": str(copy)}).config_hash() == from_env.config_hash()
