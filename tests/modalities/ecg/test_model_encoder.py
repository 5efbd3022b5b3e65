"""``ecg_model`` (TorchScript / ONNX / state dict from a local file) and resnet1d's weights refusal.

The models are tiny resnet1d networks written by the test in the real on-disk formats
(``torch.jit.save``, ``torch.onnx.export``, ``save_checkpoint``); the ECG artifact is a
``signal.npz`` written in the reader's layout (250 Hz, so the encoder has to resample to 500 Hz).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from clinfusion.errors import ConfigError
from clinfusion.modalities.ecg.artifact import SIGNAL_FILE
from clinfusion.modalities.ecg.features import ENCODERS, ResNet1dEncoder
from clinfusion.modalities.ecg.leads import STANDARD_LEADS
from clinfusion.modalities.ecg.model_encoder import EcgModelConfig, EcgModelEncoder, model_inputs
from clinfusion.modalities.ecg.resnet1d import build_resnet1d, save_checkpoint
from clinfusion.testing.ecg import synthetic_ecg
from clinfusion.workspace import Workspace

ARCH = {"in_channels": 12, "dim": 8, "width": 4, "n_blocks": 2, "kernel": 9}
SMALL = {"fs_hz": 100.0, "duration_s": 5.0}  # 500 samples per model input: keeps the test fast


def _net(seed: int):
    torch.manual_seed(seed)
    return build_resnet1d(**ARCH).eval()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """One patient, one record: 2 windows of 10 s at 250 Hz (second one 6 s valid), lead V6 absent."""
    root = tmp_path_factory.mktemp("ecgws")
    art = root / "artifacts" / "ecg" / "r0"
    art.mkdir(parents=True)
    x = synthetic_ecg(20, 250, hr_bpm=70, seed=3).T.astype(np.float32)  # [12, 5000] mV
    windows = np.stack([x[:, :2500], np.pad(x[:, 2500:4000], ((0, 0), (0, 1000)))])
    present = np.ones(12, bool)
    present[11] = False
    np.savez_compressed(art / SIGNAL_FILE, signal=windows, valid=np.array([2500, 1500]), present=present,
                        leads=np.array(STANDARD_LEADS), extra=np.zeros((2, 0, 2500), np.float32),
                        extra_names=np.array([], dtype=str), lead_features=np.zeros((12, 3), np.float32),
                        lead_feature_names=np.array(["a", "b", "c"]), fs_hz=np.float64(250.0))
    rows = pd.DataFrame([{"item_id": "r0", "artifact_dir": "artifacts/ecg/r0", "meta_json": json.dumps({"window_s": 10})}])
    return Workspace(root), rows


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("ecgmodels")
    net = _net(0)
    example = torch.zeros(2, 12, 500)
    torch.jit.save(torch.jit.trace(net, example), str(d / "model.ts"))
    save_checkpoint(net, d / "ckpt.pt", ARCH)
    torch.jit.save(torch.jit.trace(_net(1), example), str(d / "other.ts"))
    onnx = d / "onnx"
    onnx.mkdir()
    try:
        torch.onnx.export(net, (example,), str(onnx / "model.onnx"), input_names=["x"],
                          dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True)
    except ImportError as err:  # onnx/onnxscript are dev dependencies
        pytest.skip(f"torch.onnx.export needs onnx + onnxscript: {err}")
    return d


def _encode(workspace, **options):
    ws, rows = workspace
    return EcgModelEncoder({**SMALL, **options}).encode("p0", rows, ws)


def test_inputs_are_resampled_padded_reordered_and_zscored(workspace):
    ws, rows = workspace
    from clinfusion.modalities.ecg.artifact import load_signal

    art = load_signal(ws.root / "artifacts/ecg/r0")
    x = model_inputs(art, EcgModelConfig())  # ECGFounder defaults: 12 leads, 500 Hz, 10 s, z-score
    assert x.shape == (2, 12, 5000) and x.dtype == np.float32
    valid = x[0, :11]
    assert np.allclose(valid.mean(axis=1), 0, atol=1e-5) and np.allclose(valid.std(axis=1), 1, atol=1e-4)
    assert not x[:, 11].any(), "absent lead V6 is zeros"
    assert not x[1, :, 3000:].any() and x[1, 0, :3000].std() > 0.5, "6 s valid at 250 Hz -> 3000 samples at 500 Hz"
    swapped = model_inputs(art, EcgModelConfig(leads=("II", "I")))
    assert swapped.shape == (2, 2, 5000) and np.allclose(swapped[:, 0], x[:, 1]) and np.allclose(swapped[:, 1], x[:, 0])
    raw = model_inputs(art, EcgModelConfig(normalize="none", fs_hz=250.0))
    assert np.allclose(raw[0, :, :2500], art.signal[0] * art.present[:, None])


def test_torchscript_onnx_and_state_dict_give_the_same_tokens(workspace, models):
    ts = _encode(workspace, model_dir=str(models / "model.ts"))
    assert ts.tokens.shape == (2, 8) and ts.groups.tolist() == [0, 0] and ts.names == ["w0", "w1"]
    again = _encode(workspace, model_dir=str(models / "model.ts"))
    assert np.array_equal(ts.tokens, again.tokens)
    sd = _encode(workspace, model_dir=str(models / "ckpt.pt"))
    onnx = _encode(workspace, model_dir=str(models / "onnx"), batch_size=1)  # folder with model.onnx
    assert np.allclose(ts.tokens, sd.tokens, atol=1e-5) and np.allclose(ts.tokens, onnx.tokens, atol=1e-4)
    other = _encode(workspace, model_dir=str(models / "other.ts"))
    assert np.abs(other.tokens - ts.tokens).max() > 1e-3, "another checkpoint gives other tokens"
    rand = _encode(workspace, random_init=True, seed=5, arch_options={k: v for k, v in ARCH.items() if k != "in_channels"})
    assert rand.tokens.shape == (2, 8) and np.abs(rand.tokens - ts.tokens).max() > 1e-3


def test_cache_key_follows_weight_content(models, tmp_path):
    a = EcgModelEncoder({"model_dir": str(models / "model.ts")}).config_hash()
    copy = tmp_path / "moved.ts"
    copy.write_bytes((models / "model.ts").read_bytes())
    assert EcgModelEncoder({"model_dir": str(copy)}).config_hash() == a
    assert EcgModelEncoder({"model_dir": str(models / "other.ts")}).config_hash() != a
    assert EcgModelEncoder({"model_dir": str(copy), "batch_size": 3}).config_hash() == a  # runtime option
    assert EcgModelEncoder({"model_dir": str(copy), "fs_hz": 250}).config_hash() != a


def test_missing_weights_and_bad_options_read_well(workspace, models):
    ws, rows = workspace
    assert "ecg_model" in ENCODERS
    with pytest.raises(ConfigError, match="needs weights: set --option model_dir=PATH"):
        EcgModelEncoder().encode("p0", rows, ws)
    with pytest.raises(ConfigError, match="not found"):
        EcgModelEncoder({"model_dir": str(models / "nope.onnx")}).setup(ws, rows)
    with pytest.raises(ConfigError, match="leads"):
        EcgModelEncoder({"leads": ["I", "XX"]})
    with pytest.raises(ConfigError, match="valid options"):
        EcgModelEncoder({"sampling_rate": 500})
    with pytest.raises(ConfigError, match="channels"):
        _encode(workspace, model_dir=str(models / "ckpt.pt"), leads=["I", "II"])


def test_resnet1d_refuses_to_run_without_weights(workspace):
    ws, rows = workspace
    enc = ResNet1dEncoder({"dim": 8, "width": 4, "n_blocks": 2})
    with pytest.raises(ConfigError, match="checkpoint") as err:
        enc.setup(ws, rows)
    assert "random_init=true" in str(err.value)
    rand = ResNet1dEncoder({"dim": 8, "width": 4, "n_blocks": 2, "random_init": True})
    assert rand.encode("p0", rows, ws).tokens.shape == (2, 8)
    assert rand.config_hash() != ResNet1dEncoder({"dim": 8, "width": 4, "n_blocks": 2, "random_init": True,
                                                  "seed": 1}).config_hash()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the GPU path runs only where torch sees one")
def test_cuda_gives_the_cpu_tokens(workspace, models):
    cpu = _encode(workspace, model_dir=str(models / "model.ts"), device="cpu")
    gpu = _encode(workspace, model_dir=str(models / "model.ts"), device="cuda")
    assert np.allclose(cpu.tokens, gpu.tokens, atol=1e-3)
    with_ort = _encode(workspace, model_dir=str(models / "onnx"), device="cuda")  # falls back to CPU provider if absent
    assert np.allclose(cpu.tokens, with_ort.tokens, atol=1e-3)


def test_cuda_without_a_gpu_is_refused(workspace, models):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the refusal is for machines without one")
    with pytest.raises(ConfigError, match="cuda"):
        _encode(workspace, model_dir=str(models / "model.ts"), device="cuda")


def test_real_dicom_waveform_through_the_ingest_artifact(tmp_path, models):
    """pydicom's 12-lead waveform_ecg.dcm (1000 Hz): ingest processing -> signal.npz -> ECGFounder-shaped input."""
    from pathlib import Path

    from clinfusion.modalities.ecg.artifact import load_signal, write_signal
    from clinfusion.modalities.ecg.formats import detect, format_module
    from clinfusion.modalities.ecg.options import EcgOptions
    from clinfusion.modalities.ecg.process import process
    from clinfusion.modalities.ecg.signal import resample

    pydicom_data = pytest.importorskip("pydicom.data")
    path = Path(pydicom_data.get_testdata_file("waveform_ecg.dcm"))
    rec = process(format_module(detect(path)).read(path, EcgOptions()), EcgOptions(), rel=path.name)
    write_signal(tmp_path, rec)
    art = load_signal(tmp_path)
    x = model_inputs(art, EcgModelConfig())
    assert x.shape == (1, 12, 5000) and np.allclose(x[0].std(axis=1), 1, atol=1e-3)
    half = model_inputs(art, EcgModelConfig(fs_hz=art.fs_hz / 2, normalize="none"))
    ref = resample(art.signal[0, :, : int(art.valid[0])].astype(np.float64), art.fs_hz, art.fs_hz / 2)
    assert np.allclose(half[0, :, : ref.shape[1]], ref[:, :half.shape[2]], atol=1e-5)
    rows = pd.DataFrame([{"item_id": "d0", "artifact_dir": ".", "meta_json": "{}"}])
    enc = EcgModelEncoder({**SMALL, "model_dir": str(models / "model.ts")})
    t = enc.encode("p0", rows, Workspace(tmp_path))
    assert t.tokens.shape == (1, 8) and np.isfinite(t.tokens).all()
