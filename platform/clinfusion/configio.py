"""Typed configs from YAML: one loader and one error format for every pydantic config.

Each package ships a commented default YAML next to its config class; :func:`load_yaml_config`
reads a dict, a YAML path or that default, applies top-level overrides and validates, and
:func:`validation_error` turns a pydantic error into a :class:`~clinfusion.errors.ConfigError`
that names the file, the field and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from clinfusion.errors import ConfigError

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def validation_error(err: ValidationError, source: str) -> ConfigError:
    """A pydantic error as a :class:`ConfigError` naming the file, the field and the expectation."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    extra = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return ConfigError(f"{where}: {first['msg']}{extra}", file=source, field=where)


def load_yaml_config(cls: type[ConfigT], source: dict[str, Any] | str | Path | None, default: Path,
                     **overrides: Any) -> ConfigT:
    """Validate ``source`` (a dict, a YAML path, or ``None`` for ``default``) as ``cls``.

    Args:
        overrides: top-level keys replacing those of the source (``None`` values are ignored).

    Raises:
        ConfigError: unknown key or invalid value, naming the file and field.
    """
    name = "<dict>"
    if source is None or isinstance(source, str | Path):
        name = str(source or default)
        source = yaml.safe_load(Path(name).read_text()) or {}
    data = {**source, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, name) from None
