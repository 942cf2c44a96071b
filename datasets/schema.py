"""Small helpers to validate TOML tables into typed objects with errors that name the key path.

Every error says where (file and key path), what was found and what was expected, e.g.
``family.toml: sites[1].bounds.Co: expected [low, high] with 0 <= low <= high <= 1, got [0.5, 0.2]``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from magnetscreen.datasets.errors import MagnetscreenError

__all__ = ["Table", "load_toml"]


def load_toml(path: str | Path, error: type[MagnetscreenError]) -> dict[str, Any]:
    """Read a TOML file in binary mode; raise ``error`` naming the file if it is missing or invalid."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: cannot parse TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc})") from None


class Table:
    """A TOML table being validated: typed getters that record which keys were read.

    Call :meth:`finish` after reading every key you accept: any other key is reported as unknown,
    so a typo such as ``stepp = 0.1`` is an error instead of being ignored.
    """

    def __init__(self, data: Any, where: str, error: type[MagnetscreenError]):
        if not isinstance(data, Mapping):
            raise error(f"{where}: expected a table, got {type(data).__name__} {data!r}")
        self.data = data
        self.where = where
        self.error = error
        self.seen: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where and not self.where.endswith(":") else f"{self.where} {key}"

    def fail(self, key: str, message: str) -> MagnetscreenError:
        return self.error(f"{self.path(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ..., *, required: bool = False) -> Any:
        self.seen.add(key)
        if key in self.data:
            return self.data[key]
        if required or default is ...:
            raise self.error(f"{self.path(key)}: missing required key")
        return default

    def string(self, key: str, default: Any = ..., choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type(value).__name__} {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    def number(self, key: str, default: Any = ..., *, low: float | None = None, high: float | None = None,
               low_open: bool = False) -> float:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        return check_number(value, self.path(key), self.error, low=low, high=high, low_open=low_open)

    def integer(self, key: str, default: Any = ..., *, low: int | None = None, high: int | None = None) -> int:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {type(value).__name__} {value!r}")
        if low is not None and value < low:
            raise self.fail(key, f"expected an integer >= {low}, got {value}")
        if high is not None and value > high:
            raise self.fail(key, f"expected an integer <= {high}, got {value}")
        return value

    def boolean(self, key: str, default: Any = ...) -> bool:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def array(self, key: str, default: Any = ...) -> list:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        if not isinstance(value, list):
            raise self.fail(key, f"expected an array, got {type(value).__name__} {value!r}")
        return value

    def table(self, key: str, default: Any = ...) -> "Table | Any":
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        return Table(value, self.path(key), self.error)

    def finish(self) -> None:
        unknown = [k for k in self.data if k not in self.seen]
        if unknown:
            allowed = ", ".join(sorted(self.seen))
            raise self.error(f"{self.path(unknown[0])}: unknown key {unknown[0]!r} (allowed here: {allowed})")


def check_number(value: Any, where: str, error: type[MagnetscreenError], *, low: float | None = None,
                 high: float | None = None, low_open: bool = False) -> float:
    """Validate one real number; ``low_open`` makes the lower bound strict."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(f"{where}: expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise error(f"{where}: expected a finite number, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise error(f"{where}: expected a number {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and value > high:
        raise error(f"{where}: expected a number <= {high:g}, got {value:g}")
    return value
