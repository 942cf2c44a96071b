"""Supply-chain data: cited production shares, trade exposure, mitigation, governance, export controls, scenarios.

Five shipped tables under ``data/supply/`` (UTF-8 CSV, one source row per value, every row with
``source``, ``locator``, ``read_at`` and the data ``year``):

- ``production``: country shares of mine production (``stage = mining``) and of refining, smelting or
  separation (``stage = refining``), ``share_fraction`` in [0, 1]; ``ROW`` is the rest of the world;
- ``trade``: US net import reliance ``us_net_import_reliance_pct`` (0-100) and the share of US imports
  from foreign entities of concern ``feoc_import_share_fraction`` (0-1; China only where that is all the
  source gives, so a lower bound);
- ``mitigation``: end-of-life recycling input rate ``eol_rir_fraction`` and the EU substitution index
  ``substitution_index`` (1 = no substitute); empty where no value could be sourced;
- ``governance``: World Governance Indicators per country (estimates in units of a standard normal,
  about -2.5 to 2.5, and a percentile rank);
- ``export_controls``: dated export-control events (licensing, ban, suspension) with announcement numbers.

:func:`supply_inputs` reduces the tables to one set of inputs per element by a documented selection
rule, and :func:`apply_scenario` changes those inputs as a named, dated scenario file says. Scenarios
change inputs, never the formula (the formula is in :mod:`magnetscreen.models.risk`). The provenance,
the formula and the gaps are documented in ``docs/supply-risk.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from magnetscreen.datasets.elements import symbol_to_z
from magnetscreen.datasets.errors import ConfigError, DataError
from magnetscreen.datasets.prices import PRICE_SERIES, ZERO_COST_ELEMENTS
from magnetscreen.datasets.schema import Column, Table, TableSpec, check_number, load_toml, parse_date, read_table

__all__ = [
    "SUPPLY_TABLES",
    "STAGES",
    "ACTIONS",
    "RARE_EARTHS",
    "ROW",
    "ExportControlEvent",
    "StageShares",
    "SupplyInputs",
    "Scenario",
    "load_supply_table",
    "supply_table_names",
    "export_control_events",
    "active_controls",
    "governance_risk",
    "supply_inputs",
    "scenario_names",
    "load_scenario",
    "parse_scenario",
    "apply_scenario",
]

STAGES = ("mining", "refining")
ACTIONS = ("licensing", "ban", "suspension")
#: The rest of the world in a share table: many small producers, not one country.
ROW = "ROW"
RARE_EARTHS = ("Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu")
#: The six WGI estimates averaged into a country's governance score.
WGI_ESTIMATES = ("WGI_VA_estimate", "WGI_PV_estimate", "WGI_GE_estimate", "WGI_RQ_estimate", "WGI_RL_estimate",
                 "WGI_CC_estimate")

_CITATION = (
    Column("source", "str", required=True, description="original publication (and through whom it was read)"),
    Column("locator", "str", required=True, description="where in the source: table, list, paragraph"),
    Column("read_at", "url", required=True, description="URL of the page where the value was read"),
    Column("note", "str", description="conversions, caveats, staleness"),
)

PRODUCTION = TableSpec(
    name="production",
    filename="production_shares.csv",
    description="Country shares of mine production and of refining/separation, per element",
    columns=(
        Column("element", "element", required=True, description="element symbol"),
        Column("stage", "str", required=True, choices=STAGES, description="mining or refining"),
        Column("country", "str", required=True, description="ISO 3166-1 alpha-3 code, or ROW (rest of world)"),
        Column("share_fraction", "float", "1", required=True, low=0.0, high=1.0,
               description="share of world output at this stage"),
        Column("year", "int", "year", required=True, low=1990, high=2100, description="data year"),
    ) + _CITATION,
)

TRADE = TableSpec(
    name="trade",
    filename="trade_exposure.csv",
    description="US net import reliance and share of US imports from foreign entities of concern (FEOC)",
    columns=(
        Column("element", "element", required=True, description="element symbol"),
        Column("year", "int", "year", required=True, low=1990, high=2100, description="data year"),
        Column("us_net_import_reliance_pct", "float", "%", low=0.0, high=100.0,
               description="US net import reliance as a share of apparent consumption (0 for a net exporter)"),
        Column("feoc_import_share_fraction", "float", "1", low=0.0, high=1.0,
               description="share of US imports from foreign entities of concern (China only: a lower bound)"),
        Column("top_import_sources", "str", description="import sources as published"),
    ) + _CITATION,
    property_columns=("us_net_import_reliance_pct", "feoc_import_share_fraction"),
)

MITIGATION = TableSpec(
    name="mitigation",
    filename="mitigation.csv",
    description="End-of-life recycling input rate and substitution index (empty where not sourced)",
    columns=(
        Column("element", "element", required=True, description="element symbol"),
        Column("year", "int", "year", required=True, low=1990, high=2100, description="data year"),
        Column("eol_rir_fraction", "float", "1", low=0.0, high=1.0,
               description="end-of-life recycling input rate (EU definition)"),
        Column("substitution_index", "float", "1", low=0.0, high=1.0,
               description="EU substitution index for supply risk, 1 = no substitute"),
        Column("unep_eol_rr_band", "str", description="UNEP 2011 end-of-life recycling-rate band (not used)"),
    ) + _CITATION,
)

GOVERNANCE = TableSpec(
    name="governance",
    filename="governance_wgi.csv",
    description="World Governance Indicators of the producing countries",
    columns=(
        Column("country", "str", required=True, description="ISO 3166-1 alpha-3 code"),
        Column("country_name", "str", required=True, description="country name"),
        Column("indicator", "str", required=True, choices=WGI_ESTIMATES + ("WGI_PV_percentile",),
               description="WGI indicator: estimates about -2.5..2.5, percentile 0..100"),
        Column("value", "float", "WGI units", required=True, low=-3.0, high=100.0,
               description="indicator value"),
        Column("year", "int", "year", required=True, low=1990, high=2100, description="data year"),
    ) + _CITATION,
)

EXPORT_CONTROLS = TableSpec(
    name="export_controls",
    filename="export_controls.csv",
    description="Dated export-control events (licensing, ban, suspension) with announcement numbers",
    columns=(
        Column("event_id", "str", required=True, description="unique id, e.g. CN-2025-18-MHREE"),
        Column("announced", "date", required=True, description="announcement date (ISO)"),
        Column("effective", "date", required=True, description="date from which the event applies (ISO)"),
        Column("ends", "date", description="announced end of a suspension (informational, see docs)"),
        Column("country", "str", required=True, description="ISO code of the controlling country"),
        Column("authority", "str", required=True, description="issuing authority"),
        Column("announcement", "str", required=True, description="announcement number"),
        Column("elements", "elements", description="space-separated element symbols (empty: no element list read)"),
        Column("action", "str", required=True, choices=ACTIONS, description="licensing, ban or suspension"),
        Column("refers_to", "str", description="event_id a suspension applies to"),
        Column("year", "int", "year", required=True, low=1990, high=2100, description="year announced"),
    ) + _CITATION,
)

SUPPLY_TABLES = {spec.name: spec for spec in (PRODUCTION, TRADE, MITIGATION, GOVERNANCE, EXPORT_CONTROLS)}


def supply_table_names() -> tuple[str, ...]:
    """Names of the shipped supply tables."""
    return tuple(SUPPLY_TABLES)


@cache
def _load(name: str) -> pd.DataFrame:
    spec = SUPPLY_TABLES[name]
    ref = resources.files("magnetscreen.datasets") / "data" / "supply" / spec.filename
    label = f"supply/{spec.filename}"
    with resources.as_file(ref) as path:
        frame, digest = read_table(path, spec, label)
    if name == "export_controls" and frame["event_id"].duplicated().any():
        dup = frame.loc[frame["event_id"].duplicated(), "event_id"].iloc[0]
        raise DataError(f"{label}: duplicate event_id {dup!r}")
    frame.attrs["provenance"] = {
        "table": spec.name,
        "file": f"supply/{spec.filename}",
        "sha256": digest,
        "rows": len(frame),
        "description": spec.description,
        "columns": {c.name: {"unit": c.unit, "description": c.description} for c in spec.columns},
        "sources": sorted(set(frame["source"])),
        "years": [int(frame["year"].min()), int(frame["year"].max())],
    }
    return frame


def load_supply_table(name: str) -> pd.DataFrame:
    """A shipped supply table by name (a fresh copy with ``attrs["provenance"]``).

    Parameters
    ----------
    name : {"production", "trade", "mitigation", "governance", "export_controls"}

    Raises
    ------
    DataError
        For an unknown name, or a shipped row that fails validation (file, line, column, value).
    """
    if name not in SUPPLY_TABLES:
        raise DataError(f"unknown supply table {name!r} (shipped: {', '.join(SUPPLY_TABLES)})")
    frame = _load(name).copy()
    frame.attrs = {"provenance": dict(_load(name).attrs["provenance"])}
    return frame


# ----------------------------------------------------------------------------------------------------------
# Export-control events
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportControlEvent:
    """One dated export-control event.

    A ``licensing`` or ``ban`` event applies to its ``elements`` from ``effective`` on; a ``suspension``
    event lifts the event named in ``refers_to`` from its own ``effective`` date. ``ends`` (the announced
    end of a suspension) is recorded but not acted on: a lapse or an extension is a new event.
    ``effective = None`` (scenario events only) applies at every date.
    """

    event_id: str
    action: str
    elements: tuple[str, ...]
    effective: dt.date | None
    announced: dt.date | None = None
    ends: dt.date | None = None
    refers_to: str = ""
    country: str = ""
    announcement: str = ""
    source: str = ""


@lru_cache(maxsize=1)
def export_control_events() -> tuple[ExportControlEvent, ...]:
    """The shipped export-control events, in file order."""
    frame = _load("export_controls")
    events = []
    for row in frame.itertuples(index=False):
        where = f"supply/export_controls.csv: event {row.event_id!r}"
        events.append(ExportControlEvent(
            event_id=row.event_id,
            action=row.action,
            elements=tuple(row.elements.split()),
            effective=parse_date(row.effective, where, DataError),
            announced=parse_date(row.announced, where, DataError),
            ends=parse_date(row.ends, where, DataError) if row.ends else None,
            refers_to=row.refers_to,
            country=row.country,
            announcement=row.announcement,
            source=f"supply/export_controls.csv:{row.event_id}",
        ))
    ids = {e.event_id for e in events}
    for e in events:
        if e.action == "suspension" and e.refers_to not in ids:
            raise DataError(f"supply/export_controls.csv: event {e.event_id!r}: refers_to {e.refers_to!r} "
                            "is not an event_id of the file")
    return tuple(events)


def active_controls(as_of: dt.date, events: tuple[ExportControlEvent, ...]
                    ) -> dict[str, tuple[ExportControlEvent, ...]]:
    """Controls in force at ``as_of``, by element symbol.

    An event is in force when it is a ``licensing`` or ``ban`` event with ``effective <= as_of`` (or no
    date) and no suspension of it has ``effective <= as_of``.

    Returns
    -------
    dict of str to tuple of ExportControlEvent
        Element symbol to the events that control it, in event order.
    """
    suspended = {e.refers_to for e in events
                 if e.action == "suspension" and (e.effective is None or e.effective <= as_of)}
    controls: dict[str, list[ExportControlEvent]] = {}
    for e in events:
        if e.action == "suspension" or e.event_id in suspended:
            continue
        if e.effective is not None and e.effective > as_of:
            continue
        for symbol in e.elements:
            controls.setdefault(symbol, []).append(e)
    return {k: tuple(v) for k, v in controls.items()}


# ----------------------------------------------------------------------------------------------------------
# Inputs per element
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageShares:
    """Country shares of one element at one stage, with the year and source they came from."""

    countries: tuple[str, ...]
    shares: tuple[float, ...]
    year: int
    source: str


@dataclass(frozen=True)
class SupplyInputs:
    """The inputs of the risk formula, one value (or none) per element.

    Attributes
    ----------
    shares : mapping of (element, stage) to StageShares
    import_reliance : mapping of element to (fraction in [0, 1], year, source)
    feoc_share : mapping of element to (fraction in [0, 1], year, source)
    eol_rir : mapping of element to (fraction in [0, 1], year, source)
    substitution_index : mapping of element to (value in [0, 1], year, source)
    governance : mapping of country code to governance risk in [0, 1] (higher is worse)
    events : tuple of ExportControlEvent
    price_scale : mapping of element to factor
        Price shocks of the scenario (1 where none), applied by :func:`magnetscreen.datasets.prices.element_prices`.
    scenario : str
        ``"baseline"`` or the name of the scenario applied.
    """

    shares: Mapping[tuple[str, str], StageShares]
    import_reliance: Mapping[str, tuple[float, int, str]]
    feoc_share: Mapping[str, tuple[float, int, str]]
    eol_rir: Mapping[str, tuple[float, int, str]]
    substitution_index: Mapping[str, tuple[float, int, str]]
    governance: Mapping[str, float]
    events: tuple[ExportControlEvent, ...]
    scenario: str = "baseline"
    vintage: Mapping[str, Any] = field(default_factory=dict)
    price_scale: Mapping[str, float] = field(default_factory=dict)

    def elements(self) -> tuple[str, ...]:
        """Every element with at least one input, sorted by atomic number."""
        found = {e for e, _ in self.shares} | set(self.import_reliance) | set(self.feoc_share) | set(
            self.eol_rir) | set(self.substitution_index)
        for event in self.events:
            found.update(event.elements)
        z = symbol_to_z()
        return tuple(sorted(found, key=z.__getitem__))


def governance_risk(frame: pd.DataFrame | None = None) -> dict[str, float]:
    """Governance risk per country in [0, 1]: ``(2.5 - mean of the six WGI estimates) / 5``, clipped.

    Higher is worse (weaker governance). A country needs all six estimates.

    References
    ----------
    Kaufmann, Kraay, Mastruzzi, World Bank Policy Research Working Paper 5430 (2010).
    """
    frame = _load("governance") if frame is None else frame
    estimates = frame[frame["indicator"].isin(WGI_ESTIMATES)]
    risk = {}
    for country, group in estimates.groupby("country", sort=True):
        if len(group) != len(WGI_ESTIMATES):
            raise DataError(f"supply/governance_wgi.csv: country {country!r} has {len(group)} of the "
                            f"{len(WGI_ESTIMATES)} WGI estimates")
        mean = float(group["value"].mean())
        risk[country] = min(1.0, max(0.0, (2.5 - mean) / 5.0))
    return risk


def _select_shares(frame: pd.DataFrame) -> dict[tuple[str, str], StageShares]:
    """One share table per (element, stage): latest year, then most countries named, then source."""
    chosen = {}
    for (element, stage), group in frame.groupby(["element", "stage"], sort=True):
        candidates = []
        for (year, source), rows in group.groupby(["year", "source"], sort=True):
            candidates.append((-int(year), -len(rows), source, rows))
        _, _, source, rows = min(candidates, key=lambda c: c[:3])
        chosen[(element, stage)] = StageShares(tuple(rows["country"]), tuple(float(s) for s in rows["share_fraction"]),
                                               int(rows["year"].iloc[0]), source)
    return chosen


def _select_latest(frame: pd.DataFrame, column: str, scale: float = 1.0) -> dict[str, tuple[float, int, str]]:
    """Per element, the value of ``column`` from the latest year that has one (ties: source order)."""
    chosen = {}
    rows = frame[frame[column].notna()].sort_values(["element", "year", "source"], ascending=[True, False, True],
                                                    kind="stable")
    for element, group in rows.groupby("element", sort=True):
        first = group.iloc[0]
        chosen[element] = (float(first[column]) * scale, int(first["year"]), str(first["source"]))
    return chosen


@lru_cache(maxsize=1)
def supply_inputs() -> SupplyInputs:
    """The baseline inputs selected from the shipped tables (see the module docstring for the rules)."""
    trade = _load("trade")
    mitigation = _load("mitigation")
    vintage: dict[str, Any] = {name: {"years": _load(name).attrs["provenance"]["years"],
                                      "sha256": _load(name).attrs["provenance"]["sha256"]} for name in SUPPLY_TABLES}
    events = export_control_events()
    vintage["events_through"] = max(e.effective for e in events if e.effective is not None).isoformat()
    return SupplyInputs(
        shares=MappingProxyType(_select_shares(_load("production"))),
        import_reliance=MappingProxyType(_select_latest(trade, "us_net_import_reliance_pct", 0.01)),
        feoc_share=MappingProxyType(_select_latest(trade, "feoc_import_share_fraction")),
        eol_rir=MappingProxyType(_select_latest(mitigation, "eol_rir_fraction")),
        substitution_index=MappingProxyType(_select_latest(mitigation, "substitution_index")),
        governance=MappingProxyType(governance_risk()),
        events=events,
        vintage=MappingProxyType(vintage),
    )


# ----------------------------------------------------------------------------------------------------------
# Scenarios
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductionChange:
    elements: tuple[str, ...]
    stage: str
    scale: tuple[tuple[str, float], ...] = ()
    shares: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ValueChange:
    elements: tuple[str, ...]
    values: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class PriceChange:
    elements: tuple[str, ...]
    scale: float


@dataclass(frozen=True)
class Scenario:
    """A named, dated change of the risk inputs (never of the formula).

    Attributes
    ----------
    name, description, rationale : str
    date : datetime.date
        When the scenario was written.
    production : tuple of ProductionChange
        Country shares of (element, stage) scaled (``scale``, then renormalized to the old total) or replaced.
    trade, mitigation : tuple of ValueChange
        ``import_reliance_pct`` / ``feoc_import_share`` and ``eol_rir`` / ``substitution_index`` set.
    add_events : tuple of ExportControlEvent
    remove_events : tuple of str
        Shipped event ids ignored by the scenario.
    prices : tuple of PriceChange
        Element prices multiplied by ``scale`` (price shocks; several changes of one element multiply).
    path : str
        File it was read from.
    """

    name: str
    date: dt.date
    description: str
    rationale: str = ""
    production: tuple[ProductionChange, ...] = ()
    trade: tuple[ValueChange, ...] = ()
    mitigation: tuple[ValueChange, ...] = ()
    add_events: tuple[ExportControlEvent, ...] = ()
    remove_events: tuple[str, ...] = ()
    prices: tuple[PriceChange, ...] = ()
    path: str = ""


def _scenario_dir():
    return resources.files("magnetscreen.datasets") / "data" / "scenarios"


def scenario_names() -> tuple[str, ...]:
    """Names of the built-in scenarios (file stems), sorted."""
    return tuple(sorted(p.name[:-5] for p in _scenario_dir().iterdir() if p.name.endswith(".toml")))


def _elements(t: Table, key: str) -> tuple[str, ...]:
    value = t.array(key)
    if not value:
        raise t.fail(key, "expected a non-empty array of element symbols, got []")
    symbols = symbol_to_z()
    for item in value:
        if not isinstance(item, str) or item not in symbols:
            raise t.fail(key, f"unknown element {item!r}")
    return tuple(value)


def _date(t: Table, key: str, default: Any = ...) -> dt.date | None:
    value = t.raw(key, default)
    if value is default and default is not ...:
        return value
    return parse_date(value, t.path(key), t.error)


def _country_table(t: Table, key: str, countries: set[str], *, low: float, high: float | None) -> tuple:
    table = t.table(key)
    out = []
    for country in table.data:
        if country not in countries:
            raise table.fail(country, f"unknown country code {country!r} (known: ISO codes of "
                             f"supply/governance_wgi.csv and {ROW!r})")
        out.append((country, check_number(table.raw(country), table.path(country), ConfigError, low=low, high=high)))
    table.finish()
    if not out:
        raise t.fail(key, "expected at least one country")
    return tuple(out)


def parse_scenario(data: Mapping[str, Any], where: str = "scenario") -> Scenario:
    """Validate a scenario mapping (a parsed TOML file) into a :class:`Scenario`.

    Raises
    ------
    ConfigError
        Naming the key path and the offending value; unknown keys are errors.
    """
    t = Table(data, where, ConfigError)
    countries = set(supply_inputs().governance) | {ROW}
    name = t.string("name")
    if not name.strip():
        raise t.fail("name", "expected a non-empty name")
    date = _date(t, "date")
    description = t.string("description")
    rationale = t.string("rationale", "")
    production = []
    for i, raw in enumerate(t.array("production", [])):
        p = Table(raw, f"{t.path('production')}[{i}]", ConfigError)
        elements = _elements(p, "elements")
        stage = p.string("stage", choices=STAGES)
        if p.has("scale") == p.has("shares"):
            raise p.fail("scale", "give exactly one of 'scale' (multiply named shares) or 'shares' (replace all)")
        scale = _country_table(p, "scale", countries, low=0.0, high=None) if p.has("scale") else ()
        shares = _country_table(p, "shares", countries, low=0.0, high=1.0) if p.has("shares") else ()
        if shares and sum(s for _, s in shares) > 1.0 + 1e-6:
            raise p.fail("shares", f"shares sum to {sum(s for _, s in shares):g}, expected at most 1")
        p.finish()
        production.append(ProductionChange(elements, stage, scale, shares))
    changes: dict[str, list[ValueChange]] = {}
    for key, allowed in (("trade", {"import_reliance_pct": 100.0, "feoc_import_share": 1.0}),
                         ("mitigation", {"eol_rir": 1.0, "substitution_index": 1.0})):
        changes[key] = []
        for i, raw in enumerate(t.array(key, [])):
            c = Table(raw, f"{t.path(key)}[{i}]", ConfigError)
            elements = _elements(c, "elements")
            values = tuple((k, c.number(k, low=0.0, high=high)) for k, high in allowed.items() if c.has(k))
            for k in allowed:
                c.seen.add(k)
            c.finish()
            if not values:
                raise c.fail(next(iter(allowed)), f"expected at least one of {', '.join(allowed)}")
            changes[key].append(ValueChange(elements, values))
    known = {e.event_id for e in export_control_events()}
    events: list[ExportControlEvent] = []
    for i, raw in enumerate(t.array("export_control", [])):
        e = Table(raw, f"{t.path('export_control')}[{i}]", ConfigError)
        event_id = e.string("id")
        if event_id in known or event_id in {x.event_id for x in events}:
            raise e.fail("id", f"event id {event_id!r} is already used")
        action = e.string("action", choices=ACTIONS)
        refers_to = e.string("refers_to", "")
        if action == "suspension" and not refers_to:
            raise e.fail("refers_to", "a suspension needs the event_id it suspends")
        elements = _elements(e, "elements") if action != "suspension" or e.has("elements") else ()
        effective = _date(e, "effective", None)
        announcement = e.string("announcement", "")
        e.finish()
        events.append(ExportControlEvent(event_id, action, elements, effective, refers_to=refers_to,
                                         announcement=announcement or f"scenario {name}",
                                         source=f"scenario:{name}"))
    prices = []
    priced = set(PRICE_SERIES) | set(ZERO_COST_ELEMENTS)
    for i, raw in enumerate(t.array("price", [])):
        c = Table(raw, f"{t.path('price')}[{i}]", ConfigError)
        elements = _elements(c, "elements")
        for element in elements:
            if element not in priced:
                raise c.fail("elements", f"element {element!r} has no price to scale (priced: "
                             f"{', '.join(sorted(priced, key=symbol_to_z().__getitem__))})")
        factor = c.number("scale", low=0.0, low_open=True)
        c.finish()
        prices.append(PriceChange(elements, factor))
    remove = t.array("remove_events", [])
    for item in remove:
        if item not in known:
            raise t.fail("remove_events", f"unknown event id {item!r} (shipped: {', '.join(sorted(known))})")
    t.finish()
    assert date is not None  # "date" is required: _date raised otherwise
    return Scenario(name, date, description, rationale, tuple(production), tuple(changes["trade"]),
                    tuple(changes["mitigation"]), tuple(events), tuple(remove), tuple(prices))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a scenario TOML file by path.

    Raises
    ------
    ConfigError
        For an unknown name (listing the known ones), an unreadable file or an invalid scenario.
    """
    text = str(name_or_path)
    if text in scenario_names():
        with resources.as_file(_scenario_dir() / f"{text}.toml") as path:
            data = load_toml(path, ConfigError)
            scenario = parse_scenario(data, f"{text}.toml:")
        if scenario.name != text:
            raise DataError(f"scenarios/{text}.toml: name {scenario.name!r} differs from the file name {text!r}")
        return replace(scenario, path=f"scenarios/{text}.toml")
    path = Path(text)
    if path.suffix != ".toml" and not path.exists():
        raise ConfigError(f"unknown scenario {text!r} (built-in: {', '.join(scenario_names())}; "
                          "or give the path of a .toml file)")
    data = load_toml(path, ConfigError)
    return replace(parse_scenario(data, f"{path}:"), path=str(path))


def apply_scenario(inputs: SupplyInputs, scenario: Scenario) -> SupplyInputs:
    """The inputs changed as ``scenario`` says; everything it does not name is left as it is.

    Raises
    ------
    ConfigError
        When a ``scale`` names an (element, stage) without data or a country absent from its share table.
    """
    shares = dict(inputs.shares)
    where = scenario.path or scenario.name
    for change in scenario.production:
        for element in change.elements:
            key = (element, change.stage)
            if change.shares:
                countries = tuple(c for c, _ in change.shares)
                values = tuple(s for _, s in change.shares)
            else:
                if key not in shares:
                    raise ConfigError(f"{where}: production: no {change.stage} shares for {element} to scale "
                                      "(give 'shares' instead)")
                old = shares[key]
                factors = dict(change.scale)
                absent = [c for c in factors if c not in old.countries]
                if absent:
                    raise ConfigError(f"{where}: production: {element} {change.stage}: country {absent[0]!r} "
                                      f"is not in the share table ({', '.join(old.countries)})")
                scaled = [s * factors.get(c, 1.0) for c, s in zip(old.countries, old.shares)]
                total = sum(scaled)
                if total <= 0.0:
                    raise ConfigError(f"{where}: production: {element} {change.stage}: scaling leaves no output")
                countries = old.countries
                values = tuple(s * sum(old.shares) / total for s in scaled)
            shares[key] = StageShares(countries, values, scenario.date.year, f"scenario:{scenario.name}")
    source = f"scenario:{scenario.name}"
    tables = {"import_reliance_pct": dict(inputs.import_reliance), "feoc_import_share": dict(inputs.feoc_share),
              "eol_rir": dict(inputs.eol_rir), "substitution_index": dict(inputs.substitution_index)}
    for value_change in scenario.trade + scenario.mitigation:
        for element in value_change.elements:
            for name, value in value_change.values:
                scale = 0.01 if name == "import_reliance_pct" else 1.0
                tables[name][element] = (value * scale, scenario.date.year, source)
    events = tuple(e for e in inputs.events if e.event_id not in scenario.remove_events) + scenario.add_events
    ids = {e.event_id for e in events}
    for e in scenario.add_events:
        if e.action == "suspension" and e.refers_to not in ids:
            raise ConfigError(f"{where}: export_control {e.event_id!r}: refers_to {e.refers_to!r} is not a known "
                              "event id")
    price_scale = dict(inputs.price_scale)
    for price_change in scenario.prices:
        for element in price_change.elements:
            price_scale[element] = price_scale.get(element, 1.0) * price_change.scale
    return replace(
        inputs,
        price_scale=MappingProxyType(price_scale),
        shares=MappingProxyType(shares),
        import_reliance=MappingProxyType(tables["import_reliance_pct"]),
        feoc_share=MappingProxyType(tables["feoc_import_share"]),
        eol_rir=MappingProxyType(tables["eol_rir"]),
        substitution_index=MappingProxyType(tables["substitution_index"]),
        events=events,
        scenario=scenario.name,
    )
