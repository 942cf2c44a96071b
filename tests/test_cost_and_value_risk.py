"""Raw-material prices and cost, value-weighted supply risk, price shocks and data-vintage warnings.

References: price conversions by hand from the rows of ``datasets/data/supply/prices.csv`` (USGS Mineral
Commodity Summaries 2026 salient statistics; SMM weekly review of 2026-01-30), mass fractions from
pymatgen's ``Composition.get_wt_fraction``, and a naive Python version of the value-weighted kernel.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from pymatgen.core import Composition

from magnetscreen.datasets.elements import N_Z, symbol_to_z
from magnetscreen.datasets.errors import ConfigError, DataError
from magnetscreen.datasets.prices import element_prices, price_vintage, usd_per_kg_of_element
from magnetscreen.datasets.supply import load_scenario, parse_scenario, scenario_names
from magnetscreen.descriptors.encoding import encode
from magnetscreen.models.risk import (
    composition_risk,
    composition_risk_arrays,
    data_vintage,
    element_price_arrays,
    element_risk_array,
    vintage_warning,
)
from magnetscreen.models.risk_kernels import value_risk_cost_kernel

AS_OF = "2026-06-01"  # a fixed date after every shipped quote: tests do not depend on today
LB = 0.45359237  # kg per pound (exact by definition)


# ----------------------------------------------------------------------------------------- conversions

def test_unit_and_form_conversions_match_hand_calculations():
    # MCS 2026 rare earths: Nd2O3 2025 average 73 USD/kg of oxide; Nd is 0.857353 of Nd2O3 by mass
    assert usd_per_kg_of_element(73.0, "USD/kg", "kg of Nd2O3 (gross oxide weight)", 0.857353) == \
        pytest.approx(73.0 / 0.857353, rel=1e-12)
    # MCS 2026 cobalt: LME cash 15 USD/lb of metal
    assert usd_per_kg_of_element(15.0, "USD/lb", "lb of cobalt metal", 1.0) == pytest.approx(15.0 / LB, rel=1e-12)
    # MCS 2026 copper: 440 US cents per lb
    assert usd_per_kg_of_element(440.0, "USc/lb", "lb of grade A copper cathode", 1.0) == \
        pytest.approx(4.40 / LB, rel=1e-12)
    # ammonia 450 USD per short ton (907.18474 kg), N is 0.822447 of NH3
    assert usd_per_kg_of_element(450.0, "USD/short-ton", "short ton of ammonia", 0.822447) == \
        pytest.approx(450.0 / 907.18474 / 0.822447, rel=1e-12)
    # manganese ore: 4.5 USD per metric ton unit (10 kg) of contained Mn: no division by the ore grade
    assert usd_per_kg_of_element(4.5, "USD/mt-unit", "metric ton unit of contained Mn", 0.44) == \
        pytest.approx(0.45, rel=1e-12)
    assert usd_per_kg_of_element(319.0, "USD/t", "t of scrap", 1.0) == pytest.approx(0.319, rel=1e-12)


@pytest.mark.parametrize("unit, basis, fraction, message", [
    ("USD/ton", "ton of celestite", 0.477, "USD/ton"),
    ("CNY/t", "ton of strontium carbonate", 0.59, "CNY/t"),
    ("USD/t", "t of imported boron products", None, "mass fraction"),
])
def test_conversions_that_cannot_be_made_are_refused(unit, basis, fraction, message):
    with pytest.raises(DataError, match=message):
        usd_per_kg_of_element(100.0, unit, basis, fraction)


def test_element_prices_pick_the_newest_eligible_quote_on_or_before_as_of():
    late = element_prices(dt.date(2026, 6, 1)).set_index("element")
    # SMM 2026-01-30: Nd metal FOB 131-151 USD/kg -> midpoint 141, band the quoted range
    assert late.loc["Nd", "usd_per_kg"] == pytest.approx(141.0)
    assert (late.loc["Nd", "usd_per_kg_low"], late.loc["Nd", "usd_per_kg_high"]) == (131.0, 151.0)
    assert late.loc["Nd", "date"] == "2026-01-30"
    # SMM 2026-01-30: Dy2O3 FOB 271-311 USD/kg of oxide, Dy 0.871318 of Dy2O3
    assert late.loc["Dy", "usd_per_kg"] == pytest.approx(291.0 / 0.871318)
    assert late.loc["Dy", "usd_per_kg_high"] == pytest.approx(311.0 / 0.871318)
    # MCS 2026: Co LME cash 2025 average 15 USD/lb; band = the 2021-2025 averages 11.84 .. 28.83 USD/lb
    assert late.loc["Co", "usd_per_kg"] == pytest.approx(15.0 / LB)
    assert late.loc["Co", "usd_per_kg_low"] == pytest.approx(11.84 / LB)
    assert late.loc["Co", "usd_per_kg_high"] == pytest.approx(28.83 / LB)
    # steel scrap as the iron proxy: 319 USD/t
    assert late.loc["Fe", "usd_per_kg"] == pytest.approx(0.319)
    assert late.loc["O", "usd_per_kg"] == 0.0
    assert not late["after_as_of"].any()
    for element in ("B", "Mo", "Sr"):  # left out on purpose (module docstring)
        assert element not in late.index

    early = element_prices(dt.date(2025, 6, 1)).set_index("element")
    # before the SMM week and the 2025 average: the 2024 Nd2O3 average, 56 USD/kg of oxide, band 2021-2024
    assert early.loc["Nd", "usd_per_kg"] == pytest.approx(56.0 / 0.857353)
    assert early.loc["Nd", "usd_per_kg_low"] == pytest.approx(56.0 / 0.857353)
    assert early.loc["Nd", "usd_per_kg_high"] == pytest.approx(134.0 / 0.857353)
    assert early.loc["Nd", "date"] == "2024-12-31"

    oldest = element_prices(dt.date(2000, 1, 1)).set_index("element")
    assert oldest.loc["Nd", "after_as_of"] and oldest.loc["Nd", "date"] == "2021-12-31"


def test_price_shock_scales_price_and_band_of_the_named_elements_only():
    base = element_price_arrays(AS_OF)
    shocked = element_price_arrays(AS_OF, "china-halts-dy-tb")
    for symbol in ("Dy", "Tb"):
        z = symbol_to_z()[symbol]
        assert shocked.mid[z] == pytest.approx(3.0 * base.mid[z])
        assert shocked.low[z] == pytest.approx(3.0 * base.low[z])
    others = [z for z in range(N_Z) if z not in (symbol_to_z()["Dy"], symbol_to_z()["Tb"])]
    np.testing.assert_array_equal(shocked.mid[others], base.mid[others])


def test_scenario_price_entries_are_validated():
    base = {"name": "x", "date": "2026-01-01", "description": "d"}
    parsed = parse_scenario({**base, "price": [{"elements": ["Nd"], "scale": 2.0},
                                               {"elements": ["Nd", "Co"], "scale": 1.5}]})
    assert [(c.elements, c.scale) for c in parsed.prices] == [(("Nd",), 2.0), (("Nd", "Co"), 1.5)]
    with pytest.raises(ConfigError, match="'B' has no price"):
        parse_scenario({**base, "price": [{"elements": ["B"], "scale": 2.0}]})
    with pytest.raises(ConfigError, match="scale"):
        parse_scenario({**base, "price": [{"elements": ["Nd"], "scale": 0.0}]})
    with pytest.raises(ConfigError, match="factor"):
        parse_scenario({**base, "price": [{"elements": ["Nd"], "scale": 2.0, "factor": 3}]})


# ------------------------------------------------------------------------------------------ kernels

def _naive_value_risk(elements, masses, risk, price):
    out = []
    for zs, ms in zip(elements.tolist(), masses.tolist()):
        pairs = [(z, m) for z, m in zip(zs, ms) if z > 0]
        priced = [(z, m) for z, m in pairs if math.isfinite(price[z])]
        cost = sum(m * price[z] for z, m in priced) if priced else math.nan
        used = [(z, m * price[z]) for z, m in priced if math.isfinite(risk[z])]
        total = sum(v for _, v in used)
        if total <= 0:
            out.append((math.nan, 0, cost))
            continue
        mean = sum(v * risk[z] for z, v in used) / total
        lifts = [(v * (risk[z] - mean), z) for z, v in used]
        best = max(lifts, key=lambda t: t[0])  # first maximum in row order
        if best[0] > 1e-12 * total:
            driver = next(z for lift, z in lifts if lift == best[0])
        else:
            top = max(v * risk[z] for z, v in used)
            driver = next(z for z, v in used if v * risk[z] == top)
        out.append((mean, driver, cost))
    return out


def test_value_risk_cost_kernel_matches_a_naive_reference():
    rng = np.random.default_rng(7)
    n, w = 400, 5
    elements = np.zeros((n, w), dtype=np.int16)
    masses = np.zeros((n, w))
    for i in range(n):
        k = rng.integers(1, w + 1)
        zs = np.sort(rng.choice(np.arange(1, 40), size=k, replace=False))
        elements[i, :k] = zs
        m = rng.uniform(0.01, 1.0, k)
        masses[i, :k] = m / m.sum()
    risk = rng.uniform(0.0, 1.0, N_Z)
    risk[rng.choice(N_Z, 8, replace=False)] = np.nan
    price = rng.uniform(0.1, 300.0, N_Z)
    price[rng.choice(N_Z, 8, replace=False)] = np.nan
    price[5] = 0.0
    value, driver, cost, low, high, priced = value_risk_cost_kernel(elements, masses, risk, price, price * 0.5,
                                                                    price * 2.0)
    for i, (r, d, c) in enumerate(_naive_value_risk(elements, masses, risk, price)):
        assert (math.isnan(r) and math.isnan(value[i])) or value[i] == pytest.approx(r, rel=1e-12)
        assert driver[i] == d
        assert (math.isnan(c) and math.isnan(cost[i])) or cost[i] == pytest.approx(c, rel=1e-12)
        if math.isfinite(c):
            assert low[i] == pytest.approx(0.5 * c) and high[i] == pytest.approx(2.0 * c)


def test_cost_of_nd2fe14b_equals_a_hand_sum_over_pymatgen_mass_fractions():
    frame = composition_risk(["Nd2Fe14B"], as_of=AS_OF)
    comp = Composition("Nd2Fe14B")
    nd, fe, b = (comp.get_wt_fraction(e) for e in ("Nd", "Fe", "B"))
    assert frame.loc[0, "cost_usd_per_kg"] == pytest.approx(nd * 141.0 + fe * 0.319, rel=1e-6)
    assert frame.loc[0, "cost_usd_per_kg_low"] == pytest.approx(nd * 131.0 + fe * 314.85e-3, rel=1e-6)
    assert frame.loc[0, "priced_mass_fraction"] == pytest.approx(1.0 - b, rel=1e-6)  # no boron price
    assert frame.loc[0, "elements_without_price"] == "B"


# ------------------------------------------------------------------------ what a program manager expects

def test_drivers_name_the_rare_earth_that_is_the_choke_point():
    frame = composition_risk(["Nd2Fe14B", "(Nd0.75Pr0.25)2Fe14B", "(Pr0.8Nd0.2)2Fe14B", "(Nd0.8Dy0.2)2Fe14B",
                              "(Nd0.95Dy0.05)2Fe14B", "(Nd0.9Tb0.1)2Fe14B"], as_of=AS_OF).set_index("formula")
    assert frame.loc["Nd2Fe14B", "driver"] == "Nd"
    assert frame.loc["Nd2Fe14B", "driver_mass_weighted"] == "Fe"  # what the old default said
    assert frame.loc["(Nd0.75Pr0.25)2Fe14B", "driver"] in ("Nd", "Pr")
    assert frame.loc["(Pr0.8Nd0.2)2Fe14B", "driver"] == "Pr"
    assert frame.loc["(Nd0.8Dy0.2)2Fe14B", "driver"] == "Dy"
    assert frame.loc["(Nd0.95Dy0.05)2Fe14B", "driver"] == "Dy"
    assert frame.loc["(Nd0.9Tb0.1)2Fe14B", "driver"] == "Tb"
    assert (frame["risk"] == frame["risk_value_weighted"]).all()


def test_rare_earth_free_candidates_rank_well_below_nd2fe14b():
    frame = composition_risk(["Nd2Fe14B", "Fe16N2", "Mn0.55Al0.45", "FeNi", "SrFe12O19"],
                             as_of=AS_OF).set_index("formula")
    nd = frame.loc["Nd2Fe14B", "risk"]
    for formula in ("Fe16N2", "Mn0.55Al0.45", "FeNi", "SrFe12O19"):
        assert frame.loc[formula, "risk"] <= nd - 0.25, formula
    # the mass-weighted score put Fe16N2 only 0.12 below Nd2Fe14B
    assert frame.loc["Nd2Fe14B", "risk_mass_weighted"] - frame.loc["Fe16N2", "risk_mass_weighted"] < 0.15


def _default_2141_batch():
    from magnetscreen.datasets.families import builtin_family
    from magnetscreen.descriptors.enumeration import plan_enumeration

    plan = plan_enumeration(builtin_family("2-14-1"), chunk_size=1 << 20, seed=0)
    assert plan.n_chunks == 1
    return plan.chunk(0).batch


def test_china_halts_dy_tb_raises_every_dy_or_tb_candidate_visibly_and_no_other():
    batch = _default_2141_batch()
    scores = {}
    for scenario in ("baseline", "china-halts-dy-tb"):
        scores[scenario] = composition_risk_arrays(batch, element_risk_array(AS_OF, scenario), 0.005,
                                                   element_price_arrays(AS_OF, scenario))
    z = symbol_to_z()
    bearing = ((batch.elements == z["Dy"]) | (batch.elements == z["Tb"])).any(axis=1)
    assert bearing.sum() > 1000 and (~bearing).sum() > 1000
    rise = scores["china-halts-dy-tb"]["risk_value_weighted"] - scores["baseline"]["risk_value_weighted"]
    assert rise[bearing].min() >= 0.04  # every Dy/Tb-bearing 2-14-1 candidate of the default grid
    np.testing.assert_array_equal(rise[~bearing], 0.0)
    cost_rise = scores["china-halts-dy-tb"]["cost_usd_per_kg"] - scores["baseline"]["cost_usd_per_kg"]
    assert cost_rise[bearing].min() > 0 and not cost_rise[~bearing].any()
    # the mass-weighted score hardly sees the event: under 0.02 everywhere
    mass_rise = scores["china-halts-dy-tb"]["risk_mass_weighted"] - scores["baseline"]["risk_mass_weighted"]
    assert mass_rise[bearing].max() < 0.02


def _named_elements(name: str) -> set[str]:
    from magnetscreen.datasets.supply import export_control_events

    s = load_scenario(name)
    named = {e for c in s.production for e in c.elements} | {e for c in s.trade + s.mitigation for e in c.elements}
    named |= {e for c in s.prices for e in c.elements} | {e for ev in s.add_events for e in ev.elements}
    removed = set(s.remove_events)
    for event in export_control_events():
        if event.event_id in removed or event.refers_to in removed:
            named |= set(event.elements)
    return named


PROBES = ["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "(Nd0.9Tb0.1)2Fe14B", "(Nd0.9Ho0.1)2Fe14B", "SmCo5", "Sm2Fe17N3",
          "Ce2Fe14B", "Fe16N2", "FeNi", "Mn0.55Al0.45", "MnBi", "BaFe12O19"]


@pytest.mark.parametrize("name", [n for n in scenario_names() if n != "baseline"])
def test_each_shipped_scenario_moves_the_candidates_it_names(name):
    named = _named_elements(name)
    assert named, name
    base = composition_risk(PROBES, as_of=AS_OF).set_index("formula")
    moved = composition_risk(PROBES, as_of=AS_OF, scenario=name).set_index("formula")
    largest = 0.0
    for formula in PROBES:
        present = set(Composition(formula).as_dict())
        delta = abs(moved.loc[formula, "risk"] - base.loc[formula, "risk"])
        if present & named:
            # a named element that carries little of the value (Sm in SmCo5: about 5 %) moves it a little
            assert delta > 1e-3, (name, formula, delta)
            largest = max(largest, delta)
        else:
            assert delta == 0.0, (name, formula, delta)
    assert largest > 0.003, (name, largest)


# ------------------------------------------------------------------------------------ data vintage

def test_vintage_warning_when_as_of_is_later_than_the_newest_dated_input():
    vintage = data_vintage()
    assert vintage["prices"] == price_vintage() == dt.date(2026, 1, 30)
    assert vintage["export_controls"] >= dt.date(2025, 11, 1)
    first = min(vintage["prices"], vintage["export_controls"])
    assert vintage_warning(first) is None
    text = vintage_warning(first + dt.timedelta(days=1))  # later than the export-control events only
    assert text is not None and "export-control events end" in text and "price quotes" not in text
    text = vintage_warning(dt.date(2026, 12, 2))
    assert "export-control events end" in text and "price quotes end 2026-01-30" in text and "2026-12-02" in text


def test_risk_cli_json_gives_the_default_as_risk_and_driver_beside_every_method(capsys):
    from magnetscreen.screening.cli.app import main

    assert main(["risk", "Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "--format", "json", "--as-of", "2026-12-02"]) == 0
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert "warning: as_of 2026-12-02 is later" in captured.err
    for record in records:
        for key in ("risk", "driver", "risk_value_weighted", "risk_mass_weighted", "risk_weakest_link",
                    "driver_value_weighted", "driver_mass_weighted", "driver_weakest_link", "cost_usd_per_kg",
                    "cost_usd_per_kg_low", "cost_usd_per_kg_high", "priced_mass_fraction"):
            assert key in record, key
        assert record["risk"] == record["risk_value_weighted"] and record["method"] == "value_weighted"
        assert all("price_usd_per_kg" in e for e in record["elements"])
    assert [r["driver"] for r in records] == ["Nd", "Dy"]
    assert main(["risk", "Nd2Fe14B", "--format", "json", "--as-of", "2025-06-01", "--method", "mass_weighted"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)[0]
    assert record["risk"] == record["risk_mass_weighted"] and record["driver"] == "Fe"
    assert captured.err == ""  # 2025-06-01 is inside the data: no warning


def test_composition_risk_refuses_an_unknown_method():
    with pytest.raises(ConfigError, match="risk method.*'mass'"):
        composition_risk(["Nd2Fe14B"], as_of=AS_OF, method="mass")


def test_encode_agrees_with_pymatgen_on_the_mass_fractions_used_for_value_weights():
    batch = encode(["Sm2Fe17N3"])
    comp = Composition("Sm2Fe17N3")
    for z, m in zip(batch.elements[0], batch.mass_fractions[0]):
        if z:
            symbol = [s for s, k in symbol_to_z().items() if k == z][0]
            assert m == pytest.approx(comp.get_wt_fraction(symbol), rel=1e-6)
