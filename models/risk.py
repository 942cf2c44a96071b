"""Supply risk of elements and of compositions: a transparent, dated, documented formula.

Element risk (every component in [0, 1], reported; the weights are :class:`RiskWeights` parameters)::

    concentration  C = max over stages (mining, refining) of HHI_stage / 10 000
    governance     G = max over stages of sum_i s_i g_i / sum_i s_i      (GeoPolRisk idea)
    import         I = US net import reliance / 100
    feoc           F = share of US imports from foreign entities of concern
    base           B = sum_k w_k x_k / sum_k w_k   over the components x_k in {C, G, I, F}
    control        X = max severity of the export controls in force at ``as_of`` (licensing 0.5, ban 1.0)
    mitigation     M = (1 - w_rec * EOL_RIR) * (1 - w_sub * (1 - SI))   (a missing value gives a factor 1)
    risk           R = (B + w_ctl * X * (1 - B)) * M

``HHI_stage = 10 000 * sum_i s_i^2`` over the named countries (the rest-of-world residual ``ROW`` is many
small producers and adds nothing: the HHI is a lower bound where a source lists only the top producers).
``g_i = (2.5 - mean of the six WGI estimates of country i) / 5`` in [0, 1]; ``ROW`` gets
``RiskWeights.row_governance_risk``. Missing components are never zeros: a missing base component takes
the documented neutral value ``RiskWeights.neutral_value`` (0.5), or, with ``renormalize_missing=True``,
B renormalizes over the components present; ``coverage`` reports the weight share with data and
``missing`` names the rest. A missing mitigation value gives no credit (factor 1) and is listed in
``missing``. An element with no base component at all has risk NaN and is left out of composition scores
(``covered_mass_fraction`` says how much mass that was).

Composition risk, three ways (kernels in :mod:`magnetscreen.models.risk_kernels`; the choice is argued with
worked examples in ``docs/supply-risk.md``):

- value-weighted (the default, :data:`DEFAULT_METHOD`): ``sum_j v_j R_j / sum_j v_j`` with ``v_j = m_j p_j``
  the element's share of the raw-material value of the composition (mass fraction times price per kg of
  element, :mod:`magnetscreen.datasets.prices`), over elements with a risk and a price; driver = largest
  ``v_j R_j``. Weighting by economic value is the economic-importance idea of the EU criticality method:
  the element a magnet's value depends on, not the one its mass is made of, drives the risk;
- mass-exposure-weighted: ``sum_j m_j R_j / sum_j m_j`` over elements with a risk, driver = largest
  ``m_j R_j``;
- weakest link: ``max_j R_j`` over elements with ``m_j >= threshold`` (default 0.005), driver = that element.

Raw-material cost per kg of composition is ``sum_j m_j p_j`` over the priced elements (a lower bound where
some mass has no price: ``priced_mass_fraction`` says how much was priced), with a low/high band from the
price bands.

References
----------
Gemechu et al., J. Ind. Ecol. 20, 154 (2016), doi:10.1111/jiec.12279 (GeoPolRisk);
European Commission, Methodology for establishing the EU list of critical raw materials (2017),
doi:10.2873/769526 (HHI weighted by WGI, corrected by EOL-RIR and substitution);
Nassar et al., Sci. Adv. 6, eaay8647 (2020), doi:10.1126/sciadv.aay8647 (USGS supply-risk method).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from magnetscreen.datasets.elements import N_Z, element_symbols, symbol_to_z
from magnetscreen.datasets.errors import ConfigError
from magnetscreen.datasets.prices import element_prices, price_vintage
from magnetscreen.datasets.schema import parse_date
from magnetscreen.datasets.supply import (
    RARE_EARTHS,
    ROW,
    STAGES,
    Scenario,
    SupplyInputs,
    active_controls,
    apply_scenario,
    load_scenario,
    supply_inputs,
)
from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.models.risk_kernels import composition_risk_kernel, value_risk_cost_kernel

__all__ = [
    "METHODS",
    "DEFAULT_METHOD",
    "PriceArrays",
    "element_price_arrays",
    "data_vintage",
    "vintage_warning",
    "risk_contributions",
    "RiskWeights",
    "COMPONENTS",
    "DEFAULT_THRESHOLD",
    "hhi",
    "parse_as_of",
    "resolve_inputs",
    "element_risk",
    "element_risk_array",
    "composition_risk_arrays",
    "composition_risk",
]

#: Base components, in the order of the formula.
COMPONENTS = ("concentration", "governance", "import_reliance", "feoc_share")
#: Default minimum mass fraction of an element for the weakest link.
DEFAULT_THRESHOLD = 0.005
#: Ways of combining element risks into a composition risk; the first is the default.
METHODS = ("value_weighted", "mass_weighted", "weakest_link")
DEFAULT_METHOD = METHODS[0]


@dataclass(frozen=True)
class RiskWeights:
    """Parameters of the element-risk formula (see the module docstring).

    Parameters
    ----------
    concentration, governance, import_reliance, feoc_share : float, default=0.35, 0.25, 0.20, 0.20
        Weights of the base components (>= 0, not all 0); renormalized over the components with data.
    export_control : float, default=0.5
        Share of the remaining headroom ``1 - B`` that an export control of severity 1 adds.
    licensing_severity, ban_severity : float, default=0.5, 1.0
        Severity of a licensing requirement and of a ban, in [0, 1].
    recycling : float, default=1.0
        Credit per unit of end-of-life recycling input rate (EU method: 1).
    substitution : float, default=1.0
        Credit per unit of substitutability ``1 - SI`` (EU method: 1).
    row_governance_risk : float, default=0.5
        Governance risk given to the rest-of-world residual ``ROW`` (neutral midpoint).
    neutral_value : float, default=0.5
        Value taken by a base component without data (unless ``renormalize_missing``).
    renormalize_missing : bool, default=False
        Renormalize the base weights over the components with data instead of using ``neutral_value``.
    """

    concentration: float = 0.35
    governance: float = 0.25
    import_reliance: float = 0.20
    feoc_share: float = 0.20
    export_control: float = 0.5
    licensing_severity: float = 0.5
    ban_severity: float = 1.0
    recycling: float = 1.0
    substitution: float = 1.0
    row_governance_risk: float = 0.5
    neutral_value: float = 0.5
    renormalize_missing: bool = False

    def __post_init__(self):
        if not isinstance(self.renormalize_missing, bool):
            raise ConfigError(f"risk weight renormalize_missing: expected true or false, "
                              f"got {self.renormalize_missing!r}")
        for f in fields(self):
            if f.name == "renormalize_missing":
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"risk weight {f.name}: expected a finite number, got {value!r}")
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"risk weight {f.name}: expected a number in [0, 1], got {value!r}")
        if sum(getattr(self, k) for k in COMPONENTS) <= 0.0:
            raise ConfigError(f"risk weights {', '.join(COMPONENTS)}: at least one must be > 0, all are 0")

    def severity(self, action: str) -> float:
        return self.ban_severity if action == "ban" else self.licensing_severity


def hhi(shares: Iterable[float]) -> float:
    """Herfindahl-Hirschman index ``sum (100 s_i)^2`` of shares given as fractions, capped at 10 000.

    Examples
    --------
    >>> hhi([0.5, 0.3, 0.2])
    3800.0
    """
    return min(10000.0, float(sum((100.0 * s) ** 2 for s in shares)))


def parse_as_of(as_of: dt.date | str | None, where: str = "--as-of") -> dt.date:
    """A date from a ``datetime.date``, an ISO string ``YYYY-MM-DD`` or ``None`` (today); ConfigError otherwise."""
    if as_of is None:
        return dt.date.today()
    return parse_date(as_of, where, ConfigError)


def resolve_inputs(scenario: str | Scenario | SupplyInputs | None = None) -> SupplyInputs:
    """The inputs of a scenario: ``None`` or ``"baseline"`` (shipped data), a name, a TOML path or a Scenario."""
    if isinstance(scenario, SupplyInputs):
        return scenario
    base = supply_inputs()
    if scenario is None:
        return base
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return apply_scenario(base, scenario)


def _stage(inputs: SupplyInputs, element: str, stage: str, weights: RiskWeights) -> dict:
    data = inputs.shares.get((element, stage))
    if data is None:
        return {f"hhi_{stage}": math.nan, f"governance_{stage}": math.nan, f"{stage}_top_country": "",
                f"{stage}_top_share": math.nan, f"{stage}_year": 0}
    named = [s for c, s in zip(data.countries, data.shares) if c != ROW]
    total = sum(data.shares)
    gov = sum(s * (weights.row_governance_risk if c == ROW else inputs.governance[c])
              for c, s in zip(data.countries, data.shares)) / total if total > 0 else math.nan
    top = max((c for c in data.countries if c != ROW), key=lambda c: data.shares[data.countries.index(c)],
              default="")
    return {f"hhi_{stage}": hhi(named), f"governance_{stage}": min(1.0, max(0.0, gov)),
            f"{stage}_top_country": top,
            f"{stage}_top_share": data.shares[data.countries.index(top)] if top else math.nan,
            f"{stage}_year": data.year}


def _element_row(element: str, inputs: SupplyInputs, controls: dict, weights: RiskWeights) -> dict:
    row: dict = {"element": element, "Z": symbol_to_z()[element]}
    for stage in STAGES:
        row.update(_stage(inputs, element, stage, weights))
    missing = []
    hhis = {s: row[f"hhi_{s}"] for s in STAGES if not math.isnan(row[f"hhi_{s}"])}
    if hhis:
        stage = max(hhis, key=lambda s: (hhis[s], s == "refining"))
        row["concentration"], row["concentration_stage"] = hhis[stage] / 10000.0, stage
    else:
        row["concentration"], row["concentration_stage"] = math.nan, ""
    govs = [row[f"governance_{s}"] for s in STAGES if not math.isnan(row[f"governance_{s}"])]
    row["governance"] = max(govs) if govs else math.nan
    row["import_reliance"] = inputs.import_reliance.get(element, (math.nan,))[0]
    row["feoc_share"] = inputs.feoc_share.get(element, (math.nan,))[0]
    used = [k for k in COMPONENTS if not math.isnan(row[k])]
    missing += [k for k in COMPONENTS if k not in used]
    total_weight = sum(getattr(weights, k) for k in COMPONENTS)
    used_weight = sum(getattr(weights, k) for k in used)
    row["coverage"] = used_weight / total_weight
    if not used:
        row["base"] = math.nan
    elif weights.renormalize_missing:
        row["base"] = sum(getattr(weights, k) * row[k] for k in used) / used_weight if used_weight > 0 else math.nan
    else:
        row["base"] = sum(getattr(weights, k) * (row[k] if k in used else weights.neutral_value)
                          for k in COMPONENTS) / total_weight
    events = controls.get(element, ())
    row["export_control"] = max((weights.severity(e.action) for e in events), default=0.0)
    row["export_control_events"] = " ".join(e.event_id for e in events)
    row["eol_rir"] = inputs.eol_rir.get(element, (math.nan,))[0]
    row["substitution_index"] = inputs.substitution_index.get(element, (math.nan,))[0]
    factor = 1.0
    if math.isnan(row["eol_rir"]):
        missing.append("eol_rir")
    else:
        factor *= 1.0 - weights.recycling * row["eol_rir"]
    if math.isnan(row["substitution_index"]):
        missing.append("substitution_index")
    else:
        factor *= 1.0 - weights.substitution * (1.0 - row["substitution_index"])
    row["mitigation"] = factor
    base = row["base"]
    raw = base + weights.export_control * row["export_control"] * (1.0 - base)
    row["risk"] = min(1.0, max(0.0, raw * factor)) if not math.isnan(base) else math.nan
    row["missing"] = " ".join(missing)
    row["import_reliance_year"] = inputs.import_reliance.get(element, (0, 0))[1]
    row["feoc_share_year"] = inputs.feoc_share.get(element, (0, 0))[1]
    return row


_ORDER = ["element", "Z", "risk", "base", "coverage", "concentration", "concentration_stage", "governance",
          "import_reliance", "feoc_share", "export_control", "export_control_events", "eol_rir",
          "substitution_index", "mitigation", "missing", "hhi_mining", "hhi_refining", "governance_mining",
          "governance_refining", "mining_top_country", "mining_top_share", "refining_top_country",
          "refining_top_share", "mining_year", "refining_year", "import_reliance_year", "feoc_share_year"]


def element_risk(as_of: dt.date | str | None = None, scenario: str | Scenario | SupplyInputs | None = None,
                 weights: RiskWeights | None = None, elements: Sequence[str] | None = None) -> pd.DataFrame:
    """Risk and every component of each element, as of a date, under a scenario.

    Parameters
    ----------
    as_of : date or ISO str, optional
        Date at which export controls are evaluated; default today.
    scenario : str, Scenario or SupplyInputs, optional
        ``"baseline"`` (default), a built-in scenario name, a scenario TOML path, or prepared inputs.
    weights : RiskWeights, optional
    elements : sequence of str, optional
        Default: every element with data, and every rare earth.

    Returns
    -------
    DataFrame
        One row per element (by atomic number): ``risk`` and ``base`` in [0, 1] (NaN: no data),
        ``coverage``, the components, ``hhi_mining``/``hhi_refining`` (0-10 000), the top country and
        share per stage, ``export_control_events`` (ids in force), ``missing`` (components without data)
        and data years. ``attrs`` holds ``as_of``, ``scenario``, ``weights`` and the data vintage.
    """
    date = parse_as_of(as_of)
    inputs = resolve_inputs(scenario)
    weights = RiskWeights() if weights is None else weights
    controls = active_controls(date, inputs.events)
    z_of = symbol_to_z()
    if elements is None:
        elements = sorted(set(inputs.elements()) | set(RARE_EARTHS), key=z_of.__getitem__)
    for symbol in elements:
        if symbol not in z_of:
            raise ConfigError(f"unknown element {symbol!r}")
    frame = pd.DataFrame([_element_row(e, inputs, controls, weights) for e in elements], columns=_ORDER)
    frame.attrs = {"as_of": date.isoformat(), "scenario": inputs.scenario, "weights": asdict(weights),
                   "vintage": dict(inputs.vintage)}
    return frame


def element_risk_array(as_of: dt.date | str | None = None, scenario: str | Scenario | SupplyInputs | None = None,
                       weights: RiskWeights | None = None) -> np.ndarray:
    """Element risk indexed by atomic number, float64 of shape (N_Z,); NaN where an element has no data."""
    table = element_risk(as_of, scenario, weights)
    out = np.full(N_Z, np.nan, dtype=np.float64)
    out[table["Z"].to_numpy()] = table["risk"].to_numpy(dtype=np.float64)
    return out


@dataclass(frozen=True)
class PriceArrays:
    """Element prices in US dollars per kg of element, indexed by atomic number (NaN: no price)."""

    mid: np.ndarray
    low: np.ndarray
    high: np.ndarray
    table: pd.DataFrame

    def __post_init__(self):
        for name in ("mid", "low", "high"):
            value = np.ascontiguousarray(getattr(self, name), dtype=np.float64)
            if value.shape != (N_Z,):
                raise ValueError(f"price array {name} must have shape ({N_Z},), got {value.shape}")
            object.__setattr__(self, name, value)


def element_price_arrays(as_of: dt.date | str | None = None,
                         scenario: str | Scenario | SupplyInputs | None = None) -> PriceArrays:
    """Element prices as of a date under a scenario's price shocks (see :func:`element_prices`)."""
    date = parse_as_of(as_of)
    inputs = resolve_inputs(scenario)
    table = element_prices(date, inputs.price_scale)
    arrays = {}
    for name, column in (("mid", "usd_per_kg"), ("low", "usd_per_kg_low"), ("high", "usd_per_kg_high")):
        values = np.full(N_Z, np.nan)
        values[table["Z"].to_numpy()] = table[column].to_numpy(dtype=np.float64)
        arrays[name] = values
    return PriceArrays(arrays["mid"], arrays["low"], arrays["high"], table)


def data_vintage() -> dict[str, dt.date]:
    """Dates at which the shipped supply data end: the newest export-control event (announced or effective),
    the end of the newest data year of the share, trade and mitigation tables, and the newest price quote."""
    inputs = supply_inputs()
    events = [d for e in inputs.events for d in (e.announced, e.effective) if d is not None]
    years = [inputs.vintage[name]["years"][1] for name in ("production", "trade", "mitigation")]
    return {"export_controls": max(events), "supply_tables": dt.date(max(years), 12, 31), "prices": price_vintage()}


def vintage_warning(as_of: dt.date) -> str | None:
    """A warning when ``as_of`` is later than the newest export-control event or price quote shipped."""
    vintage = data_vintage()
    late = {k: v for k, v in vintage.items() if k in ("export_controls", "prices") and as_of > v}
    if not late:
        return None
    labels = {"export_controls": "export-control events", "prices": "price quotes"}
    parts = ", ".join(f"{labels[k]} end {v.isoformat()}" for k, v in late.items())
    return (f"as_of {as_of.isoformat()} is later than the shipped supply data ({parts}): controls announced or "
            "prices moved since then are not included; pass --as-of (or [supply] as_of) to state the date "
            "the data describe")


def composition_risk_arrays(batch: CompositionBatch, risk: np.ndarray,
                            threshold: float = DEFAULT_THRESHOLD,
                            prices: PriceArrays | None = None) -> dict[str, np.ndarray]:
    """Composition risk of an encoded batch, for the screening loop (no per-candidate Python).

    Parameters
    ----------
    batch : CompositionBatch
    risk : ndarray of float64, shape (N_Z,)
        From :func:`element_risk_array`.
    threshold : float, default=0.005
        Minimum mass fraction of an element for the weakest link.
    prices : PriceArrays, optional
        From :func:`element_price_arrays`; adds the value-weighted risk and the cost.

    Returns
    -------
    dict of str to ndarray, shape (n,)
        ``risk_mass_weighted``, ``driver_mass_weighted_Z``, ``risk_weakest_link``,
        ``driver_weakest_link_Z`` (atomic numbers, 0 = none) and ``covered_mass_fraction``; with
        ``prices`` also ``risk_value_weighted``, ``driver_value_weighted_Z``, ``cost_usd_per_kg``,
        ``cost_usd_per_kg_low``, ``cost_usd_per_kg_high`` and ``priced_mass_fraction``.
    """
    risk = np.ascontiguousarray(risk, dtype=np.float64)
    if risk.shape != (N_Z,):
        raise ValueError(f"risk must have shape ({N_Z},), got {risk.shape}")
    finite = risk[np.isfinite(risk)]
    if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
        raise ValueError(f"element risk must lie in [0, 1], got values in [{finite.min()}, {finite.max()}]")
    if not (isinstance(threshold, (int, float)) and 0.0 <= threshold <= 1.0):
        raise ConfigError(f"threshold: expected a mass fraction in [0, 1], got {threshold!r}")
    elements = np.ascontiguousarray(batch.elements, dtype=np.int16)
    masses = np.ascontiguousarray(batch.mass_fractions, dtype=np.float64)
    weighted, wdriver, weakest, kdriver, covered = composition_risk_kernel(elements, masses, risk, float(threshold))
    out = {"risk_mass_weighted": weighted, "driver_mass_weighted_Z": wdriver, "risk_weakest_link": weakest,
           "driver_weakest_link_Z": kdriver, "covered_mass_fraction": covered}
    if prices is not None:
        value, vdriver, cost, low, high, priced = value_risk_cost_kernel(elements, masses, risk, prices.mid,
                                                                         prices.low, prices.high)
        out.update({"risk_value_weighted": value, "driver_value_weighted_Z": vdriver, "cost_usd_per_kg": cost,
                    "cost_usd_per_kg_low": low, "cost_usd_per_kg_high": high, "priced_mass_fraction": priced})
    return out


def risk_contributions(batch: CompositionBatch, risk: np.ndarray, prices: PriceArrays | None = None
                       ) -> list[tuple[dict[str, float], float]]:
    """Each element's share of a composition's risk, for a small batch: ``w_j R_j / sum w_j`` with ``w_j``
    the element's raw-material value ``m_j p_j`` when ``prices`` are given (the value-weighted risk), its mass
    fraction ``m_j`` otherwise (the mass-weighted risk).

    The sums run over the elements with a risk (and a price) as :func:`composition_risk_arrays` does, so the
    contributions of a composition add up to its risk. Returns, per row, the contributions by element
    symbol and the mass fraction covered by supply data (and prices).
    """
    symbols = element_symbols()
    out = []
    for zs, masses in zip(batch.elements.tolist(), batch.mass_fractions.tolist()):
        present = [(int(z), float(m)) for z, m in zip(zs, masses) if z > 0]
        covered = [(z, m) for z, m in present if np.isfinite(risk[z])]
        if prices is not None:
            covered = [(z, m) for z, m in covered if np.isfinite(prices.mid[z])]
            weight = {z: m * float(prices.mid[z]) for z, m in covered}
        else:
            weight = dict(covered)
        total = sum(weight.values())
        contributions = {symbols[z]: w * float(risk[z]) / total for z, w in weight.items()} if total > 0 else {}
        out.append((contributions, sum(m for _, m in covered)))
    return out


def _mass_weighted(batch: CompositionBatch, values: np.ndarray) -> np.ndarray:
    """``sum m_j v_j / sum m_j`` over elements with a finite value, per row (NaN if none)."""
    v = values[batch.elements]
    ok = np.isfinite(v) & (batch.elements > 0)
    mass = np.where(ok, batch.mass_fractions, 0.0).sum(axis=1)
    acc = np.where(ok, batch.mass_fractions * np.where(ok, v, 0.0), 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, acc / np.where(mass > 0, mass, 1.0), np.nan)


def composition_risk(compositions: Iterable | str, as_of: dt.date | str | None = None,
                     scenario: str | Scenario | SupplyInputs | None = None, weights: RiskWeights | None = None,
                     threshold: float = DEFAULT_THRESHOLD, method: str = DEFAULT_METHOD) -> pd.DataFrame:
    """Supply-risk and cost breakdown of compositions: one row per input, every way of combining element risks
    with the element that drives it, and the raw-material cost.

    Parameters
    ----------
    compositions : formula, or iterable of formulas or ``{element: amount}`` mappings
    as_of, scenario, weights : see :func:`element_risk`
    threshold : float, default=0.005
        Minimum mass fraction for the weakest link.
    method : {"value_weighted", "mass_weighted", "weakest_link"}, default "value_weighted"
        The combination reported as ``risk`` and ``driver``.

    Returns
    -------
    DataFrame
        ``formula`` (as given), ``canonical_formula``, ``risk`` and ``driver`` (the ``method`` chosen),
        ``risk_value_weighted``, ``risk_mass_weighted`` and ``risk_weakest_link`` (each in [0, 1], with
        ``driver_value_weighted``, ``driver_mass_weighted``, ``driver_weakest_link``: element symbols),
        ``cost_usd_per_kg`` with ``cost_usd_per_kg_low``/``_high`` and ``priced_mass_fraction``,
        ``covered_mass_fraction`` (mass with a risk), ``elements_without_data``, ``elements_without_price``,
        the mass-weighted components (``concentration``, ``governance``, ``import_reliance``,
        ``feoc_share``, ``export_control``, ``mitigation``), the controlled elements in the composition,
        ``as_of`` and ``scenario``. ``attrs`` holds the element risk table (``elements``) and the element
        prices (``prices``).

    Examples
    --------
    >>> frame = composition_risk(["Nd2Fe14B"], as_of="2025-05-01")
    >>> frame.loc[0, "driver"], frame.loc[0, "driver_weakest_link"]
    ('Nd', 'Nd')
    """
    if method not in METHODS:
        raise ConfigError(f"risk method: expected one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(compositions, str) or hasattr(compositions, "items"):
        compositions = [compositions]
    compositions = list(compositions)
    batch = encode(compositions)
    date = parse_as_of(as_of)
    inputs = resolve_inputs(scenario)
    table = element_risk(date, inputs, weights)
    prices = element_price_arrays(date, inputs)
    risk = np.full(N_Z, np.nan)
    risk[table["Z"].to_numpy()] = table["risk"].to_numpy(dtype=np.float64)
    arrays = composition_risk_arrays(batch, risk, threshold, prices)
    symbols = np.array(element_symbols(), dtype=object)
    by_z = {}
    for column in COMPONENTS + ("export_control", "mitigation"):
        values = np.full(N_Z, np.nan)
        values[table["Z"].to_numpy()] = table[column].to_numpy(dtype=np.float64)
        by_z[column] = values
    controlled = {row.element: row.export_control_events for row in table.itertuples() if row.export_control_events}
    rows_without, rows_unpriced, rows_controlled = [], [], []
    for i in range(len(batch)):
        present = [(symbols[z], z) for z in batch.elements[i] if z > 0]
        rows_without.append(" ".join(s for s, z in present if not np.isfinite(risk[z])))
        rows_unpriced.append(" ".join(s for s, z in present if not np.isfinite(prices.mid[z])))
        rows_controlled.append(" ".join(s for s, _ in present if s in controlled))
    drivers = {m: symbols[arrays[f"driver_{m}_Z"]] for m in METHODS}
    frame = pd.DataFrame({
        "formula": [c if isinstance(c, str) else str(dict(c)) for c in compositions],
        "canonical_formula": batch.names(),
        "risk": arrays[f"risk_{method}"],
        "driver": drivers[method],
        **{k: v for m in METHODS for k, v in ((f"risk_{m}", arrays[f"risk_{m}"]), (f"driver_{m}", drivers[m]))},
        "cost_usd_per_kg": arrays["cost_usd_per_kg"],
        "cost_usd_per_kg_low": arrays["cost_usd_per_kg_low"],
        "cost_usd_per_kg_high": arrays["cost_usd_per_kg_high"],
        "priced_mass_fraction": arrays["priced_mass_fraction"],
        "covered_mass_fraction": arrays["covered_mass_fraction"],
        "elements_without_data": rows_without,
        "elements_without_price": rows_unpriced,
        **{column: _mass_weighted(batch, values) for column, values in by_z.items()},
        "controlled_elements": rows_controlled,
        "as_of": table.attrs["as_of"],
        "scenario": table.attrs["scenario"],
    })
    frame.attrs = {"elements": table, "prices": prices.table, "threshold": threshold, "method": method,
                   **table.attrs}
    return frame
