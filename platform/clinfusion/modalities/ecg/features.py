"""ECG encoders: ``ENCODERS`` registry and ``DEFAULT_ENCODER``.

- ``ecg_features`` (default, offline): interpretable tokens, one per present lead (median-beat
  amplitudes, quality flags and the record's HR/PR/QRS/QT/QTc/axis) or one per 10 s window
  (rate, HRV and per-lead amplitude range of that window).
- ``resnet1d``: a 1D ResNet over windows (12 channels) or single leads, from a local checkpoint
  (:mod:`.resnet1d`), or seeded random weights when asked for with ``random_init=true``.
- ``ecg_model``: a pretrained network from a local TorchScript, ONNX or state-dict file, with
  its expected rate, duration, lead order and normalisation (:mod:`.model_encoder`).

A patient with several records gets the tokens of each, ``groups`` telling which record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from clinfusion.errors import FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.ecg.artifact import EcgArtifact, load_signal
from clinfusion.modalities.ecg.leads import STANDARD_LEADS
from clinfusion.modalities.ecg.measurements import LEAD_FEATURES, detect_rpeaks, reference_lead, rhythm
from clinfusion.modalities.ecg.model_encoder import EcgModelEncoder
from clinfusion.workspace.catalog import row_meta
from clinfusion.workspace.workspace import Workspace

QUALITY_FLAGS = ("flat", "clipped", "noisy", "baseline_wander", "lead_reversal")
RECORD_FEATURES = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "axis_sin", "axis_cos", "intervals_measured")
WINDOW_FEATURES = ("hr_bpm", "rr_ms", "sdnn_ms", "rmssd_ms", "pnn50", "n_beats", "usable_fraction",
                   *(f"range_mv_{n}" for n in STANDARD_LEADS))


def _records(rows: pd.DataFrame, ws: Workspace) -> list[tuple[dict, EcgArtifact]]:
    out = []
    for _, r in rows.sort_values("item_id").iterrows():
        out.append((row_meta(r), load_signal(ws.root / r["artifact_dir"])))
    if not out:
        raise FeaturizeError("patient has no ingested ECG records", field="rows")
    return out


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else 0.0


def record_vector(meta: dict) -> np.ndarray:
    """Record-level context (``RECORD_FEATURES``); unmeasured values are 0 with the indicator off."""
    axis = meta.get("axis_deg")
    rad = np.radians(axis) if isinstance(axis, int | float) else None
    measured = all(isinstance(meta.get(k), int | float) for k in ("pr_ms", "qrs_ms", "qt_ms"))
    return np.array([_num(meta.get("hr_bpm")), _num(meta.get("pr_ms")), _num(meta.get("qrs_ms")),
                     _num(meta.get("qt_ms")), _num(meta.get("qtc_ms")), np.sin(rad) if rad is not None else 0.0,
                     np.cos(rad) if rad is not None else 0.0, float(measured)])


def lead_tokens(meta: dict, art: EcgArtifact) -> tuple[np.ndarray, list[str]]:
    """One token per present lead: amplitudes, quality flags, record context."""
    ctx = record_vector(meta)
    rows, names = [], []
    for i, lead in enumerate(STANDARD_LEADS):
        if not art.present[i]:
            continue
        flags = meta.get("quality", {}).get(lead, [])
        amps = np.nan_to_num(art.lead_features[i].astype(np.float64), nan=0.0)
        rows.append(np.concatenate([amps, [float(f in flags) for f in QUALITY_FLAGS], ctx]))
        names.append(lead)
    return np.stack(rows), names


def window_tokens(art: EcgArtifact, usable: np.ndarray) -> np.ndarray:
    """One token per window: rhythm of the window's reference lead and per-lead robust ranges."""
    out = []
    for w in range(art.signal.shape[0]):
        x = art.signal[w, :, : int(art.valid[w])].astype(np.float64)
        rh = rhythm(detect_rpeaks(x[reference_lead(x, usable)], art.fs_hz), art.fs_hz)
        ranges = np.percentile(x, 99, axis=1) - np.percentile(x, 1, axis=1) if x.shape[1] else np.zeros(12)
        d = rh.as_dict()
        vals = [d["hr_bpm"], d["rr_ms"], d["sdnn_ms"], d["rmssd_ms"], d["pnn50"], d["n_beats"], usable.mean()]
        out.append(np.nan_to_num(np.concatenate([vals, ranges * art.present]), nan=0.0))
    return np.stack(out)


class EcgFeaturesConfig(BaseModel):
    """``tokens``: ``lead`` (one token per present lead) or ``window`` (one per window)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    tokens: Literal["lead", "window"] = "lead"


class EcgFeaturesEncoder(Encoder):
    """Interpretable, offline ECG tokens (see module docstring)."""

    modality = "ecg"
    name = "ecg_features"
    version = "1"
    Config = EcgFeaturesConfig
    config: EcgFeaturesConfig  # validated by Encoder.__init__ with Config

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        toks, names, groups, fnames = [], [], [], []
        pos: list[float] = []  # lead index (lead tokens) or window start in s (window tokens)
        for g, (meta, art) in enumerate(_records(rows, ws)):
            if self.config.tokens == "lead":
                t, n = lead_tokens(meta, art)
                pos += [STANDARD_LEADS.index(x) for x in n]
                fnames = [*LEAD_FEATURES, *(f"flag_{f}" for f in QUALITY_FLAGS), *RECORD_FEATURES]
            else:
                usable = np.array([x in meta.get("usable_leads", []) for x in STANDARD_LEADS])
                t = window_tokens(art, usable)
                n = [f"w{k}" for k in range(len(t))]
                pos += [k * float(meta.get("window_s", 10.0)) for k in range(len(t))]
                fnames = list(WINDOW_FEATURES)
            toks.append(t)
            names += n
            groups += [g] * len(t)
        return TokenSet(np.concatenate(toks), positions=np.array(pos, dtype=np.float32), names=names,
                        feature_names=fnames, groups=np.array(groups), meta={"tokens": self.config.tokens})


class ResNet1dConfig(BaseModel):
    """1D ResNet encoder settings.

    Attributes:
        level: ``window`` (12-channel windows -> one token each) or ``lead`` (each lead through a
            1-channel net, averaged over windows -> one token per present lead).
        dim, width, n_blocks, kernel: architecture (see :func:`.resnet1d.build_resnet1d`).
        checkpoint: local path of weights saved by ``save_checkpoint``; required unless ``random_init``.
        random_init: explicitly use seeded random weights (a fixed random projection that the
            fusion model can fine-tune) instead of a checkpoint.
        seed: initialisation seed of ``random_init``.
        max_windows: windows per record encoded (Holter cost bound).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    level: Literal["window", "lead"] = "window"
    dim: int = Field(64, ge=2, le=1024)
    width: int = Field(16, ge=4, le=256)
    n_blocks: int = Field(4, ge=1, le=8)
    kernel: int = Field(9, ge=3, le=31)
    checkpoint: str | None = Field(None, description="weights saved by resnet1d.save_checkpoint")
    random_init: bool = Field(False, description="seeded random weights instead of a checkpoint (explicit opt-in)")
    seed: int = 0
    max_windows: int = Field(32, ge=1)

    def arch(self) -> dict[str, int]:
        return {"in_channels": 12 if self.level == "window" else 1, "dim": self.dim, "width": self.width,
                "n_blocks": self.n_blocks, "kernel": self.kernel}


class ResNet1dEncoder(Encoder):
    """Learned-representation ECG tokens from :mod:`.resnet1d` (CPU, eval mode, no gradients)."""

    modality = "ecg"
    name = "resnet1d"
    version = "1"
    Config = ResNet1dConfig
    config: ResNet1dConfig  # validated by Encoder.__init__ with Config
    needs_weights = True
    weights_options = ("checkpoint",)  # the checkpoint's content hash is in the cache key

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        import torch

        from clinfusion.modalities.ecg.resnet1d import build_resnet1d, load_checkpoint

        cfg = self.config
        self.check_weights()  # no checkpoint and no random_init -> ConfigError naming the option
        if cfg.checkpoint and not cfg.random_init:
            self.model = load_checkpoint(Path(cfg.checkpoint).expanduser(), cfg.arch())
        else:
            torch.manual_seed(cfg.seed)
            self.model = build_resnet1d(**cfg.arch())
        self.model.eval()

    def _embed(self, x: np.ndarray) -> np.ndarray:
        import torch

        if not hasattr(self, "model"):
            self.setup(Workspace(Path(".")), pd.DataFrame())
        with torch.no_grad():
            return self.model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        toks, names, pos, groups = [], [], [], []
        for g, (meta, art) in enumerate(_records(rows, ws)):
            sig = art.signal[: self.config.max_windows] * art.present[None, :, None]
            if self.config.level == "window":
                t = self._embed(sig)
                names += [f"w{k}" for k in range(len(t))]
                pos += [k * float(meta.get("window_s", 10.0)) for k in range(len(t))]
            else:
                idx = np.flatnonzero(art.present)
                emb = self._embed(sig[:, idx].reshape(-1, 1, sig.shape[-1]))
                t = emb.reshape(sig.shape[0], len(idx), -1).mean(axis=0)
                names += [STANDARD_LEADS[i] for i in idx]
                pos += [float(i) for i in idx]
            toks.append(t)
            groups += [g] * len(t)
        return TokenSet(np.concatenate(toks), positions=np.array(pos, dtype=np.float32), names=names,
                        groups=np.array(groups), meta={"level": self.config.level})


ENCODERS: dict[str, type[Encoder]] = {"ecg_features": EcgFeaturesEncoder, "resnet1d": ResNet1dEncoder,
                                      "ecg_model": EcgModelEncoder}
DEFAULT_ENCODER = "ecg_features"
