"""Typed JSON records: dataclasses written to and read from JSON with every field checked.

:func:`to_json` turns a dataclass (nested dataclasses, lists, dicts, dates, numpy scalars) into JSON-ready
values; :func:`from_json` builds the dataclass back from parsed JSON, checking each field against its type
annotation and naming the key path of the first mismatch. The run manifest
(:mod:`magnetscreen.screening.engine.contract`) is built from these, so that one set of class definitions
is both the writer's and the reader's contract.

Supported annotations: ``str``, ``int``, ``float`` (ints accepted), ``bool``, ``None`` unions
(``X | None``), ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]``, ``Literal[...]``, ``Any`` (any JSON
value) and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import numpy as np

from magnetscreen.datasets.errors import MagnetscreenError

__all__ = ["RecordError", "to_json", "from_json"]

T = TypeVar("T")


class RecordError(MagnetscreenError):
    """A JSON record that does not match its typed definition (the message names the key path)."""


def to_json(value: Any) -> Any:
    """JSON-ready form of a dataclass or plain value (non-finite floats become None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, np.generic):
        return to_json(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def _child(where: str, key: str) -> str:
    """Key path of a member: ``file.json: a.b`` (a ``where`` ending in ':' starts the path)."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _fail(where: str, expected: str, value: Any) -> RecordError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return RecordError(f"{where.rstrip(':')}: expected {expected}, got {text}")


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where)
            except RecordError as exc:
                errors.append(str(exc))
        raise RecordError(errors[0] if errors else f"{where.rstrip(':')}: unexpected value {value!r}")
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            raise _fail(where, f"one of {', '.join(map(repr, choices))}", value)
        return value
    if origin is list:
        if not isinstance(value, list):
            raise _fail(where, "a list", value)
        (item,) = get_args(hint) or (Any,)
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, list):
            raise _fail(where, "a list", value)
        args = get_args(hint)
        item = args[0] if args else Any
        return tuple(_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(where, "an object", value)
        _, item = get_args(hint) or (str, Any)
        return {str(k): _convert(v, item, _child(where, str(k))) for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_json(hint, value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise _fail(where, "true or false", value)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(where, "an integer", value)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(where, "a finite number", value)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise _fail(where, "a string", value)
        return value
    raise TypeError(f"{where}: unsupported annotation {hint!r}")  # a bug in a record definition


def from_json(cls: type[T], data: Any, where: str = "record") -> T:
    """Build dataclass ``cls`` from parsed JSON, checking every field; RecordError names the key path.

    Unknown keys are errors; a field with a default may be missing.
    """
    if not isinstance(data, dict):
        raise _fail(where, f"an object ({cls.__name__})", data)
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise RecordError(f"{where.rstrip(':')}: unknown key {unknown[0]!r} (expected: {', '.join(sorted(known))})")
    values = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise RecordError(f"{where.rstrip(':')}: missing key {f.name!r}")
            continue
        values[f.name] = _convert(data[f.name], hints[f.name], _child(where, f.name))
    return cls(**values)
