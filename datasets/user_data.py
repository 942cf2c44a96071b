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
import math
from pathlib import Path

import numpy as np
import pandas as pd

from magnetscreen.datasets.composition import parse_composition
from magnetscreen.datasets.errors import CompositionError, DataError

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
_PLAUSIBLE = {"Js_T": (0.0, 2.6), "K1_MJm3": (-30.0, 30.0), "muHA_T": (0.0, 150.0), "Tc_K": (0.0, 1500.0),
              "T_K": (0.0, 1500.0)}


def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        if suffix == ".csv":
            return pd.read_csv(path, keep_default_na=False, na_values=[""])
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as {suffix[1:]} ({exc})") from None
    raise DataError(f"{path}: unsupported file type {suffix!r} (expected .csv or .parquet)")


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
    for column, (target, scale, offset) in mapping.items():
        values = pd.to_numeric(raw[column], errors="coerce")
        bad = raw[column].notna() & values.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}: line {i + 2}: column {column!r}: expected a number, got {raw[column].iloc[i]!r}")
        stored = values.astype("float64") * scale + offset
        low, high = _PLAUSIBLE[target]
        for i, value in enumerate(stored):
            if math.isnan(value):
                continue
            too_low = value <= low if target not in ("K1_MJm3", "T_K") else value < low
            if not math.isfinite(value) or too_low or value >= high:
                given = raw[column].iloc[i]
                given = given.item() if hasattr(given, "item") else given
                raise DataError(
                    f"{path}: line {i + 2}: column {column!r}: {given!r} gives {target} = {value:g}, "
                    f"outside the plausible range ({low:g}, {high:g})"
                )
        out[target] = stored
        if (scale, offset) != (1.0, 0.0):
            conversions[column] = f"{target} = {scale:g} * {column} + {offset:g}"
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

