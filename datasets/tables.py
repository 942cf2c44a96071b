"""Shipped data tables: schemas, validation and loaders with provenance attached.

Every curated table is a CSV under ``data/``; every row names its source (DOI or URL), where in it the
value was read (table, figure, abstract), the page where we read it, and the method (``experiment`` or
``DFT``). Loaders return pandas DataFrames whose ``attrs["provenance"]`` holds the file name, its
SHA-256, the row count, the columns with units and the distinct sources.

Tables:

- ``intrinsic``: saturation polarization ``Js_T``, first anisotropy constant ``K1_MJm3``, anisotropy
  field ``muHA_T`` at temperature ``T_K``, and Curie temperature ``Tc_K`` of magnet phases;
- ``curie``: experimental Curie temperatures of intermetallics, alloys and oxides;
- ``elements``: elemental properties from pymatgen (see :mod:`magnetscreen.datasets.element_table`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

from magnetscreen.datasets.errors import DataError
from magnetscreen.datasets.schema import Column, TableSpec, read_table, validate_rows

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "INTRINSIC_FAMILIES",
    "load_table",
    "load_intrinsic",
    "load_curie",
    "load_elements",
    "validate_rows",
    "table_names",
]

METHODS = ("experiment", "DFT")
#: Family labels of the intrinsic table (broader than the enumeration families: reference phases too).
INTRINSIC_FAMILIES = ("2-14-1", "Sm-Co", "2-17", "1-12", "Fe16N2", "MnBi", "MnAl", "L10", "hexaferrite", "reference")


_PROVENANCE = (
    Column("method", "str", required=True, choices=METHODS, description="experiment or DFT"),
    Column("source", "str", required=True, description="original source: doi:... or URL"),
    Column("locator", "str", required=True, description="where in the source: table, figure, abstract"),
    Column("read_at", "url", required=True, description="URL of the page where the value was read"),
    Column("note", "str", description="sample, conversions, caveats"),
)

INTRINSIC = TableSpec(
    name="intrinsic",
    filename="intrinsic_properties.csv",
    description="Intrinsic magnetic properties of magnet phases (measured, and DFT flagged separately)",
    columns=(
        Column("formula", "formula", required=True, description="chemical formula"),
        Column("family", "str", required=True, choices=INTRINSIC_FAMILIES, description="material family"),
        Column("T_K", "float", "K", low=0.0, high=1500.0, high_open=True,
               description="temperature of Js, K1, muHA (0 for DFT ground-state values)"),
        Column("T_K_nominal", "bool", description="true when the source says only 'room temperature'"),
        Column("Js_T", "float", "T", low=0.0, high=2.6, low_open=True, high_open=True,
               description="saturation polarization mu0*Ms"),
        Column("K1_MJm3", "float", "MJ/m^3", low=-30.0, high=30.0, low_open=True, high_open=True,
               description="first anisotropy constant"),
        Column("muHA_T", "float", "T", low=0.0, high=150.0, low_open=True, high_open=True,
               description="anisotropy field mu0*HA"),
        Column("Tc_K", "float", "K", low=0.0, high=1500.0, low_open=True, high_open=True,
               description="Curie temperature"),
    ) + _PROVENANCE,
    property_columns=("Js_T", "K1_MJm3", "muHA_T", "Tc_K"),
)

CURIE = TableSpec(
    name="curie",
    filename="curie_temperatures.csv",
    description="Experimental Curie temperatures of intermetallics, alloys and oxides relevant to magnets",
    columns=(
        Column("formula", "formula", required=True, description="chemical formula"),
        Column("Tc_K", "float", "K", required=True, low=0.0, high=1500.0, low_open=True, high_open=True,
               description="Curie temperature"),
    ) + _PROVENANCE,
    property_columns=("Tc_K",),
)

TABLES = {spec.name: spec for spec in (INTRINSIC, CURIE)}


def table_names() -> tuple[str, ...]:
    """Names of the shipped tables (``elements`` included)."""
    return tuple(TABLES) + ("elements",)


def _read(spec: TableSpec) -> tuple[pd.DataFrame, str]:
    ref = resources.files("magnetscreen.datasets") / "data" / spec.filename
    with resources.as_file(ref) as path:
        return read_table(path, spec, spec.filename)


@cache
def _load(name: str) -> pd.DataFrame:
    spec = TABLES[name]
    frame, digest = _read(spec)
    frame.attrs["provenance"] = {
        "table": spec.name,
        "file": spec.filename,
        "sha256": digest,
        "rows": len(frame),
        "description": spec.description,
        "columns": {c.name: {"unit": c.unit, "description": c.description} for c in spec.columns},
        "sources": sorted(set(frame["source"])),
        "methods": {m: int((frame["method"] == m).sum()) for m in METHODS},
    }
    return frame


def load_table(name: str) -> pd.DataFrame:
    """A shipped table by name (a fresh copy, with ``attrs["provenance"]``)."""
    if name == "elements":
        return load_elements()
    if name not in TABLES:
        raise DataError(f"unknown dataset {name!r} (shipped: {', '.join(table_names())})")
    frame = _load(name).copy()
    frame.attrs = {"provenance": dict(_load(name).attrs["provenance"])}
    return frame


def load_intrinsic() -> pd.DataFrame:
    """The curated intrinsic-properties table (see :data:`INTRINSIC` for columns and units)."""
    return load_table("intrinsic")


def load_curie() -> pd.DataFrame:
    """The curated Curie-temperature table (see :data:`CURIE`)."""
    return load_table("curie")


def load_elements() -> pd.DataFrame:
    """The element table with its provenance (pymatgen version, column units)."""
    from magnetscreen.datasets.element_table import element_table_metadata, load_element_table

    frame = load_element_table().copy()
    meta = element_table_metadata()
    frame.attrs = {"provenance": {"table": "elements", "file": "elements.csv", "rows": len(frame), **meta}}
    return frame
