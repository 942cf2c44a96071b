"""Temperature laws per family: the solvers against the Kuz'min curve, the fits against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest

from magnetscreen.models.physics import kuzmin_m, scale_k1
from magnetscreen.models.predictions import Conditions, score
from magnetscreen.models.temperature_laws import (
    family_laws,
    kuzmin_s_from_coefficient,
    law_for,
    solve_kuzmin_s,
)


@pytest.mark.parametrize("s", [0.1, 0.5, 0.98, 1.7, 2.4])
def test_solve_kuzmin_s_inverts_the_curve(s):
    ratio = float(kuzmin_m(300.0, 585.0, s) / kuzmin_m(5.0, 585.0, s))
    assert solve_kuzmin_s(ratio, 5.0, 300.0, 585.0) == pytest.approx(s, abs=1e-9)


def test_solve_kuzmin_s_by_hand_for_nd2fe14b():
    # Js(5 K) = 1.86 T, Js(300 K) = 1.60 T, Tc = 585 K. With m^3 = 1 - t^2.5 - s (t^1.5 - t^2.5), the ratio
    # r = m(300)/m(5) gives r^3 [1 - b2 - s (b1 - b2)] = 1 - a2 - s (a1 - a2), linear in s
    # (a = powers of 300/585, b = powers of 5/585)
    r = 1.60 / 1.86
    a1, a2 = (300 / 585) ** 1.5, (300 / 585) ** 2.5
    b1, b2 = (5 / 585) ** 1.5, (5 / 585) ** 2.5
    by_hand = (1 - a2 - r**3 * (1 - b2)) / ((a1 - a2) - r**3 * (b1 - b2))
    assert solve_kuzmin_s(r, 5.0, 300.0, 585.0) == pytest.approx(by_hand, abs=1e-9)
    assert solve_kuzmin_s(1.2, 5.0, 300.0, 585.0) is None  # Js rising with T: no ferromagnet's s


@pytest.mark.parametrize("s", [0.3, 1.0, 2.0])
def test_s_from_coefficient_matches_the_numerical_derivative(s):
    T, Tc, h = 293.0, 900.0, 1e-3
    alpha = float((np.log(kuzmin_m(T + h, Tc, s)) - np.log(kuzmin_m(T - h, Tc, s))) / (2 * h))
    assert kuzmin_s_from_coefficient(alpha, T, Tc) == pytest.approx(s, rel=1e-6)
    assert kuzmin_s_from_coefficient(-0.002, 293.0, 727.5) is None  # steeper than any Kuz'min curve at t = 0.4


def test_family_laws_come_from_the_tables():
    laws = family_laws()
    mnbi = laws["MnBi"]
    assert mnbi.k1_exponent == -5.0 and mnbi.k1_source == "published" and "10.1063/1.4943148" in mnbi.k1_basis
    nd = laws["2-14-1"]
    assert nd.s_source == "fitted" and "Nd2Fe14B" in nd.s_basis and 0 < nd.kuzmin_s < 2.5
    assert nd.k1_source == "fitted" and "Nd2Fe14B (mu0HA)" in nd.k1_basis
    # a family without data keeps the run's values, and says so
    s, n, text = law_for("Fe16N2", 0.7, 3.0)
    assert (s, n) == (0.7, 3.0) and "run default" in text
    assert law_for("my-own-family", 0.7, 3.0)[2] == "run default (no family law)"


def test_2_14_1_exponent_reproduces_the_anisotropy_field_it_was_fitted_on():
    # Nd2Fe14B: mu0HA 6.7 T at 295 K and 5.5 T at 400 K (the series rows); mu0HA ~ K1 / Js ~ m^(n - 1)
    law = family_laws()["2-14-1"]
    m = kuzmin_m(np.array([295.0, 400.0]), 585.0, law.kuzmin_s)
    assert 6.7 * (m[1] / m[0]) ** (law.k1_exponent - 1) == pytest.approx(5.5, abs=0.05)


def test_mnbi_anisotropy_rises_from_295_to_423_k():
    ratio = scale_k1(1.0, 295.0, 423.0, 629.0, 0.5, family_laws()["MnBi"].k1_exponent)
    assert ratio > 1.0
    out = {T: score(["MnBi"], conditions=Conditions(temperature_K=T), family="MnBi") for T in (295.0, 423.0)}
    assert out[423.0]["K1_op_MJm3"][0] > out[295.0]["K1_op_MJm3"][0]
    uniform = score(["MnBi"], conditions=Conditions(temperature_K=423.0, temperature_law="uniform"), family="MnBi")
    assert uniform["K1_op_MJm3"][0] < out[295.0]["K1_op_MJm3"][0]  # the old uniform law made it fall
