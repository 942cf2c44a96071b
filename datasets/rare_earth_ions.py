"""Quantum numbers and the second-order Stevens factor of the trivalent lanthanide ions, derived exactly.

For the 4f^n ground multiplet of R3+ (Hund's rules: S and L maximal, J = |L - S| below half filling and
L + S above), the second-order Stevens factor alpha_J is defined by the operator equivalent
``sum_i (3 z_i^2 - r_i^2) = alpha_J <r^2> [3 J_z^2 - J(J + 1)]`` within the multiplet (K. W. H. Stevens,
Proc. Phys. Soc. A 65, 209 (1952)). It is computed here from first principles, in exact rational
arithmetic, in three steps:

1. the Hund's-rule state with M_L = L, M_S = S is one Slater determinant (orbitals m = 3, 2, ... filled
   spin up, then spin down); the single-electron quadrupole matrix element is
   ``<l m|3 cos^2(theta) - 1|l m> = 2 [l(l + 1) - 3 m^2] / [(2l - 1)(2l + 3)]``, which gives
   alpha_L = <L L|Q|L L> / [3 L^2 - L(L + 1)];
2. by the Wigner-Eckart theorem, <L M_L|Q|L M_L> = alpha_L [3 M_L^2 - L(L + 1)] for every M_L;
3. the state |J, M_J = J> = sum_{M_L} C(L M_L, S J-M_L | J J) |L M_L>|S J-M_L> (Clebsch-Gordan coefficients,
   Racah's formula) gives <J J|Q|J J>, and alpha_J = <J J|Q|J J> / [3 J^2 - J(J + 1)].

The sign of alpha_J sets the sign of a rare-earth ion's single-ion anisotropy in a given crystal field:
K1 of the R sublattice is proportional to -alpha_J <r_4f^2> J(2J - 1) A20 (Herbst, Rev. Mod. Phys. 63, 819
(1991)). Ions without orbital moment (La, Gd, Lu) have alpha_J = 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from math import factorial

__all__ = ["RareEarthIon", "rare_earth_ion", "stevens_alpha", "clebsch_gordan_squared", "LANTHANIDES"]

LANTHANIDES = ("La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu")
_L = 3  # f electrons


@dataclass(frozen=True)
class RareEarthIon:
    """The R3+ ground multiplet: 4f count, S, L, J (exact), Lande g_J (None when J = 0) and alpha_J."""

    symbol: str
    n_4f: int
    S: Fraction
    L: int
    J: Fraction
    g_J: Fraction | None
    alpha_J: Fraction

    @property
    def stevens_strength(self) -> Fraction:
        """alpha_J J (2J - 1): the single-ion quadrupole strength of the multiplet (units of <r^2> A20)."""
        return self.alpha_J * self.J * (2 * self.J - 1)


def _hund(n: int) -> tuple[list[int], list[int]]:
    slots = 2 * _L + 1
    up = list(range(_L, _L - min(n, slots), -1))
    down = list(range(_L, _L - max(n - slots, 0), -1))
    return up, down


def clebsch_gordan_squared(j1: Fraction, m1: Fraction, j2: Fraction, m2: Fraction, j: Fraction,
                           m: Fraction) -> Fraction:
    """|<j1 m1, j2 m2 | j m>|^2, exactly, by Racah's formula (0 when the projections do not add up)."""
    if m1 + m2 != m or abs(m1) > j1 or abs(m2) > j2 or abs(m) > j or not abs(j1 - j2) <= j <= j1 + j2:
        return Fraction(0)

    def f(x: Fraction) -> int:
        if x.denominator != 1 or x < 0:
            raise ValueError(f"not a non-negative integer: {x}")
        return factorial(int(x))

    prefactor = Fraction((2 * j + 1) * f(j1 + j2 - j) * f(j1 - j2 + j) * f(-j1 + j2 + j), f(j1 + j2 + j + 1))
    prefactor *= f(j1 + m1) * f(j1 - m1) * f(j2 + m2) * f(j2 - m2) * f(j + m) * f(j - m)
    total = Fraction(0)
    k = 0
    while True:
        terms: list[Fraction] = [Fraction(k), j1 + j2 - j - k, j1 - m1 - k, j2 + m2 - k, j - j2 + m1 + k,
                                 j - j1 - m2 + k]
        if terms[1] < 0 or terms[2] < 0 or terms[3] < 0:
            break
        if all(t >= 0 for t in terms):
            denominator = 1
            for t in terms:
                denominator *= f(t)
            total += Fraction((-1) ** k, denominator)
        k += 1
    return prefactor * total * total


@cache
def stevens_alpha(n_4f: int) -> Fraction:
    """alpha_J of the 4f^n ground multiplet (see the module docstring); 0 when J = 0 or L = 0.

    Examples
    --------
    >>> stevens_alpha(1), stevens_alpha(3), stevens_alpha(5)  # Ce3+, Nd3+, Sm3+
    (Fraction(-2, 35), Fraction(-7, 1089), Fraction(13, 315))
    """
    up, down = _hund(n_4f)
    S = Fraction(len(up) - len(down), 2)
    L = sum(up) + sum(down)
    J = L - S if n_4f < 2 * _L + 1 else L + S
    if L == 0 or J == 0 or 2 * J * J - J == 0:
        return Fraction(0)

    def q(m: int) -> Fraction:
        return Fraction(2 * (_L * (_L + 1) - 3 * m * m), (2 * _L - 1) * (2 * _L + 3))

    alpha_L = (sum(map(q, up), Fraction(0)) + sum(map(q, down), Fraction(0))) / (3 * L * L - L * (L + 1))
    expectation: Fraction = Fraction(0)
    for M_L in range(-L, L + 1):
        M_S = J - M_L
        if abs(M_S) > S:
            continue
        weight = clebsch_gordan_squared(Fraction(L), Fraction(M_L), S, M_S, J, J)
        expectation += weight * alpha_L * (3 * M_L * M_L - L * (L + 1))
    return expectation / (3 * J * J - J * (J + 1))


@cache
def rare_earth_ion(symbol: str) -> RareEarthIon:
    """The trivalent ion of a lanthanide (La..Lu)."""
    if symbol not in LANTHANIDES:
        raise ValueError(f"{symbol!r} is not a lanthanide (La..Lu)")
    n = LANTHANIDES.index(symbol)
    up, down = _hund(n)
    S = Fraction(len(up) - len(down), 2)
    L = sum(up) + sum(down)
    J = abs(L - S) if n < 7 else L + S
    g = None if J == 0 else Fraction(3, 2) + (S * (S + 1) - L * (L + 1)) / (2 * J * (J + 1))
    return RareEarthIon(symbol, n, S, L, J, g, stevens_alpha(n))
