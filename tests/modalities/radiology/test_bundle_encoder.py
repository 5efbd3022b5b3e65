"""``monai_bundle`` / ``torchscript3d`` pretrained 3D encoders and monai_cnn's weights refusal.

The test writes a real MONAI bundle (``configs/inference.json`` with a small SegResNet as
``network_def`` + ``models/model.pt``) and a TorchScript file, and a stored NIfTI series in the
reader's layout, so the encoders run as featurize runs them (``encode(pid, rows, ws)``).
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch
from clinfusion.errors import ConfigError
from clinfusion.modalities.radiology.bundle_encoder import (
    MonaiBundleEncoder,
    TorchScript3dEncoder,
    global_pool,
)
from clinfusion.modalities.radiology.ct_preprocess import FoundationPreprocess
from clinfusion.modalities.radiology.features import ENCODERS, MonaiCNNEncoder
from clinfusion.workspace import Workspace

NET = {"_target_": "SegResNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 2, "init_filters": 8,
       "blocks_down": [1, 1], "blocks_up": [1]}
SMALL = {"preprocess": {"spacing_mm": [2.0, 2.0, 3.0], "spatial_size": [16, 16, 8]}}


def _bundle(root, seed: int):
    from monai.networks.nets import SegResNet

    (root / "configs").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "configs" / "inference.json").write_text(json.dumps(
        {"network_def": NET, "network": "$@network_def.to(@device)", "device": "$torch.device('cpu')"}))
    torch.manual_seed(seed)
    kwargs = {k: v for k, v in NET.items() if k != "_target_"}
    torch.save(SegResNet(**kwargs).state_dict(), root / "models" / "model.pt")
    return root


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bundles")
    _bundle(d / "a", 0)
    _bundle(d / "b", 1)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv3d(1, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv3d(6, 4, 3)).eval()
    torch.jit.save(torch.jit.trace(net, torch.zeros(1, 1, 16, 16, 8)), str(d / "enc.ts"))
    return d


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """One patient, one stored CT series (24 x 24 x 10 voxels, 1.5 x 1.5 x 3 mm) as the reader stores it."""
    root = tmp_path_factory.mktemp("radws")
    art = root / "artifacts" / "radiology" / "i0"
    art.mkdir(parents=True)
    rng = np.random.default_rng(0)
    vol = rng.integers(-1000, 1000, size=(24, 24, 10)).astype(np.int16)
    affine = np.diag([1.5, 1.5, 3.0, 1.0])
    nib.save(nib.Nifti1Image(vol, affine), art / "s0.nii.gz")
    rec = {"status": "ok", "index": 0, "artifact": "s0.nii.gz", "selected": True, "modality": "CT",
           "shape": [10, 24, 24], "affine": affine.tolist()}
    rows = pd.DataFrame([{"item_id": "i0", "artifact_dir": "artifacts/radiology/i0",
                          "meta_json": json.dumps({"series": [rec]})}])
    return Workspace(root), rows


def _tokens(workspace, cls, **options):
    ws, rows = workspace
    return cls({**SMALL, **options}).encode("p0", rows, ws)


def test_bundle_layer_features_are_loaded_weights(workspace, files):
    a = _tokens(workspace, MonaiBundleEncoder, model_dir=str(files / "a"), layer="down_layers.1")
    assert a.tokens.shape == (1, 16) and a.positions.shape == (1, 3) and a.names == ["s0:monai_bundle"]
    assert np.array_equal(a.tokens, _tokens(workspace, MonaiBundleEncoder, model_dir=str(files / "a"),
                                            layer="down_layers.1").tokens), "deterministic"
    b = _tokens(workspace, MonaiBundleEncoder, model_dir=str(files / "b"), layer="down_layers.1")
    assert np.abs(a.tokens - b.tokens).max() > 1e-4, "another checkpoint gives other tokens"
    rand = _tokens(workspace, MonaiBundleEncoder, model_dir=str(files / "a"), layer="down_layers.1",
                   random_init=True, seed=7)
    assert np.abs(rand.tokens - a.tokens).max() > 1e-4, "random_init does not read model.pt"
    out = _tokens(workspace, MonaiBundleEncoder, model_dir=str(files / "a"))
    assert out.tokens.shape == (1, 2), "no layer: the network output (2 segmentation channels), pooled"


def test_torchscript3d(workspace, files):
    t = _tokens(workspace, TorchScript3dEncoder, model_dir=str(files / "enc.ts"))
    assert t.tokens.shape == (1, 4) and np.isfinite(t.tokens).all()
    with pytest.raises(ConfigError, match="random_init"):
        _tokens(workspace, TorchScript3dEncoder, model_dir=str(files / "enc.ts"), random_init=True)


def test_cache_key_and_missing_weights(workspace, files, tmp_path):
    ws, rows = workspace
    assert {"monai_bundle", "torchscript3d"} <= set(ENCODERS)
    key = MonaiBundleEncoder({"model_dir": str(files / "a")}).config_hash()
    import shutil

    shutil.copytree(files / "a", tmp_path / "moved")
    assert MonaiBundleEncoder({"model_dir": str(tmp_path / "moved")}).config_hash() == key
    assert MonaiBundleEncoder({"model_dir": str(files / "b")}).config_hash() != key
    assert MonaiBundleEncoder({"model_dir": str(files / "a"), "layer": "down_layers.1"}).config_hash() != key
    with pytest.raises(ConfigError, match="needs weights: set --option model_dir=PATH"):
        MonaiBundleEncoder().config_hash()
    shutil.copytree(files / "a", tmp_path / "wider")
    (tmp_path / "wider" / "configs" / "inference.json").write_text(json.dumps({"network_def": {**NET, "init_filters": 16}}))
    with pytest.raises(ConfigError, match="weights do not fit network_def: .*size mismatch"):
        MonaiBundleEncoder({"model_dir": str(tmp_path / "wider")}).setup(ws, rows)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no bundle config: expected configs/inference.json"):
        MonaiBundleEncoder({"model_dir": str(tmp_path / "empty")}).setup(ws, rows)
    (tmp_path / "moved" / "models" / "model.pt").unlink()
    with pytest.raises(ConfigError, match="expected models/model.pt"):
        MonaiBundleEncoder({"model_dir": str(tmp_path / "moved")}).setup(ws, rows)
    with pytest.raises(ConfigError, match="top-level modules"):
        _tokens(workspace, MonaiBundleEncoder, model_dir=str(files / "a"), layer="layer9")


def test_preprocess_defaults_and_validation():
    p = FoundationPreprocess()  # Merlin's documented input
    assert (p.spacing_mm, p.orientation, p.hu_window, p.scale_range, p.spatial_size) == (
        (1.5, 1.5, 3.0), "RAS", (-1000.0, 1000.0), (0.0, 1.0), (224, 224, 160))
    for bad in ({"spacing_mm": [0, 1, 1]}, {"orientation": "RRS"}, {"hu_window": [100, -100]}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            MonaiBundleEncoder({"preprocess": bad})
    with pytest.raises(ConfigError, match="valid options"):
        MonaiBundleEncoder({"hu": [0, 1]})
    assert global_pool(torch.ones(2, 3, 4, 4, 4)).shape == (2, 3)


def test_monai_cnn_refuses_silent_random_weights(workspace):
    small = {"embed_dim": 4, "preprocess": {"spatial_size": [16, 16, 16], "pixdim_mm": [4.0, 4.0, 4.0]}}
    with pytest.raises(ConfigError, match="checkpoint=") as err:
        MonaiCNNEncoder(small).config_hash()
    assert "random_init=true" in str(err.value)
    from clinfusion.modalities.radiology.features import load_network

    with pytest.raises(ConfigError, match="monai_cnn needs weights"):
        load_network(MonaiCNNEncoder.Config.model_validate(small))
    ws, rows = workspace
    assert MonaiCNNEncoder({**small, "random_init": True}).encode("p0", rows, ws).tokens.shape == (1, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the GPU path runs only where torch sees one")
def test_cuda_gives_the_cpu_tokens(workspace, files):
    opts = {"model_dir": str(files / "a"), "layer": "down_layers.1"}
    cpu = _tokens(workspace, MonaiBundleEncoder, device="cpu", **opts)
    gpu = _tokens(workspace, MonaiBundleEncoder, device="cuda", **opts)
    assert np.allclose(cpu.tokens, gpu.tokens, atol=1e-3)


def test_cli_featurize_with_options_caches_and_refuses_without_weights(files, tmp_path, capsys):
    """End to end: ingest one NIfTI, `featurize -e monai_bundle --option ...` twice (second run cached)."""
    from clinfusion.cli.app import main
    from clinfusion.featurize.cache import load_tokens
    from clinfusion.ingest import ingest
    from clinfusion.testing import write_tiny_cohort

    cohort = write_tiny_cohort(tmp_path / "c", n_patients=1)
    src = cohort.root / "radiology" / cohort.patients[0]
    src.mkdir(parents=True)
    vol = np.random.default_rng(1).integers(-1000, 1000, size=(20, 20, 8)).astype(np.int16)
    nib.save(nib.Nifti1Image(vol, np.diag([1.5, 1.5, 3.0, 1.0])), src / "ct.nii.gz")
    ingest(cohort.root, tmp_path / "ws", demo=True)
    ws = str(tmp_path / "ws")
    base = ["featurize", "-w", ws, "-m", "radiology", "-e", "monai_bundle"]
    assert main(base) == 1
    assert "needs weights: set --option model_dir=PATH" in " ".join(capsys.readouterr().err.split())
    opts = ["--option", f"model_dir={files / 'a'}", "--option", "layer=down_layers.1",
            "--option", "preprocess.spatial_size=[16, 16, 8]", "--option", "preprocess.spacing_mm=[2, 2, 3]"]
    assert main([*base, *opts]) == 0
    toks = load_tokens(Workspace.open(tmp_path / "ws"), "radiology", "monai_bundle")
    assert [t.tokens.shape for t in toks.values()] == [(1, 16)]
    from clinfusion.featurize import featurize

    same = MonaiBundleEncoder({"model_dir": str(files / "a"), "layer": "down_layers.1",
                               "preprocess": {"spatial_size": [16, 16, 8], "spacing_mm": [2, 2, 3]}})
    rep = featurize(Workspace.open(tmp_path / "ws"), same)
    assert rep.encoded == [] and len(rep.cached) == 1, "the CLI run's cache is reused (same options, same weights)"
