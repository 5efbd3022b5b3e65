"""Typed encoder options: the one way to name and configure an encoder.

Every encoder declares its settings as a frozen pydantic model (``Encoder.Config``), a subclass
of :class:`EncoderOptions`. The command line (``--option KEY=VALUE``) and featurize config files
(``encoder:`` + ``options:`` per modality) are validated against it by :func:`validate_options`:
an unknown option fails listing the valid ones, a bad value names the option.

Encoders that load weights subclass :class:`WeightsOptions` (``model_dir``, ``random_init``,
``seed``, ``device``, ``batch_size``) and set ``needs_weights = True`` on the encoder class; see
:meth:`clinfusion.featurize.base.Encoder.check_weights`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from clinfusion.configio import validate_config
from clinfusion.errors import ConfigError

OptionsT = TypeVar("OptionsT", bound=BaseModel)

# Options that change how fast tokens are computed, not what they are: left out of the cache key.
RUNTIME_OPTIONS = frozenset({"batch_size", "device", "threads", "num_workers", "workers"})


class EncoderOptions(BaseModel):
    """Base of every encoder's options: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class WeightsOptions(EncoderOptions):
    """Options shared by encoders that run a network with weights from local files.

    Attributes:
        model_dir: local weights, a directory (e.g. a Hugging Face hub snapshot) or one file.
        random_init: run with randomly initialised weights (smoke tests, baselines); recorded
            in the cache key. The only way to run such an encoder without ``model_dir``.
        seed: initialisation seed when ``random_init``.
        device: ``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``.
        batch_size: inputs per forward pass; memory is bounded by it, not by the input size.
    """

    model_dir: str = Field("", description="local weights: a checkpoint directory or file")
    random_init: bool = Field(False, description="use random weights instead of model_dir (explicit opt-in)")
    seed: int = Field(0, description="initialisation seed when random_init")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = cuda when available")
    batch_size: int = Field(32, ge=1, description="inputs per forward pass")


def valid_options(cls: type[BaseModel]) -> list[str]:
    """Names of the options a settings model accepts, sorted."""
    return sorted(cls.model_fields)


def validate_options(cls: type[OptionsT], data: dict[str, Any], source: str) -> OptionsT:
    """Validate encoder options, naming the option at fault.

    Args:
        cls: the encoder's ``Config``.
        data: option name -> value (values already parsed: YAML scalars, JSON objects).
        source: where the values came from, e.g. ``"pathology encoder 'timm' (--option KEY=VALUE)"``.

    Raises:
        ConfigError: an unknown option (the message lists the valid ones) or an invalid value
            (the message names the option and what was expected).
    """
    unknown = sorted(set(data) - set(cls.model_fields))
    if unknown:
        names = ", ".join(valid_options(cls)) or "(none: this encoder has no options)"
        raise ConfigError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                          f"valid options: {names}", file=source, field=unknown[0])
    return validate_config(cls, data, source)


def resolve_device(device: str) -> str:
    """``"cpu"`` or ``"cuda"`` for a ``device`` option.

    Raises:
        ConfigError: ``cuda`` was asked for and torch sees no CUDA device.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' asked for but torch sees no CUDA device (use device=auto or cpu)",
                          field="device")
    return device


def _type_name(annotation: Any) -> str:
    """``int``, ``auto|cpu|cuda``, ``float | None``... for an option's annotation."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return "|".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not args:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def docstring_attributes(cls: type) -> dict[str, str]:
    """``{name: text}`` from the ``Attributes:`` section of a class docstring (Google style;
    ``a, b: text`` documents both)."""
    doc = (cls.__doc__ or "").expandtabs()
    out: dict[str, str] = {}
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Attributes:")
    except StopIteration:
        return out
    base = len(lines[start]) - len(lines[start].lstrip())
    current: list[str] = []
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= base:
            break
        head, sep, text = line.strip().partition(": ")
        if sep and indent <= base + 4 and all(n.strip().isidentifier() for n in head.split(",")):
            current = [n.strip() for n in head.split(",")]
            for n in current:
                out[n] = text.strip()
        elif current:
            for n in current:
                out[n] += " " + line.strip()
    return out


def describe_options(cls: type[BaseModel]) -> list[dict[str, str]]:
    """One row per option of a settings model: ``{"option", "type", "default", "description"}``.

    A default computed at validation time (e.g. from an environment variable) is shown as it
    resolves now.
    """
    documented = docstring_attributes(cls)
    rows = []
    for name, info in sorted(cls.model_fields.items()):
        if info.default_factory is not None:
            default: Any = info.default_factory()  # type: ignore[call-arg]  # pydantic: zero-arg factories here
        elif info.is_required():
            default = "(required)"
        else:
            default = info.default
        rows.append({"option": name, "type": _type_name(info.annotation), "default": json_text(default),
                     "description": info.description or documented.get(name, "")})
    return rows


def json_text(value: Any) -> str:
    """An option value as a user would type it after ``KEY=`` (JSON for lists/dicts)."""
    import json

    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, default=str)
