"""Temperature laws per family, fitted on the shipped temperature series and published law parameters.

The physics layer scales Js and K1 from the 295 K reference to the operating temperature with two laws
(:mod:`magnetscreen.models.physics`): Kuz'min's m(T) with its shape parameter ``s`` for Js, and
K1(T) = K1(T0) [m(T)/m(T0)]^n for K1 (n = 3 is Callen-Callen's uniaxial single-ion law; a negative n makes K1
rise while the magnetization falls, as in MnBi). Neither parameter is universal. Here they are set per
built-in family from data, in this order of preference:

``kuzmin_s``
    1. **fitted on intrinsic series**: every compound of the family's prototype in the temperature-series
       table with Js at a low temperature (<= 20 K) and near room temperature (280-310 K), and a Curie
       temperature in the curated tables, gives the s that reproduces Js(room)/Js(low) =
       m(T_room)/m(T_low) (solved exactly, bisection on 0 < s < 5/2); the family's s is the median. Compounds
       with a heavy rare earth whose 4f spin opposes the 3d moments (Gd to Yb) are left out: they are
       ferrimagnets, whose Js(T) Kuz'min's ferromagnet law does not describe;
    2. **magnet-level proxy**: the median published remanence temperature coefficient alpha(Br) of the
       family's magnets, taken as d ln Js / dT at 293 K (Br = f Js with f constant) and solved for s with the
       Curie temperature of the family's reference phase (when no s in (0, 5/2) reproduces it, as for the
       ferrimagnetic hexaferrites, whose -0.2 %/K is steeper than any Kuz'min curve at t = 0.4, none is set);
    3. otherwise the run's ``kuzmin_s``.

``k1_exponent``
    1. **published**: a compound's measured exponent (the temperature-laws table, parameter
       ``k1_exponent``; the median if several);
    2. **fitted on intrinsic series**: every compound of the family's prototype with K1 or mu0HA at two or
       more temperatures at least 50 K apart, with the family's s: n from the least-squares slope of
       ln K1 against ln m (mu0HA = 2 K1 / Js scales as m^(n - 1)); the family's n is the median;
    3. otherwise the run's ``k1_exponent``.

Cerium compounds are left out of the K1 fits: Ce in these intermetallics is close to tetravalent (its 4f
electron is itinerant), so their anisotropy follows neither the trivalent single-ion law nor the other
members of the family. Magnet-level coercivity coefficients are not used for K1: a magnet's coercivity also
depends on its microstructure, and for SmCo5 and Sm2Co17 it falls several times faster than any intrinsic law would.
Every law records where it came from (``s_source``, ``k1_source``: ``fitted``, ``magnet proxy``,
``published`` or ``run default``) and on how many compounds or rows it rests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from magnetscreen.datasets.elements import element_symbols
from magnetscreen.datasets.tables import (
    load_curie,
    load_end_members,
    load_intrinsic,
    load_temperature_laws,
    load_temperature_series,
)
from magnetscreen.descriptors.encoding import encode
from magnetscreen.descriptors.prototypes import FAMILY_PROTOTYPE, prototype_of
from magnetscreen.models.physics import kuzmin_m

__all__ = ["FamilyLaw", "family_laws", "solve_kuzmin_s", "kuzmin_s_from_coefficient", "FAMILY_REFERENCE",
           "law_for"]

#: The reference phase of each built-in family: its Curie temperature anchors the magnet-level proxies.
FAMILY_REFERENCE = {"2-14-1": "Nd2Fe14B", "SmCo5": "SmCo5", "Sm2Co17": "Sm2Co17", "2-17-interstitial": "Sm2Fe17N3",
                    "1-12": "SmFe11Ti", "MnBi": "MnBi", "MnAl": "MnAl", "L10-FeNi": "FeNi", "Fe16N2": "Fe16N2",
                    "M-hexaferrite": "SrFe12O19"}
LOW_T_MAX = 20.0
ROOM_T = (280.0, 310.0)
MIN_SPAN_K = 50.0
_FERRIMAGNETIC_R = ("Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb")
_S_RANGE = (1e-6, 2.5 - 1e-6)


@dataclass(frozen=True)
class FamilyLaw:
    """The temperature law of one family (None: the run's value applies)."""

    family: str
    kuzmin_s: float | None
    s_source: str
    s_basis: str
    k1_exponent: float | None
    k1_source: str
    k1_basis: str

    def as_dict(self) -> dict:
        return asdict(self)


def solve_kuzmin_s(ratio: float, T_low: float, T_high: float, Tc: float) -> float | None:
    """The Kuz'min s with m(T_high)/m(T_low) = ratio, or None when no s in (0, 5/2) gives it.

    m(T)/m(T_low) decreases monotonically with s at fixed T_high > T_low (a larger s weights the t^(3/2) term),
    so bisection finds the unique root.
    """
    if not (0 <= T_low < T_high < Tc) or not np.isfinite(ratio) or ratio <= 0:
        return None

    def f(s: float) -> float:
        return float(kuzmin_m(T_high, Tc, s) / kuzmin_m(T_low, Tc, s)) - ratio

    lo, hi = _S_RANGE
    f_lo, f_hi = f(lo), f(hi)
    if f_lo * f_hi > 0:
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) * f_lo > 0:
            lo, f_lo = mid, f(mid)
        else:
            hi = mid
    return 0.5 * (lo + hi)


def kuzmin_s_from_coefficient(alpha_per_K: float, T_K: float, Tc: float) -> float | None:
    """The Kuz'min s with d ln m / dT = alpha at T (a remanence temperature coefficient), or None.

    m^3 = 1 - s t^(3/2) - (1 - s) t^(5/2) gives d ln m / dT = -[1.5 s t^(1/2) + 2.5 (1 - s) t^(3/2)] / (3 Tc m^3),
    linear in s in the numerator and the denominator: solved exactly.
    """
    t = T_K / Tc
    if not (0 < t < 1) or not np.isfinite(alpha_per_K) or alpha_per_K >= 0:
        return None
    a, b = t**1.5, t**2.5  # m^3 = 1 - b - s (a - b)
    c, d = 1.5 * t**0.5, 2.5 * t**1.5  # numerator = c s + d (1 - s)
    # alpha = -(d + s (c - d)) / (3 Tc (1 - b - s (a - b)))  ->  linear equation in s
    k = 3.0 * Tc * alpha_per_K
    s = (-d - k * (1 - b)) / ((c - d) - k * (a - b))
    return float(s) if _S_RANGE[0] <= s <= _S_RANGE[1] else None


def _curie_temperatures() -> dict[str, float]:
    """Median curated Curie temperature of every canonical composition."""
    frames = []
    for table in (load_intrinsic(), load_curie(), load_end_members()):
        rows = table[table["Tc_K"].notna()] if "Tc_K" in table else table.iloc[:0]
        if "method" in rows:
            rows = rows[rows["method"] != "DFT"]
        frames.append(rows[["formula", "Tc_K"]])
    rows = pd.concat(frames, ignore_index=True)
    rows["canonical"] = encode(list(rows["formula"])).names()
    return {str(k): float(v) for k, v in rows.groupby("canonical")["Tc_K"].median().items()}


def _series() -> pd.DataFrame:
    rows = load_temperature_series()
    rows = rows[rows["method"] == "experiment"].copy()
    rows["canonical"] = encode(list(rows["formula"])).names()
    rows["prototype"] = prototype_of(list(rows["formula"]))
    return rows


def _fractions(formula: str) -> dict[str, float]:
    batch = encode([formula])
    symbols = element_symbols()
    return {symbols[z]: float(x) for z, x in zip(batch.elements[0], batch.fractions[0]) if z > 0}


def _ferrimagnetic(formula: str) -> bool:
    return bool(set(_fractions(formula)) & set(_FERRIMAGNETIC_R))


def _fit_s(series: pd.DataFrame, prototype: str, tc: dict[str, float]) -> list[tuple[str, float]]:
    out = []
    rows = series[(series["prototype"] == prototype) & series["Js_T"].notna()]
    for name, group in rows.groupby("canonical", sort=True):
        if name not in tc or _ferrimagnetic(group["formula"].iloc[0]):
            continue
        low = group[group["T_K"] <= LOW_T_MAX]
        room = group[group["T_K"].between(*ROOM_T)]
        if low.empty or room.empty:
            continue
        s = solve_kuzmin_s(float(room["Js_T"].median() / low["Js_T"].median()), float(low["T_K"].median()),
                           float(room["T_K"].median()), tc[name])
        if s is not None:
            out.append((str(name), s))
    return out


def _fit_exponent(series: pd.DataFrame, prototype: str, s: float, tc: dict[str, float]) -> list[tuple[str, float]]:
    """n per compound from ln K1 (or ln mu0HA, exponent n - 1) against ln m, least squares over its points."""
    out = []
    rows = series[series["prototype"] == prototype]
    for name, group in rows.groupby("canonical", sort=True):
        if name not in tc or "Ce" in _fractions(group["formula"].iloc[0]):
            continue
        for column, offset in (("K1_MJm3", 0.0), ("muHA_T", 1.0)):
            points = group[group[column].notna() & (group[column] > 0)]
            points = points.groupby("T_K")[column].median()
            if len(points) < 2 or points.index.max() - points.index.min() < MIN_SPAN_K:
                continue
            m = kuzmin_m(points.index.to_numpy(float), tc[name], s)
            if np.any(m <= 0):
                continue
            x, y = np.log(m), np.log(points.to_numpy(float))
            slope = float(np.polyfit(x, y, 1)[0]) if len(x) > 2 else float((y[1] - y[0]) / (x[1] - x[0]))
            out.append((f"{name} ({'K1' if column == 'K1_MJm3' else 'mu0HA'})", slope + offset))
            break
    return out


def _basis(items: list[tuple[str, float]]) -> str:
    return "; ".join(f"{name} {value:.3g}" for name, value in items)


@lru_cache(maxsize=1)
def family_laws() -> dict[str, FamilyLaw]:
    """The law of every built-in family (see the module docstring); deterministic, computed from the tables."""
    series = _series()
    laws_table = load_temperature_laws()
    tc = _curie_temperatures()
    reference_tc = {f: tc.get(encode([ref]).names()[0]) for f, ref in FAMILY_REFERENCE.items()}
    out = {}
    for family, prototype in sorted(FAMILY_PROTOTYPE.items()):
        s, s_source, s_basis = None, "run default", "no series and no magnet coefficient"
        fitted = _fit_s(series, prototype, tc)
        if family in ("Sm2Co17", "2-17-interstitial"):  # one prototype, two hosts: fit only on the family's host
            host = "Co" if family == "Sm2Co17" else "Fe"
            fitted = [(n, v) for n, v in _fit_s(series, prototype, tc) if _host(n) == host]
        if fitted:
            s, s_source = float(np.median([v for _, v in fitted])), "fitted"
            s_basis = f"Js(low T) and Js(room T) of {len(fitted)} compounds: " + _basis(fitted)
        else:
            coefficients = laws_table[(laws_table["family"] == family)
                                      & (laws_table["parameter"] == "js_temperature_coefficient_per_K")]
            ref_tc = reference_tc.get(family)
            if len(coefficients) and ref_tc:
                alpha = float(coefficients["value"].median())
                value = kuzmin_s_from_coefficient(alpha, 293.0, ref_tc)
                if value is not None:
                    s, s_source = value, "magnet proxy"
                    s_basis = (f"median remanence coefficient {alpha:.4g} /K of {len(coefficients)} published rows at "
                               f"293 K, Tc {ref_tc:.0f} K of {FAMILY_REFERENCE[family]}")
        n, n_source, n_basis = None, "run default", "no published exponent and no series"
        published = laws_table[(laws_table["family"] == family) & (laws_table["parameter"] == "k1_exponent")]
        if len(published):
            n, n_source = float(published["value"].median()), "published"
            n_basis = "; ".join(f"{r.formula} {r.value:g} ({r.source}, {r.T_range_K} K)"
                                for r in published.itertuples())
        elif s is not None:
            exps = _fit_exponent(series, prototype, s, tc)
            if family in ("Sm2Co17", "2-17-interstitial"):
                host = "Co" if family == "Sm2Co17" else "Fe"
                exps = [(name, v) for name, v in exps if _host(name.split(" ")[0]) == host]
            if exps:
                n, n_source = float(np.median([v for _, v in exps])), "fitted"
                n_basis = f"{len(exps)} compounds with the family's s: " + _basis(exps)
        out[family] = FamilyLaw(family, s, s_source, s_basis, n, n_source, n_basis)
    return out


def _host(canonical: str) -> str:
    fractions = _fractions(canonical)
    return "Co" if fractions.get("Co", 0.0) > fractions.get("Fe", 0.0) else "Fe"


def law_for(family: str | None, kuzmin_s: float, k1_exponent: float) -> tuple[float, float, str]:
    """(s, n, description) for a family: its fitted law where it has one, the given values otherwise."""
    law = family_laws().get(family or "")
    if law is None:
        return kuzmin_s, k1_exponent, "run default (no family law)"
    s = law.kuzmin_s if law.kuzmin_s is not None else kuzmin_s
    n = law.k1_exponent if law.k1_exponent is not None else k1_exponent
    return s, n, f"s {s:.3g} ({law.s_source}), n {n:.3g} ({law.k1_source})"
