"""Where featurization runs: a registry of executors (``executor:`` in the retrain config)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from clinfusion.retrain.config import EXECUTORS, RetrainConfig


class Executor(Protocol):
    def featurize(self, ws_root: str | Path, modalities: list[str], workers: int) -> list[dict[str, Any]]: ...


def _featurize_one(ws_root: str, modality: str, workers: int) -> dict[str, Any]:
    from clinfusion.errors import ClinFusionError
    from clinfusion.featurize import featurize
    from clinfusion.modalities.registry import encoder_class
    from clinfusion.workspace import Workspace

    enc = encoder_class(modality)()
    try:
        return featurize(Workspace.open(ws_root), enc, workers=workers).as_dict()
    except ClinFusionError as err:  # one modality failing must not stop the others
        return {"modality": modality, "encoder": enc.name, "encoded": 0, "cached": 0, "failed": -1,
                "failures": {"*": str(err)}, "seconds": 0.0}


class LocalExecutor:
    """In this process (``featurize_workers`` processes per modality)."""

    def featurize(self, ws_root: str | Path, modalities: list[str], workers: int) -> list[dict[str, Any]]:
        return [_featurize_one(str(ws_root), m, workers) for m in modalities]


_EXECUTORS: dict[str, type] = {"local": LocalExecutor}
assert set(_EXECUTORS) == set(EXECUTORS)


def executor(cfg: RetrainConfig) -> Executor:
    """The configured executor."""
    return _EXECUTORS[cfg.executor]()
