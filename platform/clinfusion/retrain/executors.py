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


class RayExecutor:
    """One Ray task per modality, each running the same featurize runner as :class:`LocalExecutor`
    (so the same tokens and cache index); Ray is imported here only.

    Args:
        address: None starts a local Ray with ``num_cpus``; ``"auto"`` / ``ray://head:10001`` joins a
            cluster (every node must see the workspace path and have clinfusion installed).
    """

    def __init__(self, address: str | None = None, num_cpus: int = 2) -> None:
        self.address, self.num_cpus = address, num_cpus

    def featurize(self, ws_root: str | Path, modalities: list[str], workers: int) -> list[dict[str, Any]]:
        import ray

        started = not ray.is_initialized()
        if started:
            kwargs = {"address": self.address} if self.address else {"num_cpus": self.num_cpus}
            try:
                ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
            except Exception:  # a half-started local node leaves processes behind
                ray.shutdown()
                raise
        try:
            remote = ray.remote(num_cpus=1)(_featurize_one)
            root = str(Path(ws_root).resolve())
            return ray.get([remote.remote(root, m, workers) for m in modalities])
        finally:
            if started:
                ray.shutdown()


_EXECUTORS: dict[str, type] = {"local": LocalExecutor, "ray": RayExecutor}
assert set(_EXECUTORS) == set(EXECUTORS)


def executor(cfg: RetrainConfig) -> Executor:
    """The configured executor."""
    if cfg.executor == "ray":
        return RayExecutor(cfg.ray_address, cfg.ray_num_cpus)
    return _EXECUTORS[cfg.executor]()
