"""Element and composition supply risk: hand calculations, naive twins of the kernels, pymatgen cross-check."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magnetscreen.datasets.elements import N_Z, element_symbols, symbol_to_z
from magnetscreen.datasets.errors import ConfigError
from magnetscreen.datasets.supply import apply_scenario, load_scenario, parse_scenario, scenario_names, supply_inputs
from magnetscreen.descriptors import batch_from_arrays, encode
from magnetscreen.models.risk import (
    COMPONENTS,
    RiskWeights,
    composition_risk,
    composition_risk_arrays,
    element_risk,
    element_risk_array,
    hhi,
)
from magnetscreen.models.risk_kernels import composition_risk_kernel

AS_OF = "2025-05-01"


def test_hhi_by_hand_for_three_countries():
    # 50 % + 30 % + 20 %: 2500 + 900 + 400
    assert hhi([0.5, 0.3, 0.2]) == pytest.approx(3800.0)
    assert hhi([1.0]) == 10000.0 and hhi([]) == 0.0
    scenario = parse_scenario({"name": "split", "date": dt.date(2025, 1, 1), "description": "three countries",
                               "production": [{"elements": ["Dy"], "stage": "mining",
                                               "shares": {"CHN": 0.6, "AUS": 0.3, "USA": 0.1}}]})
    table = element_risk(AS_OF, apply_scenario(supply_inputs(), scenario)).set_index("element")
    assert table.loc["Dy", "hhi_mining"] == pytest.approx(3600 + 900 + 100)
    governance = supply_inputs().governance
    expected = 0.6 * governance["CHN"] + 0.3 * governance["AUS"] + 0.1 * governance["USA"]
    assert table.loc["Dy", "governance_mining"] == pytest.approx(expected)


def test_rest_of_world_adds_no_concentration():
    inputs = supply_inputs()
    dy = inputs.shares[("Dy", "refining")]
    assert dy.countries == ("CHN", "MYS", "AUS", "ROW")
    table = element_risk(AS_OF).set_index("element")
    assert table.loc["Dy", "hhi_refining"] == pytest.approx(10000 * (0.92**2 + 0.05**2 + 0.01**2))


def test_element_risk_formula_by_hand_for_dysprosium():
    w = RiskWeights()
    row = element_risk(AS_OF).set_index("element").loc["Dy"]
    base = (w.concentration * row["concentration"] + w.governance * row["governance"]
            + w.import_reliance * 0.80 + w.feoc_share * 0.70) / (w.concentration + w.governance + w.import_reliance
                                                                  + w.feoc_share)
    assert row["concentration"] == pytest.approx(max(row["hhi_mining"], row["hhi_refining"]) / 1e4)
    assert row["base"] == pytest.approx(base)
    assert row["export_control"] == w.licensing_severity  # April 2025 licensing
    assert row["export_control_events"] == "CN-2025-18-MHREE"
    assert row["risk"] == pytest.approx(base + w.export_control * w.licensing_severity * (1 - base))
    assert set(row["missing"].split()) == {"eol_rir", "substitution_index"}


@pytest.mark.parametrize("scenario", ["baseline", "china-halts-dy-tb", "allied-refining-doubles",
                                      "export-controls-2025-10-reinstated", "eol-recycling-25pct"])
@pytest.mark.parametrize("as_of", ["2020-01-01", "2023-01-01", "2025-05-01", "2025-12-01"])
def test_element_risk_lies_in_unit_interval(scenario, as_of):
    table = element_risk(as_of, scenario)
    risk = table["risk"].dropna()
    assert len(risk) >= 35 and risk.between(0, 1).all()
    for column in COMPONENTS + ("base", "coverage", "mitigation", "export_control"):
        values = table[column].dropna()
        assert values.between(0, 1).all(), column
    assert set(table.loc[table["risk"].isna(), "element"]) == {"Pm"}  # no data at all: NaN, never 0


def test_ranking_agrees_with_published_criticality_lists():
    table = element_risk(AS_OF).dropna(subset=["risk"]).sort_values("risk", ascending=False)
    order = list(table["element"])
    n = len(order)
    for symbol in ("Dy", "Tb"):
        assert order.index(symbol) < n // 4, (symbol, order)
    assert order.index("Fe") >= n - 3, order
    assert table.set_index("element").loc["Fe", "risk"] < table.set_index("element").loc["Nd", "risk"]


def test_pymatgen_production_hhi_cross_check():
    from pymatgen.analysis.hhi import HHIModel
    from scipy.stats import spearmanr

    reference = HHIModel().symbol_hhip_hhir
    table = element_risk(AS_OF).dropna(subset=["risk"])
    table = table[table["element"].isin(reference)]
    rho_risk = spearmanr(table["risk"], [reference[e][0] for e in table["element"]]).statistic
    mined = table.dropna(subset=["hhi_mining"])
    rho_hhi = spearmanr(mined["hhi_mining"], [reference[e][0] for e in mined["element"]]).statistic
    print(f"\nSpearman rank correlation with pymatgen hhi_p (Gaultois et al. 2013): element risk {rho_risk:.2f} "
          f"(n={len(table)}), mining HHI {rho_hhi:.2f} (n={len(mined)})")
    assert rho_risk > 0.6
    assert rho_hhi > 0.4


@pytest.mark.parametrize("formula", ["(Nd0.8Dy0.2)2Fe14B", "SmCo5", "Nd1.8Tb0.2Fe14B"])
def test_same_composition_is_riskier_in_2025_than_in_2023(formula):
    before = composition_risk([formula], as_of="2023-01-01").iloc[0]
    after = composition_risk([formula], as_of="2025-05-01").iloc[0]
    assert after["risk_weakest_link"] > before["risk_weakest_link"]
    assert after["risk_mass_weighted"] > before["risk_mass_weighted"]
    assert after["controlled_elements"] and not before["controlled_elements"]


def test_scenarios_change_only_the_elements_they_name():
    base = element_risk(AS_OF).set_index("element")
    expected = {
        "china-halts-dy-tb": ({"Dy", "Tb"}, +1),
        "allied-refining-doubles": ({"Y", "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm",
                                     "Yb", "Lu"}, -1),
        "eol-recycling-25pct": ({"La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Ho"}, -1),
        "baseline": (set(), 0),
    }
    for name, (named, sign) in expected.items():
        table = element_risk(AS_OF, name).set_index("element")
        changed = {e for e in base.index
                   if not (math.isnan(base.loc[e, "risk"]) and math.isnan(table.loc[e, "risk"]))
                   and base.loc[e, "risk"] != table.loc[e, "risk"]}
        assert changed == named, name
        for e in named:
            assert np.sign(table.loc[e, "risk"] - base.loc[e, "risk"]) == sign, (name, e)
    recycled = element_risk(AS_OF, "eol-recycling-25pct").set_index("element")
    assert recycled.loc["Dy", "risk"] == pytest.approx(0.75 * base.loc["Dy", "risk"])
    # the October 2025 additions are suspended in the baseline and in force when reinstated
    late_base = element_risk("2025-12-01").set_index("element")
    late = element_risk("2025-12-01", "export-controls-2025-10-reinstated").set_index("element")
    changed = {e for e in late.index if late_base.loc[e, "export_control"] != late.loc[e, "export_control"]}
    assert changed == {"Ho", "Er", "Tm", "Eu", "Yb"}


def test_missing_components_are_neutral_or_renormalized_never_zero():
    neutral = element_risk(AS_OF).set_index("element")
    renormalized = element_risk(AS_OF, weights=RiskWeights(renormalize_missing=True)).set_index("element")
    w = RiskWeights()
    fe = neutral.loc["Fe"]
    assert "feoc_share" in fe["missing"].split() and fe["coverage"] == pytest.approx(0.8)
    present = w.concentration * fe["concentration"] + w.governance * fe["governance"] + w.import_reliance * 0.0
    assert fe["base"] == pytest.approx(present + w.feoc_share * 0.5)
    assert renormalized.loc["Fe", "base"] == pytest.approx(present / (1 - w.feoc_share))
    assert neutral.loc["Fe", "mitigation"] == 1.0  # no sourced EOL-RIR: no credit, and reported missing
    assert "eol_rir" in neutral.loc["Fe", "missing"]


def test_weights_are_validated_naming_the_parameter():
    with pytest.raises(ConfigError, match=r"risk weight export_control: expected a number in \[0, 1\], got 1.5"):
        RiskWeights(export_control=1.5)
    with pytest.raises(ConfigError, match="at least one must be > 0"):
        RiskWeights(concentration=0, governance=0, import_reliance=0, feoc_share=0)
    with pytest.raises(ConfigError, match="--as-of: expected a date such as 2025-05-01, got 'soon'"):
        element_risk("soon")


def naive_composition_risk(elements, mass, risk, threshold):
    """Plain-Python twin of composition_risk_kernel."""
    out = []
    for zs, ms in zip(elements.tolist(), mass.tolist()):
        covered = [(z, m, risk[z]) for z, m in zip(zs, ms) if z > 0 and math.isfinite(risk[z])]
        total = sum(m for _, m, _ in covered)
        weighted = sum(m * r for _, m, r in covered) / total if total > 0 else math.nan
        wdriver = 0
        best = -1.0
        for z, m, r in covered:
            if m * r > best:
                best, wdriver = m * r, z
        above = [(z, r) for z, m, r in covered if m >= threshold]
        kdriver, weakest = 0, math.nan
        best = -1.0
        for z, r in above:
            if r > best:
                best, kdriver, weakest = r, z, r
        out.append((weighted, wdriver, weakest, kdriver, total))
    return out


def _random_batch(rng, n, width):
    elements = np.zeros((n, width), dtype=np.int16)
    fractions = np.zeros((n, width))
    for i in range(n):
        k = rng.integers(1, width + 1)
        zs = rng.choice(np.arange(1, 84), size=k, replace=False)
        zs = zs[np.argsort(zs)]
        x = rng.random(k) + 1e-3
        elements[i, :k] = zs
        fractions[i, :k] = x / x.sum()
    return batch_from_arrays(elements, fractions)


def _check_against_twin(batch, risk, threshold):
    got = composition_risk_kernel(batch.elements, batch.mass_fractions, risk, threshold)
    want = naive_composition_risk(batch.elements, batch.mass_fractions, risk, threshold)
    for i, (weighted, wdriver, weakest, kdriver, covered) in enumerate(want):
        np.testing.assert_allclose(got[0][i], weighted, rtol=1e-12, equal_nan=True, err_msg=f"row {i}")
        assert got[1][i] == wdriver and got[3][i] == kdriver, i
        np.testing.assert_allclose(got[2][i], weakest, equal_nan=True, err_msg=f"row {i}")
        np.testing.assert_allclose(got[4][i], covered, rtol=1e-12, err_msg=f"row {i}")


def test_kernel_matches_naive_twin_on_random_batches():
    rng = np.random.default_rng(7)
    risk = rng.random(N_Z)
    risk[rng.random(N_Z) < 0.3] = np.nan  # elements without data
    risk[0] = np.nan
    batch = _random_batch(rng, 500, 6)
    for threshold in (0.0, 0.005, 0.2, 1.0):
        _check_against_twin(batch, risk, threshold)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), threshold=st.floats(0, 1), width=st.integers(1, 5))
def test_kernel_matches_naive_twin_hypothesis(seed, threshold, width):
    rng = np.random.default_rng(seed)
    risk = np.where(rng.random(N_Z) < 0.2, np.nan, np.round(rng.random(N_Z), 1))  # rounding makes ties
    _check_against_twin(_random_batch(rng, 30, width), risk, threshold)


def test_composition_scores_lie_in_unit_interval_on_real_elements():
    rng = np.random.default_rng(3)
    risk = element_risk_array(AS_OF)
    batch = _random_batch(rng, 2000, 5)
    out = composition_risk_arrays(batch, risk)
    for key in ("risk_mass_weighted", "risk_weakest_link", "covered_mass_fraction"):
        values = out[key][np.isfinite(out[key])]
        assert ((values >= 0) & (values <= 1 + 1e-12)).all(), key
    every = composition_risk_arrays(batch, risk, threshold=0.0)  # max over all covered elements >= their mean
    ok = np.isfinite(every["risk_weakest_link"])
    assert (every["risk_weakest_link"][ok] >= every["risk_mass_weighted"][ok] - 1e-12).all()


def test_composition_risk_table():
    frame = composition_risk(["(Nd0.8Dy0.2)2Fe14B", "SrFe12O19", "Fe16N2"], as_of=AS_OF)
    assert list(frame["formula"]) == ["(Nd0.8Dy0.2)2Fe14B", "SrFe12O19", "Fe16N2"]
    first = frame.iloc[0]
    assert first["driver_weakest_link"] == "Dy" and first["controlled_elements"] == "Dy"
    elements = element_risk(AS_OF).set_index("element")
    assert first["risk_weakest_link"] == pytest.approx(elements.loc["Dy", "risk"])
    batch = encode(["(Nd0.8Dy0.2)2Fe14B"])
    symbols = element_symbols()
    mass = {symbols[z]: m for z, m in zip(batch.elements[0], batch.mass_fractions[0]) if z}
    assert first["risk_mass_weighted"] == pytest.approx(sum(m * elements.loc[e, "risk"] for e, m in mass.items()))
    ferrite = frame.iloc[1]
    assert ferrite["elements_without_data"] == "O" and ferrite["covered_mass_fraction"] < 0.8
    assert frame.iloc[2]["elements_without_data"] == "N"
    assert frame.attrs["as_of"] == AS_OF and (frame["scenario"] == "baseline").all()
    assert isinstance(frame.attrs["elements"], pd.DataFrame)


def test_threshold_controls_the_weakest_link():
    low = composition_risk(["Nd1.98Dy0.02Fe14B"], as_of=AS_OF, threshold=0.001).iloc[0]
    high = composition_risk(["Nd1.98Dy0.02Fe14B"], as_of=AS_OF, threshold=0.01).iloc[0]
    assert low["driver_weakest_link"] == "Dy" and high["driver_weakest_link"] == "Nd"
    with pytest.raises(ConfigError, match="threshold: expected a mass fraction in \\[0, 1\\], got 2"):
        composition_risk(["SmCo5"], threshold=2)


def test_deterministic_and_independent_of_batch_order():
    formulas = ["SmCo5", "Nd2Fe14B", "MnBi", "(Nd0.8Dy0.2)2Fe14B"]
    a = composition_risk(formulas, as_of=AS_OF)
    b = composition_risk(formulas[::-1], as_of=AS_OF).iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_every_builtin_scenario_runs_through_the_composition_api():
    for name in scenario_names():
        frame = composition_risk(["SmCo5", "(Nd0.8Dy0.2)2Fe14B"], as_of=AS_OF, scenario=name)
        assert frame["risk_weakest_link"].between(0, 1).all() and (frame["scenario"] == name).all()
    assert load_scenario("baseline").name == "baseline"
    assert symbol_to_z()["Dy"] == 66
