"""The exact Stevens-factor derivation against the published table and against angular-momentum identities."""

from fractions import Fraction

import pytest

from magnetscreen.datasets.element_table import load_element_table
from magnetscreen.datasets.rare_earth_ions import LANTHANIDES, clebsch_gordan_squared, rare_earth_ion

# alpha_J of the R3+ ground multiplets as tabulated by K. W. H. Stevens, Proc. Phys. Soc. A 65, 209 (1952) and
# M. T. Hutchings, Solid State Physics 16, 227 (1964) (the standard table of the second-order factor).
PUBLISHED_ALPHA = {
    "Ce": Fraction(-2, 35), "Pr": Fraction(-52, 2475), "Nd": Fraction(-7, 1089), "Pm": Fraction(14, 1815),
    "Sm": Fraction(13, 315), "Tb": Fraction(-1, 99), "Dy": Fraction(-2, 315), "Ho": Fraction(-1, 450),
    "Er": Fraction(4, 1575), "Tm": Fraction(1, 99), "Yb": Fraction(2, 63),
}
# J and g_J of the Hund's-rule ground multiplets (same references)
PUBLISHED_J_G = {
    "Ce": (Fraction(5, 2), Fraction(6, 7)), "Pr": (4, Fraction(4, 5)), "Nd": (Fraction(9, 2), Fraction(8, 11)),
    "Sm": (Fraction(5, 2), Fraction(2, 7)), "Gd": (Fraction(7, 2), 2), "Tb": (6, Fraction(3, 2)),
    "Dy": (Fraction(15, 2), Fraction(4, 3)), "Ho": (8, Fraction(5, 4)), "Er": (Fraction(15, 2), Fraction(6, 5)),
    "Tm": (6, Fraction(7, 6)), "Yb": (Fraction(7, 2), Fraction(8, 7)),
}


@pytest.mark.parametrize("symbol", sorted(PUBLISHED_ALPHA))
def test_alpha_j_equals_the_published_table(symbol):
    assert rare_earth_ion(symbol).alpha_J == PUBLISHED_ALPHA[symbol]


@pytest.mark.parametrize("symbol", sorted(PUBLISHED_J_G))
def test_j_and_lande_factor(symbol):
    ion = rare_earth_ion(symbol)
    assert (ion.J, ion.g_J) == PUBLISHED_J_G[symbol]


def test_ions_without_orbital_moment_have_no_quadrupole():
    for symbol in ("La", "Gd", "Lu", "Eu"):
        assert rare_earth_ion(symbol).alpha_J == 0 and rare_earth_ion(symbol).stevens_strength == 0


def test_sign_pattern_of_the_series():
    # within each half of the series alpha_J changes sign after the third ion: (-,-,-,+,+) and (-,-,-,+,+,+)
    signs = [(rare_earth_ion(s).alpha_J > 0) - (rare_earth_ion(s).alpha_J < 0) for s in LANTHANIDES]
    assert signs == [0, -1, -1, -1, 1, 1, 0, 0, -1, -1, -1, 1, 1, 1, 0]


def test_clebsch_gordan_completeness():
    # sum over m1 of |<j1 m1, j2 m-m1 | j m>|^2 = 1 for every allowed j, m
    j1, j2 = Fraction(3), Fraction(5, 2)
    for j in (Fraction(1, 2), Fraction(5, 2), Fraction(11, 2)):
        m = j
        total = sum(clebsch_gordan_squared(j1, Fraction(m1), j2, m - m1, j, m) for m1 in range(-3, 4))
        assert total == 1
    # a textbook value: <1 1, 1 -1 | 0 0>^2 = 1/3
    assert clebsch_gordan_squared(Fraction(1), Fraction(1), Fraction(1), Fraction(-1), Fraction(0), Fraction(0)) \
        == Fraction(1, 3)


def test_element_table_carries_the_ion_columns():
    t = load_element_table().set_index("symbol")
    assert t.loc["Nd", "alphaJ_R3"] == pytest.approx(-7 / 1089)
    assert t.loc["Sm", "stevens_R3"] == pytest.approx(13 / 315 * 2.5 * 4)
    assert t.loc["Dy", "J_R3"] == 7.5 and t.loc["Dy", "gJ_R3"] == pytest.approx(4 / 3)
    assert t[["J_R3", "alphaJ_R3"]].loc[["Fe", "Co", "Y"]].isna().all().all()
