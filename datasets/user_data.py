"""Load a user's own dataset (CSV or Parquet) of compositions and measured properties.

The file needs a formula column (default ``formula``) and at least one property column named
``<property>_<unit>``. Recognised properties and units, converted to the table units exactly:

=========  ==========================================  ==================
property   units accepted                               stored as
=========  ==========================================  ==================
Js         T, kG (x 0.1)                                ``Js_T``
K1         MJm3, kJm3 (x 1e-3), Jm3 (x 1e-6)            ``K1_MJm3``
muHA       T                                            ``muHA_T``
HA         kOe (mu0*HA in T = 0.1 x kOe)                ``muHA_T``
Tc         K, C (+ 273.15)                              ``Tc_K``
T          K, C (+ 273.15)                              ``T_K``
=========  ==========================================  ==================

Optional metadata columns: ``family``, ``method``, ``source``, ``locator``, ``read_at``, ``note``.
Any other column is an error (so a typo such as ``Tc_k`` or ``Js_emu`` is caught, not ignored), as is a
formula that does not parse or a value that is not a finite number; each message names the file,
the line and the value. The returned frame keeps every row in file order; the conversions applied
are listed in ``attrs["provenance"]["conversions"]``.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd

from magnetscreen.datasets.composition import parse_composition
from magnetscreen.datasets.errors import CompositionError, DataError
from magnetscreen.datasets.tables import INTRINSIC

__all__ = ["load_user_dataset", "PROPERTY_UNITS", "METADATA_COLUMNS"]

#: property -> unit -> (stored column, scale, offset): stored = scale * value + offset
PROPERTY_UNITS: dict[str, dict[str, tuple[str, float, float]]] = {
    "Js": {"T": ("Js_T", 1.0, 0.0), "kG": ("Js_T", 0.1, 0.0)},
    "K1": {"MJm3": ("K1_MJm3", 1.0, 0.0), "kJm3": ("K1_MJm3", 1e-3, 0.0), "Jm3": ("K1_MJm3", 1e-6, 0.0)},
    "muHA": {"T": ("muHA_T", 1.0, 0.0)},
    "HA": {"kOe": ("muHA_T", 0.1, 0.0)},
    "Tc": {"K": ("Tc_K", 1.0, 0.0), "C": ("Tc_K", 1.0, 273.15)},
    "T": {"K": ("T_K", 1.0, 0.0), "C": ("T_K", 1.0, 273.15)},
}
METADATA_COLUMNS = ("family", "method", "source", "locator", "read_at", "note")


#: Largest user dataset accepted.
MAX_DATASET_BYTES = 256 * 2**20
#: A number as a table may write it: ASCII digits, optional sign, decimals and exponent (no inf, nan, hex).
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _read(path: Path) -> pd.DataFrame:
    """Every cell as read, CSV cells as strings (nothing converted by guesswork); DataError naming the file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataError(f"{path}: unsupported file type {suffix!r} (expected .csv or .parquet)")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{path}: not a regular file")
    if info.st_size == 0:
        raise DataError(f"{path}: empty file (expected a header line and at least one row)")
    if info.st_size > MAX_DATASET_BYTES:
        raise DataError(f"{path}: {info.st_size} bytes, larger than the {MAX_DATASET_BYTES} bytes a dataset may have")
    raw = path.read_bytes()
    if suffix == ".csv":
        if b"\0" in raw:
            line = raw[: raw.index(b"\0")].count(b"\n") + 1
            raise DataError(f"{path}: line {line}: NUL character (U+0000) in the file: not a text CSV, or corrupted")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise DataError(f"{path}: line {line}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if suffix == ".csv":
            return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
        return pd.read_parquet(io.BytesIO(raw))
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file (expected a header line and at least one row)") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot read as {suffix[1:]} ({first})") from None


def _numbers(series: pd.Series, column: str, path: Path) -> np.ndarray:
    """A column's numbers: empty cells NaN; anything but a plain finite number (a boolean, 'inf', 'nan', a
    non-ASCII digit, text) is a DataError naming the line and the value."""
    if pd.api.types.is_bool_dtype(series):
        raise DataError(f"{path}: line 2: column {column!r}: expected numbers, got booleans ({series.iloc[0]!r})")
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isinf(values))
        if bad.size:
            raise DataError(f"{path}: line {int(bad[0]) + 2}: column {column!r}: expected a finite number, got "
                            f"{values[bad[0]]!r}")
        return values
    out = np.full(len(series), np.nan)
    for i, value in enumerate(series.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise DataError(f"{path}: line {i + 2}: column {column!r}: expected a number, got {value!r}")
        text = value.strip(" ") if isinstance(value, str) else repr(value)
        if text == "":
            continue
        if not _NUMBER.fullmatch(text):
            raise DataError(f"{path}: line {i + 2}: column {column!r}: expected a number, got {value!r}")
        out[i] = float(text)
        if not math.isfinite(out[i]):
            raise DataError(f"{path}: line {i + 2}: column {column!r}: expected a finite number, got {value!r}")
    return out


def _classify(column: str, path: Path) -> tuple[str, float, float] | None:
    """(stored column, scale, offset) for a property column; None for metadata; DataError otherwise."""
    if column in METADATA_COLUMNS:
        return None
    prop, sep, unit = column.rpartition("_") if "_" in column else (column, "", "")
    if sep and prop in PROPERTY_UNITS:
        units = PROPERTY_UNITS[prop]
        if unit not in units:
            raise DataError(
                f"{path}: column {column!r}: unit {unit!r} not recognised for {prop} (accepted: "
                f"{', '.join(f'{prop}_{u}' for u in units)})"
            )
        return units[unit]
    known = [f"{p}_{u}" for p, us in PROPERTY_UNITS.items() for u in us]
    raise DataError(
        f"{path}: unknown column {column!r} (property columns: {', '.join(known)}; metadata: "
        f"{', '.join(METADATA_COLUMNS)})"
    )


def load_user_dataset(path: str | Path, formula_column: str = "formula") -> pd.DataFrame:
    """Load and validate a user dataset.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet`` file.
    formula_column : str, default="formula"
        Name of the column holding the chemical formulas.

    Returns
    -------
    pandas.DataFrame
        Columns ``formula``, the stored property columns (``Js_T``, ``K1_MJm3``,
        ``muHA_T``, ``Tc_K``, ``T_K`` as present) and the metadata columns present; provenance in
        ``attrs["provenance"]`` (file, SHA-256, rows, column mapping and conversions).

    Raises
    ------
    DataError
        Missing formula column, no property column, unknown column or unit, two columns mapping to the
        same property, unparsable formula, non-numeric or implausible value; the message names the
        line and the value.
    """
    path = Path(path)
    raw = _read(path)
    if len(raw) == 0:
        raise DataError(f"{path}: no data rows (only a header: {list(map(str, raw.columns))})")
    if formula_column not in raw.columns:
        raise DataError(f"{path}: missing formula column {formula_column!r} (columns: {list(raw.columns)})")
    mapping: dict[str, tuple[str, float, float]] = {}
    metadata: list[str] = []
    for column in raw.columns:
        if column == formula_column:
            continue
        target = _classify(str(column), path)
        if target is None:
            metadata.append(str(column))
            continue
        clash = [c for c, t in mapping.items() if t[0] == target[0]]
        if clash:
            raise DataError(f"{path}: columns {clash[0]!r} and {column!r} both give {target[0]}")
        mapping[str(column)] = target
    if not mapping:
        raise DataError(f"{path}: no property column (expected at least one of Js_T, K1_MJm3, muHA_T, Tc_K, ...)")

    out = pd.DataFrame({"formula": raw[formula_column].astype(object)})
    for i, formula in enumerate(out["formula"], start=2):
        if not isinstance(formula, str):
            raise DataError(f"{path}: line {i}: column {formula_column!r}: expected a formula, got {formula!r}")
        try:
            parse_composition(formula)
        except CompositionError as exc:
            raise DataError(f"{path}: line {i}: column {formula_column!r}: {exc}") from None

    conversions = {}
    for column, (stored_as, scale, offset) in mapping.items():
        stored = pd.Series(_numbers(raw[column], column, path) * scale + offset)
        spec = INTRINSIC.column(stored_as)  # the shipped table's plausible range: one rule for both
        for i, value in enumerate(stored):
            if math.isnan(value):
                continue
            if not math.isfinite(value) or not spec.in_bounds(value):
                given = raw[column].iloc[i]
                given = given.item() if hasattr(given, "item") else given
                raise DataError(
                    f"{path}: line {i + 2}: column {column!r}: {given!r} gives {stored_as} = {value:g}, "
                    f"outside the plausible range {spec.bounds_text()} {spec.unit}"
                )
        out[stored_as] = stored
        if (scale, offset) != (1.0, 0.0):
            conversions[column] = f"{stored_as} = {scale:g} * {column} + {offset:g}"
    props = [t for t, _, _ in mapping.values() if t != "T_K"]
    if props:
        empty = out[props].isna().all(axis=1)
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(f"{path}: line {i + 2}: no property value in {props}")
    for column in metadata:
        out[column] = raw[column]
    out.attrs["provenance"] = {
        "file": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": len(out),
        "columns": {c: t[0] for c, t in mapping.items()},
        "conversions": conversions,
    }
    return out

