"""Where featurization and cross-validation folds run: a registry of executors (``executor:`` in the
retrain config, ``clinfusion train --executor``), shared by ``training``, ``retrain`` and ``cli``.

An executor maps a module-level function over jobs: ``fn(shared, job)`` for each job, results in job
order. :class:`LocalExecutor` calls it in this process; :class:`RayExecutor` runs one Ray task per
job, with ``shared`` stored once in the Ray object store. Both call the same function on the same
inputs, so they give the same results; workers never log to MLflow (the driver does).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

EXECUTORS: tuple[str, ...] = ("local", "ray")
"""Names of the executors (the ``executor:`` choices of the retrain config and ``--executor``)."""


class Executor(Protocol):
    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence[Any], shared: Any = None,
            num_cpus: int = 1) -> list[Any]: ...

    def featurize(self, ws_root: str | Path, modalities: list[str] | list[tuple[str, str]],
                  workers: int) -> list[dict[str, Any]]: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class ExecutorSettings(Protocol):
    """What :func:`executor` reads from a config (e.g. :class:`~clinfusion.retrain.config.RetrainConfig`)."""

    @property
    def executor(self) -> str: ...

    @property
    def ray_address(self) -> str | None: ...

    @property
    def ray_num_cpus(self) -> int: ...


def _featurize_one(workers: int, job: tuple[str, ...]) -> dict[str, Any]:
    from clinfusion.errors import ClinFusionError
    from clinfusion.featurize import featurize
    from clinfusion.modalities.registry import encoder_class
    from clinfusion.workspace import Workspace

    ws_root, modality, *name = job  # (ws_root, modality[, encoder]); no encoder: the modality's default
    enc = encoder_class(modality, name[0] if name else None)()
    try:
        return featurize(Workspace.open(ws_root), enc, workers=workers).as_dict()
    except ClinFusionError as err:  # one modality failing must not stop the others
        return {"modality": modality, "encoder": enc.name, "encoded": 0, "cached": 0, "failed": -1,
                "failures": {"*": str(err)}, "seconds": 0.0}


class _Base(ABC):
    """Featurization on top of each executor's :meth:`map`."""

    @abstractmethod
    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence[Any], shared: Any = None,
            num_cpus: int = 1) -> list[Any]:
        """``[fn(shared, job) for job in jobs]``, run where the executor runs things."""

    def featurize(self, ws_root: str | Path, modalities: list[str] | list[tuple[str, str]],
                  workers: int) -> list[dict[str, Any]]:
        """One featurize run per modality, or per ``(modality, encoder)`` (``workers`` processes each);
        one summary row per run."""
        root = str(Path(ws_root).resolve())
        jobs = [(root, *m) if isinstance(m, tuple) else (root, m) for m in modalities]
        return self.map(_featurize_one, jobs, shared=workers)


class LocalExecutor(_Base):
    """In this process, one job after the other."""

    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence[Any], shared: Any = None,
            num_cpus: int = 1) -> list[Any]:
        return [fn(shared, job) for job in jobs]

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class RayExecutor(_Base):
    """One Ray task per job; Ray is imported here only.

    Ray is started by :meth:`map` when not yet running and shut down after it; inside
    ``with RayExecutor(...):`` (or when the caller already ran ``ray.init``) one Ray instance serves
    every call, and only an instance this executor started is shut down.

    Args:
        address: None starts a local Ray with ``num_cpus``; ``"auto"`` / ``"HEAD:6379"`` joins a
            cluster (every node must see the workspace path and have clinfusion installed).
        num_cpus: CPUs of a local Ray instance (ignored when joining a cluster).
    """

    def __init__(self, address: str | None = None, num_cpus: int = 2) -> None:
        self.address, self.num_cpus = address, num_cpus
        self._owned = False

    def _start(self) -> bool:
        """``ray.init`` unless Ray is already running; True when this call started it.

        Raises:
            ClinFusionError: Ray did not start or could not join the cluster.
        """
        import ray

        from clinfusion.errors import ClinFusionError

        if ray.is_initialized():
            return False
        kwargs = {"address": self.address} if self.address else {"num_cpus": self.num_cpus}
        try:
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        except Exception as err:  # a half-started local node leaves processes behind
            ray.shutdown()
            where = f"join the Ray cluster at {self.address}" if self.address else "start a local Ray"
            hint = "" if self.address else " (on a busy machine, start one with `ray start --head` and pass --ray-address auto)"
            raise ClinFusionError(f"could not {where}: {err}{hint}", field="ray_address") from err
        return True

    def __enter__(self) -> RayExecutor:
        self._owned = self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owned:
            import ray

            ray.shutdown()
            self._owned = False

    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence[Any], shared: Any = None,
            num_cpus: int = 1) -> list[Any]:
        """``[fn(shared, job) for job in jobs]`` as Ray tasks of ``num_cpus`` CPUs each.

        ``shared`` is put in the object store once (each task receives the value, not a copy per
        submission). Ray sets ``OMP_NUM_THREADS`` of a task to its ``num_cpus``.
        """
        import ray

        started = self._start()
        try:
            remote = ray.remote(num_cpus=num_cpus, max_retries=0)(fn)
            ref = ray.put(shared)
            return ray.get([remote.remote(ref, job) for job in jobs])
        finally:
            if started:
                ray.shutdown()


_EXECUTORS: dict[str, type] = {"local": LocalExecutor, "ray": RayExecutor}
assert set(_EXECUTORS) == set(EXECUTORS)


def make_executor(name: str, address: str | None = None, num_cpus: int = 2) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`).

    Raises:
        ConfigError: unknown name, or a Ray address for the local executor.
    """
    from clinfusion.errors import ConfigError

    if name not in _EXECUTORS:
        raise ConfigError(f"executor must be one of {list(EXECUTORS)}, not {name!r}", field="executor")
    if name == "ray":
        return RayExecutor(address, num_cpus)
    if address:
        raise ConfigError("a Ray address needs the ray executor", field="ray_address")
    return LocalExecutor()


def executor(cfg: ExecutorSettings) -> Executor:
    """The executor a config names (its ``executor``, ``ray_address`` and ``ray_num_cpus``)."""
    return make_executor(cfg.executor, cfg.ray_address if cfg.executor == "ray" else None, cfg.ray_num_cpus)
