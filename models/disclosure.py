"""Standardized heavy-rare-earth and supply-concentration disclosure of a magnet composition.

One JSON record per composition, schema ``magnetscreen-disclosure`` version :data:`SCHEMA_VERSION`
(:data:`DISCLOSURE_JSON_SCHEMA`, documented in ``docs/supply-risk.md``). Every record has the same keys
in the same order, so disclosures of different magnets compare line by line:

- ``hree``: heavy-rare-earth content in g per kg of magnet, per element and in total, for every named
  HREE set (``default``, ``china-2025-04``, ``china-2025-10``); every element of a set is listed, zeros
  included;
- ``concentration``: for mining and for refining, the mass share of the magnet made of elements whose
  stage is concentrated in one country (top country share >= ``threshold_share``, default 0.5), per
  country and per element, and the mass share for which the stage has no data;
- ``export_controls``: the elements under export controls in force at ``as_of``, their mass share and the
  announcements;
- ``supply_risk``: the composition-level scores (value-weighted, mass-weighted, weakest link) with their
  driving elements, and the raw-material cost per kg;
- ``data_vintage``: the data year of every input used per element, the tables' year ranges and SHA-256,
  the date through which export-control events were recorded.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from magnetscreen.datasets.elements import element_symbols
from magnetscreen.datasets.errors import ConfigError
from magnetscreen.datasets.hree import hree_set, hree_set_names
from magnetscreen.datasets.provenance import package_version
from magnetscreen.datasets.supply import STAGES, Scenario, SupplyInputs, active_controls
from magnetscreen.descriptors.encoding import encode
from magnetscreen.descriptors.hree import hree_intensity
from magnetscreen.models.risk import DEFAULT_THRESHOLD, RiskWeights, composition_risk, parse_as_of, resolve_inputs

__all__ = ["SCHEMA_NAME", "SCHEMA_VERSION", "DISCLOSURE_JSON_SCHEMA", "disclose"]

SCHEMA_NAME = "magnetscreen-disclosure"
SCHEMA_VERSION = "1.0"

_NUMBER = {"type": "number"}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_STRING = {"type": "string"}


def _object(properties: dict, extra: dict | bool = False) -> dict:
    return {"type": "object", "required": list(properties), "properties": properties, "additionalProperties": extra}


_STAGE = _object({
    "threshold_share": _NUMBER,
    "concentrated_mass_share": _NUMBER,
    "by_country": {"type": "object", "additionalProperties": _NUMBER},
    "elements": {"type": "array", "items": _object({
        "element": _STRING, "mass_fraction": _NUMBER, "country": _STRING, "share": _NUMBER, "year": {"type": "integer"},
    })},
    "mass_share_without_data": _NUMBER,
    "elements_without_data": {"type": "array", "items": _STRING},
})

#: JSON Schema (draft 2020-12) of one disclosure record.
DISCLOSURE_JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://magnetscreen.invalid/schemas/{SCHEMA_NAME}/{SCHEMA_VERSION}",
    "title": "magnetscreen heavy-rare-earth and supply-concentration disclosure",
    **_object({
        "schema": {"const": SCHEMA_NAME, "type": "string"},
        "schema_version": {"const": SCHEMA_VERSION, "type": "string"},
        "formula": _STRING,
        "canonical_formula": _STRING,
        "as_of": _STRING,
        "scenario": _STRING,
        "hree": _object({
            "unit": {"const": "g/kg", "type": "string"},
            "sets": {"type": "object", "additionalProperties": _object({
                "elements": {"type": "object", "additionalProperties": _NUMBER},
                "total": _NUMBER,
            })},
        }),
        "concentration": _object({stage: _STAGE for stage in STAGES}),
        "export_controls": _object({
            "controlled_mass_share": _NUMBER,
            "elements": {"type": "array", "items": _object({
                "element": _STRING, "mass_fraction": _NUMBER,
                "events": {"type": "array", "items": _object({
                    "event_id": _STRING, "announcement": _STRING, "action": _STRING,
                    "effective": {"type": ["string", "null"]},
                })},
            })},
        }),
        "supply_risk": _object({
            "risk_value_weighted": _NULLABLE_NUMBER, "driver_value_weighted": _STRING,
            "cost_usd_per_kg": _NULLABLE_NUMBER, "priced_mass_fraction": _NUMBER,
            "risk_mass_weighted": _NULLABLE_NUMBER, "driver_mass_weighted": _STRING,
            "risk_weakest_link": _NULLABLE_NUMBER, "driver_weakest_link": _STRING,
            "weakest_link_threshold": _NUMBER, "covered_mass_fraction": _NUMBER,
        }),
        "data_vintage": _object({
            "elements": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": {"type": ["integer", "null"]}}},
            "tables": {"type": "object", "additionalProperties": _object({
                "years": {"type": "array", "items": {"type": "integer"}}, "sha256": _STRING})},
            "export_control_events_through": _STRING,
            "magnetscreen_version": _STRING,
        }),
    }),
}


def _round(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits))


def _stage_block(stage: str, present: list[tuple[str, float]], inputs: SupplyInputs, threshold_share: float) -> dict:
    elements: list[dict] = []
    without: list[str] = []
    by_country: dict[str, float] = {}
    concentrated = missing = 0.0
    for symbol, mass in present:
        data = inputs.shares.get((symbol, stage))
        named = [(c, s) for c, s in zip(data.countries, data.shares) if c != "ROW"] if data else []
        if data is None or not named:
            without.append(symbol)
            missing += mass
            continue
        country, share = max(named, key=lambda cs: cs[1])
        if share >= threshold_share:
            elements.append({"element": symbol, "mass_fraction": _round(mass), "country": country,
                             "share": _round(share, 4), "year": int(data.year)})
            by_country[country] = by_country.get(country, 0.0) + mass
            concentrated += mass
    return {
        "threshold_share": threshold_share,
        "concentrated_mass_share": _round(concentrated),
        "by_country": {c: _round(m) for c, m in sorted(by_country.items())},
        "elements": elements,
        "mass_share_without_data": _round(missing),
        "elements_without_data": without,
    }


def disclose(compositions: Iterable | str, as_of: dt.date | str | None = None,
             scenario: str | Scenario | SupplyInputs | None = None, weights: RiskWeights | None = None,
             threshold_share: float = 0.5, threshold: float = DEFAULT_THRESHOLD) -> list[dict]:
    """Disclosure records (schema ``magnetscreen-disclosure`` 1.0), one per composition, in input order.

    Parameters
    ----------
    compositions : formula or iterable of formulas
    as_of : date or ISO str, optional
        Date of the export-control status; default today.
    scenario : str, Scenario or SupplyInputs, optional
        Default the shipped data (``baseline``).
    weights : RiskWeights, optional
        Weights of the supply-risk scores reported in ``supply_risk``.
    threshold_share : float, default=0.5
        A stage counts as concentrated in one country when that country's share is at least this.
    threshold : float, default=0.005
        Mass-fraction threshold of the weakest-link score.

    Returns
    -------
    list of dict
        JSON-ready records following :data:`DISCLOSURE_JSON_SCHEMA`.
    """
    if not (isinstance(threshold_share, (int, float)) and 0.0 < threshold_share <= 1.0):
        raise ConfigError(f"threshold_share: expected a share in (0, 1], got {threshold_share!r}")
    if isinstance(compositions, str) or hasattr(compositions, "items"):
        compositions = [compositions]
    compositions = list(compositions)
    date = parse_as_of(as_of)
    inputs = resolve_inputs(scenario)
    batch = encode(compositions)
    risk = composition_risk(compositions, date, inputs, weights, threshold)
    controls = active_controls(date, inputs.events)
    symbols = element_symbols()
    sets = {name: (hree_set(name).elements, hree_intensity(batch, name)) for name in hree_set_names()}
    tables = {name: {"years": [int(y) for y in v["years"]], "sha256": v["sha256"]}
              for name, v in inputs.vintage.items() if isinstance(v, dict)}
    records = []
    for i in range(len(batch)):
        present = [(symbols[z], float(m)) for z, m in zip(batch.elements[i], batch.mass_fractions[i]) if z > 0]
        mass_of = dict(present)
        hree = {}
        for name, (members, totals) in sets.items():
            hree[name] = {"elements": {e: _round(1000.0 * mass_of.get(e, 0.0)) for e in members},
                          "total": _round(totals[i])}
        controlled = []
        for symbol, mass in present:
            if symbol in controls:
                controlled.append({"element": symbol, "mass_fraction": _round(mass), "events": [
                    {"event_id": e.event_id, "announcement": e.announcement, "action": e.action,
                     "effective": e.effective.isoformat() if e.effective else None} for e in controls[symbol]]})
        vintage_elements = {}
        for symbol, _ in present:
            years = {}
            for stage in STAGES:
                data = inputs.shares.get((symbol, stage))
                years[stage] = int(data.year) if data else None
            for key, table in (("import_reliance", inputs.import_reliance), ("feoc_share", inputs.feoc_share),
                               ("eol_rir", inputs.eol_rir), ("substitution_index", inputs.substitution_index)):
                years[key] = int(table[symbol][1]) if symbol in table else None
            vintage_elements[symbol] = years
        row = risk.iloc[i]

        def number(x):
            return None if not math.isfinite(float(x)) else _round(x)

        records.append({
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "formula": str(row["formula"]),
            "canonical_formula": str(row["canonical_formula"]),
            "as_of": date.isoformat(),
            "scenario": inputs.scenario,
            "hree": {"unit": "g/kg", "sets": hree},
            "concentration": {stage: _stage_block(stage, present, inputs, float(threshold_share)) for stage in STAGES},
            "export_controls": {"controlled_mass_share": _round(sum(c["mass_fraction"] for c in controlled)),
                                "elements": controlled},
            "supply_risk": {
                "risk_value_weighted": number(row["risk_value_weighted"]),
                "driver_value_weighted": str(row["driver_value_weighted"]),
                "cost_usd_per_kg": number(row["cost_usd_per_kg"]),
                "priced_mass_fraction": _round(row["priced_mass_fraction"]),
                "risk_mass_weighted": number(row["risk_mass_weighted"]),
                "driver_mass_weighted": str(row["driver_mass_weighted"]),
                "risk_weakest_link": number(row["risk_weakest_link"]),
                "driver_weakest_link": str(row["driver_weakest_link"]),
                "weakest_link_threshold": float(threshold),
                "covered_mass_fraction": _round(row["covered_mass_fraction"]),
            },
            "data_vintage": {
                "elements": vintage_elements,
                "tables": tables,
                "export_control_events_through": str(inputs.vintage.get("events_through", "")),
                "magnetscreen_version": package_version(),
            },
        })
    return records
