"""Import timm (and open_clip) where no usable torchvision is installed.

timm imports torchvision at import time for its data pipelines, dataset wrappers and a frozen
batch-norm helper. The tile encoder uses none of them (it preprocesses tiles itself, in torch).
The build machines run a CPU torch 2.13.0 for which no CPU torchvision wheel is published, and
PyPI's torchvision wheel links CUDA torch and fails to import beside it ("operator
torchvision::nms does not exist"). So when ``import timm`` fails *because of torchvision*,
:func:`import_timm` imports it again with placeholder ``torchvision`` modules that exist only
during that import: each name timm takes from them is a placeholder class whose use raises
``ModuleNotFoundError`` naming torchvision. When a working torchvision is installed it is used
and nothing is replaced. The placeholders leave ``sys.modules`` right after the import, so code
importing torchvision later sees the real situation.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

from clinfusion.errors import ConfigError


class _MissingMeta(type):
    def __getattr__(cls, attr: str) -> Any:  # e.g. InterpolationMode.BICUBIC at timm's import
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _placeholder(f"{cls.__qualname__}.{attr}")


class _Missing(metaclass=_MissingMeta):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ModuleNotFoundError(f"{type(self).__qualname__} needs torchvision, which is not importable here "
                                  "(clinfusion's tile encoder does not use it)", name="torchvision")


_PLACEHOLDERS: dict[str, type] = {}


def _placeholder(qualname: str) -> type:
    if qualname not in _PLACEHOLDERS:
        _PLACEHOLDERS[qualname] = _MissingMeta(qualname.rsplit(".", 1)[-1], (_Missing,), {"__qualname__": qualname})
    return _PLACEHOLDERS[qualname]


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _placeholder(f"{self.__name__}.{attr}")


class _PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``root`` and its submodules as placeholder packages."""

    def __init__(self, root: str) -> None:
        self.root = root

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == self.root or fullname.startswith(self.root + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _PlaceholderModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _purge(root: str) -> None:
    for name in [n for n in sys.modules if n == root or n.startswith(root + ".")]:
        del sys.modules[name]


def _torchvision_failure(err: BaseException) -> bool:
    if isinstance(err, ModuleNotFoundError):
        return (err.name or "").split(".")[0] == "torchvision"
    return "torchvision" in f"{err}" or any("torchvision" in str(getattr(f, "filename", ""))
                                             for f in _frames(err))


def _frames(err: BaseException) -> list[Any]:
    import traceback

    return list(traceback.extract_tb(err.__traceback__))


def _import_guarded(name: str, extra: str) -> Any:
    """``import name``, with placeholder torchvision modules when torchvision is what fails."""
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__spec__", None) is not None and hasattr(loaded, "__version__"):
        return loaded
    try:
        return importlib.import_module(name)
    except Exception as err:  # torchvision's own import raises RuntimeError when its C ops do not fit torch
        if isinstance(err, ModuleNotFoundError) and (err.name or "").split(".")[0] == name:
            raise ConfigError(f"the {name} package is not installed (pyproject extra [{extra}]: run make venv)",
                              field="encoder") from None
        if not _torchvision_failure(err):
            raise
    _purge("torchvision")
    _purge(name)
    finder = _PlaceholderFinder("torchvision")
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module(name)
    finally:
        sys.meta_path.remove(finder)
        _purge("torchvision")


def import_timm() -> Any:
    """The ``timm`` module (see the module docstring for what happens without torchvision).

    Raises:
        ConfigError: timm is not installed.
    """
    return _import_guarded("timm", "timm")


def import_open_clip() -> Any:
    """The ``open_clip`` module (open-clip-torch), imported like :func:`import_timm`.

    Raises:
        ConfigError: open-clip-torch is not installed.
    """
    import_timm()  # open_clip imports timm: let it find the complete module
    return _import_guarded("open_clip", "timm")
