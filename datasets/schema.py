"""Small helpers to validate TOML tables into typed objects with errors that name the key path.

Every error says where (file and key path), what was found and what was expected, e.g.
``family.toml: sites[1].bounds.Co: expected [low, high] with 0 <= low <= high <= 1, got [0.5, 0.2]``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from magnetscreen.datasets.errors import MagnetscreenError

__all__ = ["Table", "load_toml", "check_number", "parse_date", "Column", "TableSpec", "COLUMN_KINDS",
           "validate_rows", "cast_columns", "read_table", "MAX_TOML_BYTES"]


#: Largest TOML file accepted (configs, families, scenarios are a few kB; a larger file is not one of them).
MAX_TOML_BYTES = 1 << 20


def load_toml(path: str | Path, error: type[MagnetscreenError]) -> dict[str, Any]:
    """Read a TOML file; raise ``error`` naming the file if it is missing, not a regular file, larger than
    :data:`MAX_TOML_BYTES`, not UTF-8, not valid TOML or nested too deeply to parse."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a directory, expected a TOML file")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file (a device, pipe or socket), expected a TOML file")
    if info.st_size > MAX_TOML_BYTES:
        raise error(f"{path}: {info.st_size} bytes, larger than the {MAX_TOML_BYTES} bytes a TOML input may have")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_TOML_BYTES + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > MAX_TOML_BYTES:
        raise error(f"{path}: larger than the {MAX_TOML_BYTES} bytes a TOML input may have")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: cannot parse TOML ({exc})") from None
    except RecursionError:
        raise error(f"{path}: tables or arrays nested too deeply to parse") from None


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

    def table(self, key: str, default: Any = ...) -> Table | Any:
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


# ------------------------------------------------------------------------------------------- dates

def parse_date(value: Any, where: str, error: type[MagnetscreenError]) -> dt.date:
    """The one date parser: a ``datetime.date`` (a datetime is refused) or an ISO string ``YYYY-MM-DD``.

    Raises ``error`` naming ``where`` and the value otherwise. Every date a user or a table gives (``as_of``,
    scenario dates, export-control events) goes through here.
    """
    if isinstance(value, dt.datetime):
        raise error(f"{where}: expected a date such as 2025-05-01, got the date and time {value.isoformat()!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise error(f"{where}: expected a date such as 2025-05-01, got {value!r}")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# ------------------------------------------------------------------------------------------- tables

COLUMN_KINDS = ("str", "float", "int", "bool", "date", "element", "elements", "url", "formula")


@dataclass(frozen=True)
class Column:
    """One column of a shipped table.

    ``kind`` is one of :data:`COLUMN_KINDS`: ``element`` is one element symbol, ``elements`` a
    space-separated list of them, ``url`` an http(s) address, ``formula`` a composition that
    :func:`~magnetscreen.datasets.composition.parse_composition` accepts. Numbers must lie in
    [``low``, ``high``], each end open when ``low_open`` / ``high_open`` is set.
    """

    name: str
    kind: str
    unit: str = ""
    required: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None
    description: str = ""

    def bounds_text(self) -> str:
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"{left}{low}, {high}{right}"

    def in_bounds(self, number: float) -> bool:
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        if self.high is not None and (number >= self.high if self.high_open else number > self.high):
            return False
        return True


@dataclass(frozen=True)
class TableSpec:
    """A shipped table: its file, columns and which columns hold properties (at least one per row)."""

    name: str
    filename: str
    description: str
    columns: tuple[Column, ...]
    property_columns: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


_BOOLS = {"true": True, "false": False, "True": True, "False": False}


def _check_cell(value: str, column: Column, where: str, symbols: Mapping[str, int]) -> None:
    from magnetscreen.datasets.errors import CompositionError, DataError

    name = column.name
    if column.kind in ("float", "int"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DataError(f"{where}: column {name!r}: expected a number, got {value!r}") from None
        if not math.isfinite(number) or (column.kind == "int" and number != int(number)):
            raise DataError(f"{where}: column {name!r}: expected a finite "
                            f"{'integer' if column.kind == 'int' else 'number'}, got {value!r}")
        if not column.in_bounds(number):
            raise DataError(f"{where}: column {name!r}: {value!r} outside the plausible range "
                            f"{column.bounds_text()} {column.unit}".rstrip())
    elif column.kind == "bool":
        if value not in _BOOLS:
            raise DataError(f"{where}: column {name!r}: expected true or false, got {value!r}")
    elif column.kind == "date":
        parse_date(value, f"{where}: column {name!r}", DataError)
    elif column.kind == "element":
        if value not in symbols:
            raise DataError(f"{where}: column {name!r}: unknown element {value!r}")
    elif column.kind == "elements":
        for symbol in value.split():
            if symbol not in symbols:
                raise DataError(f"{where}: column {name!r}: unknown element {symbol!r}")
    elif column.kind == "url":
        if not value.startswith(("http://", "https://")):
            raise DataError(f"{where}: column {name!r}: expected a URL, got {value!r}")
    elif column.kind == "formula":
        from magnetscreen.datasets.composition import parse_composition

        try:
            parse_composition(value)
        except CompositionError as exc:
            raise DataError(f"{where}: column {name!r}: {exc}") from None
    if column.choices is not None and value not in column.choices:
        raise DataError(f"{where}: column {name!r}: expected one of {column.choices}, got {value!r}")


def validate_rows(frame: pd.DataFrame, spec: TableSpec, label: str, *, check_formulas: bool = True) -> None:
    """The one row validator of every shipped table: raise DataError naming the file line, column and value.

    ``frame`` holds the cells as read (strings, empty cells as NaN: see :func:`read_table`). Checks: the
    exact columns of ``spec`` in order; required cells present; every cell of its kind (numbers finite and
    within their bounds, booleans, ISO dates, element symbols, URLs, parseable formulas, choices); at
    least one property per row when the table has property columns. ``check_formulas=False`` skips parsing
    the ``formula`` cells (the costly check: the shipped tables are parsed in full by the test suite, not at
    every load).
    """
    from magnetscreen.datasets.elements import symbol_to_z
    from magnetscreen.datasets.errors import DataError

    expected = [c.name for c in spec.columns]
    if list(frame.columns) != expected:
        missing = [c for c in expected if c not in frame.columns]
        extra = [c for c in frame.columns if c not in expected]
        raise DataError(f"{label}: columns differ from the schema (missing {missing}, unexpected {extra})")
    symbols = symbol_to_z()
    # vectorized screening: the rows that may fail a check, then the exact per-cell checks on those rows only
    # (in line order), so that a large table is validated in milliseconds and the first error is the one a
    # row-by-row pass would report
    suspect = np.zeros(len(frame), dtype=bool)
    present_any = np.zeros(len(frame), dtype=bool)
    for column in spec.columns:
        series = frame[column.name]
        text = series.astype(object).where(series.notna(), "").astype(str)
        missing = text.str.strip().eq("").to_numpy()
        if column.required:
            suspect |= missing
        if column.name in spec.property_columns:
            present_any |= ~missing
        if column.kind in ("float", "int"):
            numbers = pd.to_numeric(text.where(~missing, "0"), errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(numbers)
            if column.kind == "int":
                ok &= np.floor(np.where(ok, numbers, 0.0)) == np.where(ok, numbers, 0.0)
            bounded = np.array([column.in_bounds(v) for v in np.unique(numbers[ok & ~missing])])
            inside = np.ones(len(numbers), dtype=bool)
            if bounded.size:
                values = numbers[ok & ~missing]
                lookup = dict(zip(np.unique(values).tolist(), bounded.tolist()))
                inside[np.flatnonzero(ok & ~missing)] = [lookup[v] for v in values.tolist()]
            suspect |= ~missing & ~(ok & inside)
        elif column.kind == "bool":
            suspect |= ~missing & ~text.isin(list(_BOOLS)).to_numpy()
        elif column.kind == "element":
            suspect |= ~missing & ~text.isin(list(symbols)).to_numpy()
        elif column.kind == "url":
            suspect |= ~missing & ~text.str.startswith(("http://", "https://")).to_numpy()
        elif column.kind in ("date", "elements") or (column.kind == "formula" and check_formulas):
            suspect |= ~missing
        if column.choices is not None:
            suspect |= ~missing & ~text.isin(list(column.choices)).to_numpy()
    if spec.property_columns:
        suspect |= ~present_any
    for index in np.flatnonzero(suspect).tolist():
        row = frame.iloc[index].tolist()
        where = f"{label}: line {index + 2}"
        for column, value in zip(spec.columns, row):
            if _missing(value):
                if column.required:
                    raise DataError(f"{where}: column {column.name!r} is empty")
                continue
            if column.kind == "formula" and not check_formulas:
                continue
            _check_cell(str(value), column, where, symbols)
        if spec.property_columns:
            record = dict(zip(expected, row))
            if all(_missing(record[c]) for c in spec.property_columns):
                raise DataError(f"{where}: no property value (one of {list(spec.property_columns)} is needed)")


def cast_columns(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Convert validated string cells to their kinds: float64, int64 (nullable Int64 when a cell is empty),
    bool (empty = False), str (empty = "")."""
    out = frame.copy()
    for column in spec.columns:
        series = out[column.name]
        if column.kind == "float":
            out[column.name] = pd.to_numeric(series, errors="raise").astype("float64")
        elif column.kind == "int":
            numbers = pd.to_numeric(series, errors="raise")
            out[column.name] = numbers.astype("Int64" if numbers.isna().any() else "int64")  # nullable if gaps
        elif column.kind == "bool":
            out[column.name] = series.map(lambda v: _BOOLS.get(v, False) if isinstance(v, str) else False).astype(bool)
        else:
            out[column.name] = series.fillna("").astype(str)
    return out


def read_table(path: str | Path, spec: TableSpec, label: str, *, check_formulas: bool = True
               ) -> tuple[pd.DataFrame, str]:
    """Read a shipped CSV (``.csv`` or ``.csv.gz``) as strings, validate it against ``spec`` and cast it.

    Returns the frame and the SHA-256 of the file's bytes.
    """
    from magnetscreen.datasets.provenance import bytes_sha256

    raw = Path(path).read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8",
                        compression="gzip" if str(path).endswith(".gz") else None)
    validate_rows(frame, spec, label, check_formulas=check_formulas)
    return cast_columns(frame, spec), bytes_sha256(raw)
