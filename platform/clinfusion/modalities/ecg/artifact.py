"""The ECG artifact ``signal.npz`` (no pickles): what the reader writes and encoders read.

Arrays:
    signal: ``[W, 12, S]`` float32 mV at ``fs_hz``; leads in ``STANDARD_LEADS`` order.
    valid: ``[W]`` int64 valid samples per window.
    present: ``[12]`` bool; leads: ``[12]`` str.
    extra: ``[W, K, S]`` float32 mV; extra_names: ``[K]`` str (e.g. Frank ``vx, vy, vz``).
    lead_features: ``[12, F]`` float32 (NaN = not measurable); lead_feature_names: ``[F]`` str.
    fs_hz: scalar.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinfusion.modalities.ecg.leads import STANDARD_LEADS
from clinfusion.modalities.ecg.measurements import LEAD_FEATURES
from clinfusion.modalities.ecg.process import ProcessedEcg

SIGNAL_FILE = "signal.npz"


@dataclass
class EcgArtifact:
    """A loaded ``signal.npz`` (see module docstring for shapes)."""

    signal: np.ndarray
    valid: np.ndarray
    present: np.ndarray
    extra: np.ndarray
    extra_names: list[str]
    lead_features: np.ndarray
    fs_hz: float


def write_signal(out_dir: Path, rec: ProcessedEcg) -> str:
    """Write ``signal.npz`` into ``out_dir``; returns its name."""
    np.savez_compressed(
        out_dir / SIGNAL_FILE,
        signal=rec.windows.astype(np.float32),
        valid=rec.valid,
        present=rec.present,
        leads=np.array(STANDARD_LEADS),
        extra=rec.extra.astype(np.float32),
        extra_names=np.array(rec.extra_names, dtype=str).reshape(-1),
        lead_features=np.asarray(rec.measurements["lead_features"], dtype=np.float32),
        lead_feature_names=np.array(LEAD_FEATURES),
        fs_hz=np.float64(rec.fs_hz),
    )
    return SIGNAL_FILE


def load_signal(artifact_dir: Path) -> EcgArtifact:
    """Read ``signal.npz`` from an artifact directory."""
    with np.load(Path(artifact_dir) / SIGNAL_FILE, allow_pickle=False) as z:
        return EcgArtifact(z["signal"], z["valid"], z["present"], z["extra"], [str(s) for s in z["extra_names"]],
                           z["lead_features"], float(z["fs_hz"]))
