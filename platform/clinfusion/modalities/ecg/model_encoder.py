"""``ecg_model``: a pretrained ECG network from a local file (TorchScript, ONNX or a state dict).

Formats (``format=auto`` picks by file name; ``model_dir`` may also be a directory holding
``model.onnx``, ``model.ts`` or ``model.pt``):

- ``onnx`` (``.onnx``): run with onnxruntime (CUDA provider when ``device`` resolves to cuda);
- ``torchscript`` (``.ts``, or a ``.pt`` that ``torch.jit.load`` accepts);
- ``state_dict`` (``.pt``/``.pth``): weights of the registered architecture ``arch``
  (``resnet1d``: a checkpoint of :func:`.resnet1d.save_checkpoint`, whose saved architecture is
  used, or a bare state dict with ``arch_options``).

Input preparation, from the ingested windows (``signal.npz``: ``[W, 12, S]`` mV at the ingest
rate): each window's valid samples are resampled to ``fs_hz`` (polyphase, anti-aliased:
:func:`.signal.resample`), cut or zero-padded to ``duration_s``, reordered to ``leads`` (absent
leads are zeros) and normalised per lead (``zscore``: mean 0, SD 1 over the window; ``none``:
mV). ECGFounder's defaults: 12 leads in standard order, 500 Hz, 10 s, z-score.

Shapes:
    model input ``[B, len(leads), fs_hz * duration_s]`` float32; output ``[B, D]`` (a longer
    output is averaged over its trailing axes); tokens ``[W, D]`` per record, ``groups`` = record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from clinfusion.errors import ConfigError, FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.options import WeightsOptions, resolve_device
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.ecg.artifact import EcgArtifact, load_signal
from clinfusion.modalities.ecg.leads import STANDARD_LEADS
from clinfusion.modalities.ecg.signal import resample
from clinfusion.workspace.catalog import row_meta
from clinfusion.workspace.workspace import Workspace

FILE_NAMES = ("model.onnx", "model.ts", "model.pt", "model.pth")


class EcgModelConfig(WeightsOptions):
    """``ecg_model`` options (plus :class:`WeightsOptions`: ``model_dir`` = the model file or folder)."""

    format: Literal["auto", "onnx", "torchscript", "state_dict"] = Field(
        "auto", description="model file format (auto: .onnx -> onnx, .ts -> torchscript, .pt tries TorchScript "
                            "then a state dict)")
    arch: Literal["resnet1d"] = Field("resnet1d", description="registered architecture of a state dict")
    arch_options: dict[str, int] = Field(default_factory=dict, description=(
        "architecture of a bare state dict / random_init (resnet1d: in_channels, dim, width, n_blocks, kernel)"))
    fs_hz: float = Field(500.0, gt=0, le=10000, description="sampling rate the model expects, Hz")
    duration_s: float = Field(10.0, gt=0, le=600, description="input length the model expects, s")
    leads: tuple[str, ...] = Field(STANDARD_LEADS, description="lead order of the model input channels")
    normalize: Literal["zscore", "none"] = Field("zscore", description="per-lead, per-window normalisation")
    max_windows: int = Field(32, ge=1, description="windows per record encoded (Holter cost bound)")

    @field_validator("leads")
    @classmethod
    def _known_leads(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [x for x in v if x not in STANDARD_LEADS]
        if bad or not v or len(set(v)) != len(v):
            raise ValueError(f"leads must be distinct names of {list(STANDARD_LEADS)}, got {list(v)}")
        return v

    @property
    def n_samples(self) -> int:
        """Samples per lead of one model input."""
        return int(round(self.fs_hz * self.duration_s))


def model_inputs(art: EcgArtifact, cfg: EcgModelConfig) -> np.ndarray:
    """The model input of every window of a record: ``[W, len(leads), n_samples]`` float32."""
    n = cfg.n_samples
    order = [STANDARD_LEADS.index(x) for x in cfg.leads]
    windows = []
    for w in range(min(art.signal.shape[0], cfg.max_windows)):
        x = art.signal[w, order, : int(art.valid[w])].astype(np.float64)
        x = x * art.present[order, None]
        if x.shape[1] and abs(art.fs_hz - cfg.fs_hz) > 1e-9:
            x = resample(x, art.fs_hz, cfg.fs_hz)
        out = np.zeros((len(order), n))
        out[:, : min(n, x.shape[1])] = x[:, :n]
        if cfg.normalize == "zscore":
            m = min(n, x.shape[1])
            if m:
                seg = out[:, :m]
                sd = seg.std(axis=1, keepdims=True)
                out[:, :m] = np.where(sd > 1e-8, (seg - seg.mean(axis=1, keepdims=True)) / np.maximum(sd, 1e-8), 0.0)
        windows.append(out)
    return np.stack(windows).astype(np.float32)


def resolve_file(model_dir: str | Path) -> Path:
    """The model file of ``model_dir`` (the file itself, or ``model.onnx|ts|pt|pth`` inside a folder)."""
    p = Path(model_dir).expanduser()
    if p.is_dir():
        found = [p / n for n in FILE_NAMES if (p / n).is_file()]
        if not found:
            raise ConfigError(f"no ECG model in the folder: expected one of {list(FILE_NAMES)}", file=p,
                              field="model_dir")
        return found[0]
    if not p.is_file():
        raise ConfigError("ECG model file not found", file=p, field="model_dir")
    return p


class _OnnxRunner:
    """onnxruntime session; ``__call__([B, C, S]) -> [B, ...]`` numpy."""

    def __init__(self, path: Path, device: str) -> None:
        import onnxruntime as ort

        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(str(path), providers=providers)
        except Exception as err:  # onnxruntime raises its own Fail/InvalidGraph classes
            raise ConfigError(f"not a loadable ONNX model: {str(err).splitlines()[0][:160]}", file=path,
                              field="model_dir") from None
        self.input = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input: x})[0])


class _TorchRunner:
    def __init__(self, model: Any, device: str) -> None:
        self.model, self.device = model.to(device).eval(), device

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model(torch.from_numpy(x).to(self.device))
        out = out[0] if isinstance(out, tuple | list) else out
        return out.float().cpu().numpy()


def _state_dict_model(path: Path | None, cfg: EcgModelConfig) -> Any:
    """The registered architecture with the weights of ``path`` (seeded random when ``path`` is None)."""
    import torch

    from clinfusion.modalities.ecg.resnet1d import build_resnet1d

    arch = {"in_channels": len(cfg.leads), **cfg.arch_options}
    if path is None:
        torch.manual_seed(cfg.seed)
        return build_resnet1d(**arch)
    ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(ckpt, dict) and "state_dict" in ckpt:
        arch = {k: int(v) for k, v in dict(ckpt.get("arch", arch)).items()}
        ckpt = ckpt["state_dict"]
    if arch.get("in_channels") != len(cfg.leads):
        raise ConfigError(f"the network takes {arch.get('in_channels')} channels but leads lists {len(cfg.leads)}",
                          file=path, field="leads")
    model = build_resnet1d(**arch)
    try:
        model.load_state_dict(ckpt, strict=True)
    except RuntimeError as err:
        raise ConfigError(f"state dict does not fit {cfg.arch} {arch}: {'; '.join(str(err).splitlines()[1:3]).strip()[:300]}", file=path,
                          field="arch_options") from None
    return model


def load_runner(cfg: EcgModelConfig, device: str) -> Any:
    """A callable ``[B, C, S] float32 -> [B, ...]`` for the configured model."""
    import torch

    if cfg.random_init:
        return _TorchRunner(_state_dict_model(None, cfg), device)
    path = resolve_file(cfg.model_dir)
    fmt: str = cfg.format
    if fmt == "auto":
        fmt = {".onnx": "onnx", ".ts": "torchscript"}.get(path.suffix.lower(), "pt")
    if fmt == "onnx":
        return _OnnxRunner(path, device)
    if fmt in ("torchscript", "pt"):
        try:
            return _TorchRunner(torch.jit.load(str(path), map_location="cpu"), device)
        except RuntimeError as err:
            if fmt == "torchscript":
                raise ConfigError(f"not a TorchScript file: {str(err).splitlines()[0][:160]}", file=path,
                                  field="model_dir") from None
    return _TorchRunner(_state_dict_model(path, cfg), device)


class EcgModelEncoder(Encoder):
    """Pretrained ECG embeddings, one token per window (see module docstring)."""

    modality = "ecg"
    name = "ecg_model"
    version = "1"
    Config = EcgModelConfig
    config: EcgModelConfig  # validated by Encoder.__init__ with Config
    needs_weights = True
    weights_options = ("model_dir",)
    _runner: Any = None

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        if self._runner is None:
            self.check_weights()
            self._runner = load_runner(self.config, resolve_device(self.config.device))

    def embed(self, x: np.ndarray) -> np.ndarray:
        """Embeddings ``[B, D]`` of model inputs ``[B, C, S]``, in ``batch_size`` chunks."""
        self.setup(Workspace(Path(".")), pd.DataFrame())
        bs = self.config.batch_size
        outs = [self._runner(np.ascontiguousarray(x[i:i + bs])) for i in range(0, len(x), bs)]
        out = np.concatenate(outs)
        return (out.reshape(len(out), out.shape[1], -1).mean(-1) if out.ndim > 2 else out).astype(np.float32)

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        toks, names, pos, groups = [], [], [], []
        records = rows.sort_values("item_id")
        if records.empty:
            raise FeaturizeError("patient has no ingested ECG records", field="rows")
        for g, (_, row) in enumerate(records.iterrows()):
            meta, art = row_meta(row), load_signal(ws.root / row["artifact_dir"])
            t = self.embed(model_inputs(art, self.config))
            toks.append(t)
            names += [f"w{k}" for k in range(len(t))]
            pos += [k * float(meta.get("window_s", 10.0)) for k in range(len(t))]
            groups += [g] * len(t)
        return TokenSet(np.concatenate(toks), positions=np.array(pos, dtype=np.float32), names=names,
                        groups=np.array(groups), meta={"encoder": self.name, "fs_hz": self.config.fs_hz,
                                                       "leads": list(self.config.leads)})
