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
    "load_curie_corpus",
    "load_curie_records",
    "load_intrinsic_series",
    "load_end_members",
    "load_temperature_series",
    "load_temperature_laws",
    "load_stability_ranges",
    "STABILITY_RANGES",
    "SYNTHESIS_ROUTES",
    "load_elements",
    "validate_rows",
    "table_names",
    "table_summary",
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

TIERS = ("A", "B", "C")
MATERIAL_CLASSES = ("intermetallic/alloy", "oxide", "other_compound")

CURIE_CORPUS = TableSpec(
    name="curie_corpus",
    filename="curie_corpus.csv",
    description="Curie temperatures of about 16,000 compositions collapsed from public compilations, with quality "
                "tiers (built by magnetscreen.datasets.curie_corpus; docs/curie-corpus.md)",
    columns=(
        Column("formula", "formula", required=True, description="reduced formula of the composition"),
        Column("key", "str", required=True, description="identity: elements with atomic fractions to 1e-4"),
        Column("Tc_K", "float", "K", required=True, low=0.0, high=1500.0, low_open=True,
               description="median over independent compilations of their median"),
        Column("n_records", "int", required=True, low=1, description="records collapsed into the row"),
        Column("Tc_min_K", "float", "K", required=True, low=0.0, high=1500.0, low_open=True,
               description="smallest record"),
        Column("Tc_max_K", "float", "K", required=True, low=0.0, high=1500.0, low_open=True,
               description="largest record"),
        Column("Tc_spread_K", "float", "K", required=True, low=0.0, high=1500.0, description="max - min"),
        Column("tier", "str", required=True, choices=TIERS,
               description="A: two independent compilations agree; B: a hand-curated one; C: text-mined only"),
        Column("material_class", "str", required=True, choices=MATERIAL_CLASSES, description="from the elements"),
        Column("conflict", "bool", description="the medians of two sources disagree (listed in the sources file)"),
        Column("sources", "str", required=True, description="compilation ids, ';'-joined"),
        Column("references", "str", description="original references (DOIs or citations), ';'-joined"),
        Column("method", "str", required=True, choices=METHODS, description="experiment"),
    ),
    property_columns=("Tc_K",),
)

CURIE_RECORDS = TableSpec(
    name="curie_records",
    filename="curie_records.csv.gz",
    description="Every record kept in the Curie corpus: value, compilation, its row and line, original reference",
    columns=(
        Column("key", "str", required=True, description="composition identity (joins curie_corpus.key)"),
        Column("formula", "str", required=True, description="reduced formula"),
        Column("Tc_K", "float", "K", required=True, low=0.0, high=1500.0, low_open=True, description="the value"),
        Column("source_id", "str", required=True, description="compilation id (curie_corpus.sources.json)"),
        Column("source_row", "int", required=True, low=0, description="data row in the compilation file"),
        Column("source_line", "int", required=True, low=1, description="line of the file where the row starts"),
        Column("value_index", "int", description="position of the value in a cell holding several"),
        Column("raw_formula", "str", required=True, description="the formula as the compilation wrote it"),
        Column("raw_value", "str", required=True, description="the value as the compilation wrote it"),
        Column("unit", "str", required=True, description="unit of raw_value"),
        Column("reference", "str", description="original reference(s), ' | '-joined"),
        Column("reference_paired", "bool", description="the reference is the value's own (not a row's list)"),
        Column("flags", "str", description="notes of the reader"),
    ),
)

INTRINSIC_SERIES = TableSpec(
    name="intrinsic_series",
    filename="intrinsic_series.csv",
    description="2-14-1 and 1-12 magnetization, anisotropy-field and Curie-temperature series of the MaMMoS "
                "literature tables, each row with its original reference",
    columns=(
        Column("formula", "formula", required=True, description="chemical formula"),
        Column("family", "str", required=True, choices=("2-14-1", "1-12"), description="structure family"),
        Column("T_K", "float", "K", low=0.0, high=1500.0, high_open=True, description="temperature of Js, muHA"),
        Column("T_K_nominal", "bool", description="true when only 'room temperature' is known"),
        Column("Js_T", "float", "T", low=0.0, high=2.6, low_open=True, high_open=True,
               description="saturation polarization mu0*Ms"),
        Column("muHA_T", "float", "T", low=0.0, high=150.0, low_open=True, high_open=True,
               description="anisotropy field mu0*HA"),
        Column("Tc_K", "float", "K", low=0.0, high=1500.0, low_open=True, high_open=True,
               description="Curie temperature"),
    ) + (
        Column("method", "str", required=True, choices=METHODS, description="experiment or DFT"),
        Column("source", "str", required=True, description="original paper: DOI or citation"),
        Column("locator", "str", required=True, description="compilation file and row"),
        Column("read_at", "url", required=True, description="compilation file pinned to a commit, with line"),
        Column("note", "str", description="sample, assumptions, disagreements"),
    ),
    property_columns=("Js_T", "muHA_T", "Tc_K"),
)

ANISOTROPY_TYPES = ("easy_axis", "easy_plane", "easy_cone")
#: Family labels of the end-member table: the built-in families, and reference elements.
END_MEMBER_FAMILIES = ("2-14-1", "2-17-interstitial", "SmCo5", "Sm2Co17", "1-12", "MnBi", "MnAl", "L10-FeNi",
                       "Fe16N2", "M-hexaferrite", "reference")

END_MEMBERS = TableSpec(
    name="end_members",
    filename="end_members.csv",
    description="End members of every built-in family: Js, K1 (with its sign), K2, easy direction and Tc at stated "
                "temperatures (docs/end-members.md)",
    columns=(
        Column("formula", "formula", required=True, description="chemical formula"),
        Column("family", "str", required=True, choices=END_MEMBER_FAMILIES, description="built-in family"),
        Column("T_K", "float", "K", low=0.0, high=1500.0, high_open=True, description="temperature of Js, K1, K2"),
        Column("T_K_nominal", "bool", description="true when only 'room temperature' is known"),
        Column("Js_T", "float", "T", low=0.0, high=2.6, low_open=True, high_open=True,
               description="saturation polarization mu0*Ms"),
        Column("K1_MJm3", "float", "MJ/m^3", low=-30.0, high=30.0, low_open=True, high_open=True,
               description="first anisotropy constant, with its sign (< 0: easy plane)"),
        Column("K2_MJm3", "float", "MJ/m^3", low=-30.0, high=30.0, low_open=True, high_open=True,
               description="second anisotropy constant"),
        Column("anisotropy", "str", choices=ANISOTROPY_TYPES, description="easy direction as the source states it"),
        Column("Tc_K", "float", "K", low=0.0, high=1500.0, low_open=True, high_open=True,
               description="Curie temperature"),
    ) + _PROVENANCE,
    property_columns=("Js_T", "K1_MJm3", "K2_MJm3", "anisotropy", "Tc_K"),
)

TEMPERATURE_SERIES = TableSpec(
    name="temperature_series",
    filename="temperature_series.csv",
    description="Js, K1 and mu0HA of end members and close relatives at two or more temperatures, the data the "
                "per-family temperature laws are fitted on (docs/temperature-series.md)",
    columns=(
        Column("formula", "formula", required=True, description="chemical formula"),
        Column("family", "str", required=True, choices=END_MEMBER_FAMILIES, description="built-in family"),
        Column("T_K", "float", "K", required=True, low=0.0, high=1500.0, high_open=True,
               description="temperature of the values"),
        Column("T_K_nominal", "bool", description="true when only 'room temperature' is known"),
        Column("Js_T", "float", "T", low=0.0, high=2.6, low_open=True, high_open=True,
               description="saturation polarization mu0*Ms"),
        Column("K1_MJm3", "float", "MJ/m^3", low=-30.0, high=30.0, low_open=True, high_open=True,
               description="first anisotropy constant, with its sign"),
        Column("muHA_T", "float", "T", low=0.0, high=150.0, low_open=True, high_open=True,
               description="anisotropy field mu0*HA"),
    ) + _PROVENANCE,
    property_columns=("Js_T", "K1_MJm3", "muHA_T"),
)

LAW_PARAMETERS = ("k1_exponent", "js_temperature_coefficient_per_K", "coercivity_temperature_coefficient_per_K")
TEMPERATURE_LAWS = TableSpec(
    name="temperature_laws",
    filename="temperature_laws.csv",
    description="Published temperature-law parameters: Callen-Callen exponents of K1 and magnet-level temperature "
                "coefficients of remanence and coercivity (docs/temperature-series.md)",
    columns=(
        Column("family", "str", required=True, choices=END_MEMBER_FAMILIES, description="built-in family"),
        Column("formula", "formula", description="the compound, when the parameter is a compound's"),
        Column("parameter", "str", required=True, choices=LAW_PARAMETERS, description="what the value is"),
        Column("value", "float", "", required=True, low=-20.0, high=20.0, description="the parameter's value"),
        Column("T_range_K", "str", description="temperatures the value holds for, as the source states"),
    ) + _PROVENANCE,
    property_columns=("value",),
)

#: Families of the stability-range table (the built-in families).
STABILITY_FAMILIES = tuple(f for f in END_MEMBER_FAMILIES if f != "reference")
#: Quantities of a stability range (docs/stability-ranges.md).
STABILITY_QUANTITIES = ("site_fraction", "atoms_per_formula_unit", "atomic_percent", "max_temperature_K")
#: Synthesis routes a range can be restricted to (``any``: the source does not restrict it).
SYNTHESIS_ROUTES = ("bulk", "melt-spun", "thin-film", "mechanical-alloying")

STABILITY_RANGES = TableSpec(
    name="stability_ranges",
    filename="stability_ranges.csv",
    description="Composition ranges (and stability temperatures) in which each built-in family's phase is reported "
                "to form, per site and substituent, with the route; explicit 'unknown' rows where no range was found "
                "(docs/stability-ranges.md)",
    columns=(
        Column("family", "str", required=True, choices=STABILITY_FAMILIES, description="built-in family"),
        Column("site", "str", required=True, description="site of the family's TOML, or * for the whole composition"),
        Column("elements", "str", required=True,
               description="element, or elements joined by + whose amounts are summed; * for temperature rows"),
        Column("quantity", "str", required=True, choices=STABILITY_QUANTITIES, description="what min and max bound"),
        Column("min", "float", low=0.0, high=2000.0, description="lower end of the reported range (empty: none)"),
        Column("max", "float", low=0.0, high=2000.0, description="upper end of the reported range (empty: none)"),
        Column("route", "str", choices=("any", *SYNTHESIS_ROUTES), description="synthesis route of the range"),
        Column("status", "str", required=True, choices=("reported", "unknown"),
               description="reported: a range read in the source; unknown: no range found (note says where we looked)"),
        Column("source", "str", description="original source: doi:... or URL (empty for an unknown row that "
                                           "names no page)"),
        Column("locator", "str", description="where in the source: table, figure, abstract"),
        Column("read_at", "url", description="URL of the page where the value was read"),
        Column("method", "str", choices=("experiment",), description="experiment (empty for unknown rows)"),
        Column("note", "str", description="conditions (R element, co-substituent, heat treatment), conversions"),
    ),
    property_columns=("status",),
)

TABLES = {spec.name: spec for spec in (INTRINSIC, CURIE, CURIE_CORPUS, CURIE_RECORDS, INTRINSIC_SERIES, END_MEMBERS,
                                       TEMPERATURE_SERIES, TEMPERATURE_LAWS, STABILITY_RANGES)}


def table_names() -> tuple[str, ...]:
    """Names of the shipped tables (``elements`` included)."""
    return tuple(TABLES) + ("elements",)


def _read(spec: TableSpec) -> tuple[pd.DataFrame, str]:
    ref = resources.files("magnetscreen.datasets") / "data" / spec.filename
    with resources.as_file(ref) as path:
        # every cell is checked, but formulas only by the tests (tests/test_data.py): parsing 16,000 of them at
        # every load would cost seconds
        return read_table(path, spec, spec.filename, check_formulas=False)


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
        "sources": _sources(frame),
        "methods": {m: int((frame["method"] == m).sum()) for m in METHODS} if "method" in frame else {},
    }
    return frame


def _sources(frame: pd.DataFrame) -> list[str]:
    """The distinct sources a table cites: its ``source`` column, or the compilations of the corpus."""
    if "source" in frame:
        return sorted(set(frame["source"]) - {""})
    if "sources" in frame:
        return sorted({s for cell in frame["sources"] for s in cell.split(";") if s})
    return sorted(set(frame["source_id"]))


def load_table(name: str) -> pd.DataFrame:
    """A shipped table by name (a fresh copy, with ``attrs["provenance"]``)."""
    if name == "elements":
        return load_elements()
    if name not in TABLES:
        raise DataError(f"unknown dataset {name!r} (shipped: {', '.join(table_names())})")
    frame = _load(name).copy()
    frame.attrs = {"provenance": dict(_load(name).attrs["provenance"])}
    return frame


def table_summary(name: str) -> dict:
    """What a shipped table holds: rows, methods, sources, and where it applies, rows per quality tier and
    material class, and rows with a value per family and property."""
    frame = load_table(name)
    prov = frame.attrs["provenance"]
    if name == "elements":
        return {"name": name, "rows": len(frame), "columns": list(frame.columns), "methods": {},
                "sources": [f"{prov['source']} (pymatgen {prov['pymatgen_version']})"]}
    out = {"name": name, "rows": len(frame), "columns": list(frame.columns), "methods": prov["methods"],
           "sources": prov["sources"], "description": prov["description"], "sha256": prov["sha256"]}
    if "tier" in frame:
        out["tiers"] = {str(k): int(v) for k, v in frame["tier"].value_counts().sort_index().items()}
        out["tiers_by_class"] = {str(c): {str(k): int(v) for k, v in g["tier"].value_counts().sort_index().items()}
                                 for c, g in frame.groupby("material_class")}
    spec = TABLES.get(name)
    if spec is not None and "family" in frame and spec.property_columns:
        out["by_family"] = {str(fam): {c: int(g[c].notna().sum() if g[c].dtype.kind == "f"
                                              else (g[c] != "").sum()) for c in spec.property_columns}
                            for fam, g in frame.groupby("family")}
    return out


def load_intrinsic() -> pd.DataFrame:
    """The curated intrinsic-properties table (see :data:`INTRINSIC` for columns and units)."""
    return load_table("intrinsic")


def load_curie() -> pd.DataFrame:
    """The curated Curie-temperature table (see :data:`CURIE`)."""
    return load_table("curie")


def load_curie_corpus() -> pd.DataFrame:
    """The Curie-temperature corpus, one row per composition (see :data:`CURIE_CORPUS`)."""
    return load_table("curie_corpus")


def load_curie_records() -> pd.DataFrame:
    """Every record of the corpus with its compilation row, for tracing a value (see :data:`CURIE_RECORDS`)."""
    return load_table("curie_records")


def load_temperature_series() -> pd.DataFrame:
    """Series of Js, K1 and mu0HA over temperature (see :data:`TEMPERATURE_SERIES`)."""
    return load_table("temperature_series")


def load_temperature_laws() -> pd.DataFrame:
    """Published temperature-law parameters (see :data:`TEMPERATURE_LAWS`)."""
    return load_table("temperature_laws")


def load_intrinsic_series() -> pd.DataFrame:
    """The 2-14-1 and 1-12 series of the literature compilations (see :data:`INTRINSIC_SERIES`)."""
    return load_table("intrinsic_series")


def load_stability_ranges() -> pd.DataFrame:
    """Reported formation ranges of the built-in families (see :data:`STABILITY_RANGES`)."""
    return load_table("stability_ranges")


def load_end_members() -> pd.DataFrame:
    """The end members of every built-in family (see :data:`END_MEMBERS`)."""
    return load_table("end_members")


def load_elements() -> pd.DataFrame:
    """The element table with its provenance (pymatgen version, column units)."""
    from magnetscreen.datasets.element_table import element_table_metadata, load_element_table

    frame = load_element_table().copy()
    meta = element_table_metadata()
    frame.attrs = {"provenance": {"table": "elements", "file": "elements.csv", "rows": len(frame), **meta}}
    return frame
