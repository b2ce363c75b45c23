"""The config machinery every domain shares: range checks, dict and JSON round trips.

A config is a frozen dataclass whose ``__post_init__`` checks its ranges with :func:`check`,
which raises :class:`~voice2face.errors.ConfigError` with one sentence naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from voice2face.errors import ConfigError

C = TypeVar("C")


def check(condition: bool, message: str) -> None:
    """Raise ConfigError(``message``) unless ``condition``: a config's range check, one sentence per field."""
    if not condition:
        raise ConfigError(message)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (nested configs become nested dicts)."""
    return dataclasses.asdict(config)


def from_dict(cls: type[C], data: dict[str, Any], *, where: str = "config") -> C:
    """Rebuild config class ``cls`` from ``data``; unknown keys are an error, missing ones default."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a JSON object, got {type(data).__name__}.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{where} has unknown field(s) {', '.join(unknown)} for {cls.__name__}; "
            f"known fields are {', '.join(sorted(names))}."
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        nested = _dataclass_in(hint)
        if nested is not None and isinstance(value, dict):
            value = from_dict(nested, value, where=f"{where}.{name}")
        elif isinstance(value, list):
            item_cls = _tuple_item_dataclass(hint)
            if item_cls is not None:
                value = [from_dict(item_cls, v, where=f"{where}.{name}[{i}]") for i, v in enumerate(value)]
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a wrong type that the dataclass itself rejects
        raise ConfigError(f"{where} cannot build {cls.__name__}: {exc}.") from None


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint  # type: ignore[return-value]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg):
                return arg
    return None


def _tuple_item_dataclass(hint: Any) -> type | None:
    """X for a ``tuple[X, ...]`` hint whose X is a config dataclass, else None."""
    args = typing.get_args(hint) if typing.get_origin(hint) is tuple else ()
    return args[0] if args and dataclasses.is_dataclass(args[0]) else None


def save_json(config: Any, path: str | Path) -> None:
    """Write a config as indented JSON (atomically: temp file, fsync, rename)."""
    from voice2face.utils.files import atomic_write_text

    atomic_write_text(Path(path), json.dumps(to_dict(config), indent=2, sort_keys=True) + "\n")


def load_json(cls: type[C], path: str | Path) -> C:
    """Read config class ``cls`` from a JSON file, naming the file in any error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Config file {path} is not valid JSON ({exc}); fix or recreate it.") from None
    return from_dict(cls, data, where=str(path))
