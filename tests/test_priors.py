"""End-member priors: the kernel against a naive Python interpolation, the table by hand, the K1 sign rule."""

from __future__ import annotations

import numpy as np
import pytest

from magnetscreen.datasets.rare_earth_ions import rare_earth_ion
from magnetscreen.descriptors import encode
from magnetscreen.descriptors.prototypes import PROTOTYPES, prototype_codes
from magnetscreen.models.priors import A_SITE, HOSTS, SITE_MODELS, end_member_names, fit_prior


def _fit(rows: dict[str, float], target: str):
    names = encode(list(rows)).names()
    protos = np.array(PROTOTYPES)[prototype_codes(list(rows))]
    sets = [_symbols(f) for f in rows]
    return fit_prior(names, np.array(list(rows.values()), dtype=float), protos, sets, target)


def _symbols(formula: str) -> set[str]:
    from pymatgen.core import Composition

    return {e.symbol for e in Composition(formula).elements}


def _naive(formula: str, table) -> float:
    """sum_a sum_h w_a v_h [(1 - y) E(a, h, 0) + y E(a, h, 1)] written out with pymatgen fractions."""
    from pymatgen.core import Composition

    comp = Composition(formula).fractional_composition.as_dict()
    proto = PROTOTYPES[int(prototype_codes([formula])[0])]
    p = PROTOTYPES.index(proto)
    model = SITE_MODELS.get(proto)
    if model is None:
        return float("nan")
    if not model.a_site:
        return float(table.values[p, 0, 0, 0])
    wa = {a: comp.get(a, 0.0) for a in model.a_site if comp.get(a, 0.0) > 0}
    vh = {h: comp.get(h, 0.0) for h in HOSTS if comp.get(h, 0.0) > 0}
    if not wa or not vh:
        return float("nan")
    y = 0.0
    if model.level_fraction > 0:
        x = sum(comp.get(x, 0.0) for x in ("N", "C", "H"))
        y = min(1.0, (x / (1 - x)) / (model.level_fraction / (1 - model.level_fraction)))
    total = 0.0
    for a, w in wa.items():
        for h, v in vh.items():
            low = table.values[p, model.a_site.index(a), HOSTS.index(h), 0]
            high = table.values[p, model.a_site.index(a), HOSTS.index(h), 1]
            value = (1 - y) * low if y < 1 else 0.0
            if y > 0:
                value += y * high
            if (y < 1 and np.isnan(low)) or (y > 0 and np.isnan(high)):
                return float("nan")
            total += w / sum(wa.values()) * v / sum(vh.values()) * value
    return total


ROWS = {"Nd2Fe14B": 585.0, "Dy2Fe14B": 598.0, "Pr2Fe14B": 565.0, "Nd2Co14B": 1000.0, "SmCo5": 1020.0,
        "Sm2Fe17": 389.0, "Sm2Fe17N3": 749.0, "MnBi": 628.0, "SrFe12O19": 733.0}


def test_table_holds_the_end_members_given():
    table = _fit(ROWS, "Tc_K")
    names = end_member_names()
    for formula, value in ROWS.items():
        canonical = encode([formula]).names()[0]
        if canonical in names:
            assert table.values[names[canonical]] == value and table.measured[names[canonical]]
    assert table.values[PROTOTYPES.index("MnBi"), 0, 0, 0] == 628.0


@pytest.mark.parametrize("formula", ["(Nd0.7Dy0.3)2Fe14B", "(Nd0.5Pr0.5)2(Fe0.9Co0.1)14B", "Nd2Fe14B",
                                     "Sm2Fe17N1.5", "Sm2Fe17N3", "SmCo5", "Mn0.5Bi0.5", "Sr0.9Nd0.1Fe12O19",
                                     "(Nd0.5Ce0.5)2Fe14B", "Sm(Co0.8Fe0.2)5", "Nd2Fe13.5Al0.5B", "Fe16N2"])
def test_kernel_equals_naive_interpolation(formula):
    table = _fit(ROWS, "Tc_K")
    got = table.evaluate(encode([formula]), prototype_codes([formula]))[0]
    expected = _naive(formula, table)
    if np.isnan(expected):
        assert np.isnan(got), formula
    else:
        assert got == pytest.approx(expected, rel=1e-12), formula


def test_by_hand_rare_earth_mixture_and_interstitial_level():
    table = _fit(ROWS, "Tc_K")
    got = table.evaluate(encode(["(Nd0.7Dy0.3)2Fe14B", "Sm2Fe17N1.5"]), prototype_codes(["Nd2Fe14B", "Sm2Fe17"]))
    assert got[0] == pytest.approx(0.7 * 585 + 0.3 * 598)
    assert got[1] == pytest.approx(0.5 * 389 + 0.5 * 749)  # N1.5 is half of the nitride's N3


def test_k1_fill_follows_the_stevens_factor_sign():
    # 2-14-1, Fe host: Y (no orbital moment) and Nd (alpha_J < 0) measured; Sm (alpha_J > 0) is filled on the
    # other side of the Y value, Dy (alpha_J < 0) on Nd's side, each in proportion to alpha_J J (2J - 1)
    rows = {"Y2Fe14B": 1.1, "Nd2Fe14B": 4.9}
    table = _fit(rows, "K1_MJm3")
    p = PROTOTYPES.index("2-14-1")
    slot = {s: A_SITE.index(s) for s in ("Y", "Nd", "Sm", "Dy")}
    s = {e: float(rare_earth_ion(e).stevens_strength) for e in ("Nd", "Sm", "Dy")}
    k = (4.9 - 1.1) / s["Nd"]
    assert table.values[p, slot["Sm"], 0, 0] == pytest.approx(1.1 + k * s["Sm"])
    assert table.values[p, slot["Sm"], 0, 0] < 1.1 < 4.9
    assert table.values[p, slot["Dy"], 0, 0] == pytest.approx(1.1 + k * s["Dy"]) and k * s["Dy"] > 0
    assert not table.measured[p, slot["Sm"], 0, 0] and table.measured[p, slot["Nd"], 0, 0]
    # other targets are not filled
    tc = _fit({"Y2Fe14B": 565.0, "Nd2Fe14B": 585.0}, "Tc_K")
    assert np.isnan(tc.values[p, slot["Sm"], 0, 0])


def test_missing_end_member_gives_nan():
    table = _fit({"Nd2Fe14B": 585.0}, "Tc_K")
    got = table.evaluate(encode(["(Nd0.5Dy0.5)2Fe14B", "Nd2Fe14B"]), prototype_codes(["Nd2Fe14B", "Nd2Fe14B"]))
    assert np.isnan(got[0]) and got[1] == 585.0


_ROUTE_FORMULAS = {
    "mostly learning": ["Nd2Fe14B", "Fe", "MnBi", "FeNi", "Sm2Co17", "Sm2Fe17N3", "SrFe12O19", "Mn0.55Al0.45",
                        "Fe16N2", "Nd1.6Dy0.4Fe13Co1B", "SmCo5"],
    "mostly prior routes": ["Nd2Fe14B", "Pr2Fe14B", "Ce2Fe14B", "Nd2Co14B", "SmCo5", "LaCo5", "CeCo5", "YCo5",
                            "SmFe11Ti", "ZrFe11Ti", "Fe", "MnBi"],
}


@pytest.mark.parametrize("case", sorted(_ROUTE_FORMULAS))
def test_routes_equal_learning_everywhere_then_replaced(case):
    """The shipped Tc surrogate runs its forest on the rows the learned route decides (all rows when those are
    most); the result equals the naive order (forest on every row, then the prior and residual routes replace
    their rows), bitwise."""
    from magnetscreen.descriptors.featurize import featurize
    from magnetscreen.models.surrogates import ROUTES, load_surrogates, model_matrix

    surrogate = load_surrogates(None).surrogates["Tc_K"]
    formulas = _ROUTE_FORMULAS[case]
    batch = encode(formulas)
    descriptors, _ = featurize(batch)
    X = model_matrix(descriptors)
    protos = prototype_codes(batch)
    mean, spread, route = surrogate.predict_raw(X, batch, protos)

    ref_mean, ref_spread = surrogate.ensemble.predict(X)
    ref_route = np.zeros(len(batch), dtype=np.int64)
    for i in range(len(batch)):
        r = surrogate.routes[protos[i]]
        if r == 0:
            continue
        prior = surrogate.prior.evaluate(batch.take(np.array([i])), protos[i:i + 1])[0]
        if not np.isfinite(prior):
            continue
        if r == ROUTES.index("hybrid"):
            m, s = surrogate.residual.predict(X[i:i + 1])
            ref_mean[i], ref_spread[i], ref_route[i] = prior + m[0], s[0], r
        else:
            ref_mean[i], ref_spread[i], ref_route[i] = prior, 0.0, r
    assert set(route.tolist()) >= {0, ROUTES.index("hybrid")}
    assert (np.mean(route == 0) > 0.5) == (case == "mostly learning")
    np.testing.assert_array_equal(route, ref_route)
    np.testing.assert_array_equal(mean, ref_mean)
    np.testing.assert_array_equal(spread, ref_spread)
