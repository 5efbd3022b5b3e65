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
from pydantic import BaseModel, ConfigDict, ValidationError

from clinfusion.errors import ConfigError

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class NoOptions(BaseModel):
    """Settings model of a component without settings (reader options, encoder config): rejects any key."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def validation_error(err: ValidationError, source: str) -> ConfigError:
    """A pydantic error as a :class:`ConfigError` naming the file, the field and the expectation.

    Args:
        err: the pydantic error.
        source: the file (or, when there is none, the config's name) the values came from.
    """
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "<top level>"
    got = "" if first["type"] == "missing" else f" (got {_short(first.get('input'))})"
    extra = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return ConfigError(f"{where}: {first['msg']}{got}{extra}", file=source, field=where)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (``{}`` for an empty file).

    Raises:
        ConfigError: the file is missing or unreadable, is not valid YAML or not a mapping.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError("config file not found; expected a YAML file", file=path) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file cannot be read ({type(err).__name__}); expected a UTF-8 YAML file",
                          file=path) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise ConfigError(f"not valid YAML{where}: {problem}", file=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping of settings at the top level, got {type(data).__name__}", file=path)
    return data


def load_yaml_config(cls: type[ConfigT], source: dict[str, Any] | str | Path | None, default: Path,
                     **overrides: Any) -> ConfigT:
    """Validate ``source`` (a dict, a YAML path, or ``None`` for ``default``) as ``cls``.

    Args:
        overrides: top-level keys replacing those of the source (``None`` values are ignored).

    Raises:
        ConfigError: missing or malformed YAML, unknown key or invalid value, naming the file and field.
    """
    name = "<dict>"
    if source is None or isinstance(source, str | Path):
        name = str(source or default)
        source = read_yaml_mapping(name)
    data = {**source, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, name) from None


def validate_config(cls: type[ConfigT], data: dict[str, Any], source: str) -> ConfigT:
    """``cls.model_validate(data)`` with a pydantic error turned into a readable :class:`ConfigError`.

    Args:
        source: where the values came from (a file, or e.g. ``"--option of reports encoder minilm"``).

    Raises:
        ConfigError: unknown key or invalid value, naming ``source`` and the field.
    """
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, source) from None


def parse_options(pairs: list[str] | None, *, flag: str = "--option") -> dict[str, Any]:
    """Command-line ``KEY=VALUE`` settings as a dict; each VALUE is read as a YAML scalar
    (``8`` -> int, ``true`` -> bool, ``[a, b]`` -> list, anything else a string); ``a.b=1`` nests.

    Raises:
        ConfigError: a pair without ``=`` or with an empty key, naming ``flag``.
    """
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE, got {pair!r}", field=flag)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        *parents, leaf = key.strip().split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{key.strip()!r} sets a key inside {part!r}, which already has a value", field=flag)
        node[leaf] = value
    return out
