"""Physics layer against hand calculations and the formulas of the science notes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from magnetscreen.models import physics as ph

MU0 = 4e-7 * math.pi  # the hand calculations use the classical value; scipy's CODATA value differs by 1e-10


def test_nd2fe14b_room_temperature_hand_values():
    K1, Js = 4.9, 1.61
    assert float(ph.anisotropy_field_T(K1, Js)) == pytest.approx(2 * K1 * 1e6 * MU0 / Js, rel=1e-9)
    assert float(ph.anisotropy_field_T(K1, Js)) == pytest.approx(7.65, abs=0.01)  # "about 7.6 T"
    assert float(ph.hardness_kappa(K1, Js)) == pytest.approx(math.sqrt(K1 * 1e6 * MU0) / Js, rel=1e-9)
    assert float(ph.hardness_kappa(K1, Js)) == pytest.approx(1.54, abs=0.005)
    assert float(ph.bhmax_bound_kJm3(Js)) == pytest.approx(Js**2 / (4 * MU0) / 1000, rel=1e-9)
    assert float(ph.bhmax_bound_kJm3(Js)) == pytest.approx(515.7, abs=0.2)  # about 516 kJ/m^3, 64.8 MGOe
    assert float(ph.bhmax_bound_kJm3(Js)) / 7.958 == pytest.approx(64.8, abs=0.05)


def test_kuzmin_hand_values_and_limits():
    s, Tc = 0.5, 600.0
    t = 300 / Tc
    expected = (1 - s * t**1.5 - (1 - s) * t**2.5) ** (1 / 3)
    assert float(ph.kuzmin_m(300, Tc, s)) == pytest.approx(expected, rel=1e-12)
    assert float(ph.kuzmin_m(0, Tc, s)) == 1.0
    assert float(ph.kuzmin_m(Tc, Tc, s)) == 0.0 and float(ph.kuzmin_m(2 * Tc, Tc, s)) == 0.0
    m = ph.kuzmin_m(np.linspace(0, Tc, 50), Tc, s)
    assert np.all(np.diff(m) <= 0)
    with pytest.raises(ValueError, match="0 < s < 5/2"):
        ph.kuzmin_m(300, Tc, 3.0)


def test_callen_callen_and_rescaling():
    s, Tc = 0.6, 585.0
    m295, m423 = ph.kuzmin_m(295, Tc, s), ph.kuzmin_m(423.15, Tc, s)
    assert float(ph.scale_js(1.61, 295, 423.15, Tc, s)) == pytest.approx(1.61 * m423 / m295, rel=1e-12)
    assert float(ph.scale_k1(4.9, 295, 423.15, Tc, s)) == pytest.approx(4.9 * (m423 / m295) ** 3, rel=1e-12)
    assert float(ph.scale_k1(4.9, 295, 423.15, Tc, s, exponent=5)) < float(ph.scale_k1(4.9, 295, 423.15, Tc, s))
    assert float(ph.scale_js(1.61, 295, 600, Tc, s)) == 0.0 and float(ph.scale_k1(4.9, 295, 600, Tc, s)) == 0.0


def test_kronmueller_remanence_and_energy_product_branches():
    route = ph.ProcessingRoute(alpha=0.4, n_eff=1.0, remanence_factor=0.9)
    hc = float(ph.coercivity_T(7.65, 1.61, route))
    assert hc == pytest.approx(0.4 * 7.65 - 1.61)
    br = float(ph.remanence_T(1.61, route))
    assert br == pytest.approx(0.9 * 1.61)
    value, branch = ph.bhmax_kJm3(br, hc)
    assert str(branch) == "remanence" and float(value) == pytest.approx(br**2 / (4 * MU0) / 1000, rel=1e-9)
    # a weak coercivity bounds the product: Hc (Br - mu0 Hc) with H in A/m
    value, branch = ph.bhmax_kJm3(1.2, 0.3)
    assert str(branch) == "coercivity"
    assert float(value) == pytest.approx((0.3 / MU0) * (1.2 - 0.3) / 1000, rel=1e-9)
    assert float(ph.coercivity_T(1.0, 1.6)) == 0.0  # floored, never negative
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        ph.ProcessingRoute(alpha=-1)


def test_easy_plane_is_not_a_hard_magnet():
    assert float(ph.anisotropy_field_T(-1.3, 1.5)) == 0.0 and float(ph.hardness_kappa(-1.3, 1.5)) == 0.0


def test_every_metric_is_zero_above_tc():
    out = ph.performance(Js_T=[1.61, 1.61], K1_MJm3=[4.9, 4.9], Tc_K=[585, 585], T_ref_K=295,
                         T_K=[300, 600], s=0.5)
    for key in ("Js_T", "K1_MJm3", "muHA_T", "kappa", "muHc_T", "Br_T", "BHmax_kJm3", "BHmax_bound_kJm3"):
        assert out[key][1] == 0.0 and out[key][0] > 0.0, key
    assert list(out["BHmax_branch"]) == ["remanence", "none"]


def test_grades():
    assert list(ph.grade_of([1.0, 1.2, 2.05, 3.6])) == ["", "N", "SH", "AH"]
    assert bool(ph.meets_grade(2.1, "SH", 423.15)) and not bool(ph.meets_grade(2.1, "SH", 453.15))
    assert not bool(ph.meets_grade(1.9, "SH"))
    with pytest.raises(ValueError, match="unknown grade 'XX'"):
        ph.meets_grade(2.0, "XX")


def test_grade_of_equals_the_last_grade_met_in_order():
    """grade_of looks the grade up by the (increasing) thresholds; the reference walks GRADES in order."""
    thresholds = [t for _, t, _ in ph.GRADES]
    assert thresholds == sorted(set(thresholds))
    values = np.concatenate([np.array(thresholds), np.nextafter(np.array(thresholds), -np.inf),
                             [np.nan, -np.inf, np.inf, -1.0, 0.0, 1.75, 9.0]])
    want = []
    for v in values:
        name = ""
        for grade, threshold, _ in ph.GRADES:
            if v >= threshold:
                name = grade
        want.append(name)
    assert ph.grade_of(values).tolist() == want


_DERIVE_CASES = [
    dict(temperature_K=423.15, kuzmin_s=0.7),
    dict(temperature_K=353.0, kuzmin_s=1.63, k1_exponent=1.58),
    dict(temperature_K=500.0, kuzmin_s=0.56, k1_exponent=-5.0, route=ph.ProcessingRoute(alpha=0.6, n_eff=0.8,
                                                                                         remanence_factor=0.95)),
    dict(temperature_K=295.0, kuzmin_s=0.3, k1_exponent=2.75),
]


@pytest.mark.parametrize("case", range(len(_DERIVE_CASES)))
def test_derive_equals_one_performance_call_per_evaluation(case):
    """derive computes m(T) once per distinct Tc and the rest of every evaluation in one kernel pass; the
    reference calls numpy's performance() for every evaluation (the central point, each target's sigma up and
    down, room temperature) and combines them the same way: equal bitwise, signed zeros included (negative Js
    predictions above Tc give -0.0 before the floor at 0)."""
    from magnetscreen.models.predictions import DERIVED, Conditions, derive

    rng = np.random.default_rng(7 + case)
    n = 600
    pred = {"Js_T": rng.uniform(-0.1, 2.0, n), "K1_MJm3": rng.uniform(-3, 8, n), "Tc_K": rng.uniform(-50, 1400, n),
            "Js_T_sigma": rng.uniform(0, 0.3, n), "K1_MJm3_sigma": rng.uniform(0, 2, n),
            "Tc_K_sigma": rng.uniform(0, 200, n), "in_domain": rng.random(n) < 0.5}
    pred["Tc_K_sigma"][:20] = 0.0
    pred["Js_T_sigma"][20:40] = 0.0
    pred["Tc_K"][20:25] = 0.0
    pred["Tc_K"][25] = np.nan
    pred["K1_MJm3"][26] = np.nan
    pred["Js_T"][27:30] = [-0.0, 0.0, -0.05]
    pred["Tc_K"][27:30] = 100.0  # above Tc at every operating temperature here: m = 0
    cond = Conditions(**_DERIVE_CASES[case])
    got = derive(pred, cond)

    targets = ("Js_T", "K1_MJm3", "Tc_K")
    means = [np.nan_to_num(pred[t], nan=0.0) for t in targets]
    sigmas = [np.nan_to_num(pred[f"{t}_sigma"], nan=0.0) for t in targets]

    def perf(js, k1, tc, T):
        return ph.performance(js, k1, tc, 295.0, T, cond.kuzmin_s, cond.route, cond.k1_exponent)

    central = perf(*means, cond.temperature_K)
    variance = {name: np.zeros(n) for name in DERIVED}
    for i in range(3):
        up = [m + (s if j == i else 0.0) for j, (m, s) in enumerate(zip(means, sigmas))]
        down = [m - (s if j == i else 0.0) for j, (m, s) in enumerate(zip(means, sigmas))]
        down = [np.clip(d, 0.0, None) if j != 1 else d for j, d in enumerate(down)]
        hi, lo = perf(*up, cond.temperature_K), perf(*down, cond.temperature_K)
        for name, key in DERIVED.items():
            variance[name] += ((hi[key] - lo[key]) / 2.0) ** 2
    bad = ~np.isfinite(pred["Tc_K"]) | ~np.isfinite(pred["K1_MJm3"])
    for name, key in DERIVED.items():
        want, want_sigma = central[key].copy(), np.sqrt(variance[name])
        want[bad], want_sigma[bad] = np.nan, np.nan
        np.testing.assert_array_equal(got[name], want)
        np.testing.assert_array_equal(np.signbit(got[name]), np.signbit(want))
        np.testing.assert_array_equal(got[f"{name}_sigma"], want_sigma)
    np.testing.assert_array_equal(got["BHmax_branch"], central["BHmax_branch"])
    room = perf(*means, 295.0)
    np.testing.assert_array_equal(got["muHc_room_T"], room["muHc_T"])
    assert got["grade"].tolist() == ph.grade_of(room["muHc_T"]).tolist()


def test_k1_is_zero_above_tc_also_for_a_negative_exponent():
    """MnBi's Callen-Callen exponent is -5 (K1 grows with T below Tc); above Tc m = 0 and K1 must be 0, not 1/0."""
    Tc, s = 630.0, 0.5
    below = float(ph.scale_k1(1.0, 295.0, 500.0, Tc, s, exponent=-5.0))
    m295, m500 = float(ph.kuzmin_m(295.0, Tc, s)), float(ph.kuzmin_m(500.0, Tc, s))
    assert below == pytest.approx((m500 / m295) ** -5.0, rel=1e-12) and below > 1
    assert float(ph.scale_k1(1.0, 295.0, 700.0, Tc, s, exponent=-5.0)) == 0.0
    out = ph.performance(1.2, 1.0, Tc, 295.0, 700.0, s, k1_exponent=-5.0)
    assert all(float(out[k]) == 0.0 for k in ("K1_MJm3", "muHA_T", "muHc_T", "BHmax_kJm3"))
