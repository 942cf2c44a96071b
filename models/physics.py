"""From intrinsic properties to magnet performance at the operating temperature.

Vectorized pure functions of numpy arrays (scalars broadcast). Units are SI as in the column names:
``Js_T`` (T), ``K1_MJm3`` (MJ/m^3), ``Tc_K`` and temperatures (K), fields as mu0*H in T, energy products
in kJ/m^3. Every function returns 0 for a magnet above its Curie temperature, never a negative or NaN
performance.

These are documented textbook models with parameters a user can change, not truths:

- Kuz'min: m(T) = Ms(T)/Ms(0) = [1 - s t^(3/2) - (1 - s) t^(5/2)]^(1/3), t = T/Tc, 0 < s < 5/2
  (M. D. Kuz'min, Phys. Rev. Lett. 94, 107204 (2005)); ``s`` is a property of the material and has no
  default here: the caller chooses it and says so;
- Callen-Callen: K1(T) = K1(T0) [m(T)/m(T0)]^n with n = 3 for uniaxial anisotropy (H. B. Callen and
  E. Callen, J. Phys. Chem. Solids 27, 1271 (1966)); rare-earth sublattice anisotropy falls faster, so n
  is a parameter;
- anisotropy field mu0 HA = 2 K1 / Ms = 2 mu0 K1 / Js; hardness kappa = sqrt(mu0 K1) / Js (both 0 for
  easy-plane K1 <= 0, which is not a hard magnet);
- Kronmueller coercivity mu0 Hc = alpha mu0 HA - N_eff Js (alpha = 0.4 and N_eff = 1.0 for a sintered,
  aligned magnet; parameters of the processing route), floored at 0;
- remanence Br = f Js (f = 0.9, volume fraction times alignment);
- energy product of an ideal square loop: Br^2 / (4 mu0) when mu0 Hc >= Br / 2 (branch "remanence"),
  else Hc (Br - mu0 Hc) (branch "coercivity"); the upper bound Js^2 / (4 mu0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.constants import mu_0

__all__ = [
    "MU0",
    "ProcessingRoute",
    "SINTERED",
    "GRADES",
    "kuzmin_m",
    "reduced_pair",
    "scale_js",
    "scale_k1",
    "k1_power",
    "anisotropy_field_T",
    "hardness_kappa",
    "coercivity_T",
    "remanence_T",
    "bhmax_kJm3",
    "bhmax_bound_kJm3",
    "grade_of",
    "meets_grade",
    "performance",
]

#: Vacuum permeability in T m / A (CODATA, from scipy.constants).
MU0 = mu_0

#: Sintered NdFeB grades by intrinsic coercivity at room temperature: (name, minimum mu0 Hcj in T,
#: maximum working temperature in K). 1 T of mu0 H = 10 kOe. Industry convention (N 12 kOe / 80 C,
#: M 14 / 100 C, H 17 / 120 C, SH 20 / 150 C, UH 25 / 180 C, EH 30 / 200 C, AH 35 / 230 C).
GRADES = (
    ("N", 1.2, 353.15),
    ("M", 1.4, 373.15),
    ("H", 1.7, 393.15),
    ("SH", 2.0, 423.15),
    ("UH", 2.5, 453.15),
    ("EH", 3.0, 473.15),
    ("AH", 3.5, 503.15),
)


@dataclass(frozen=True)
class ProcessingRoute:
    """Parameters of a processing route: Kronmueller alpha and N_eff, remanence factor f."""

    alpha: float = 0.4
    n_eff: float = 1.0
    remanence_factor: float = 0.9

    def __post_init__(self):
        for name in ("alpha", "n_eff", "remanence_factor"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"ProcessingRoute.{name} must be a finite number >= 0, got {value!r}")
        if self.remanence_factor > 1:
            raise ValueError(f"ProcessingRoute.remanence_factor must be <= 1, got {self.remanence_factor!r}")


#: Sintered, aligned magnet (the defaults of ../shared/SCIENCE.md).
SINTERED = ProcessingRoute()


def kuzmin_m(T_K, Tc_K, s):
    """Reduced spontaneous magnetization m(T) = Ms(T)/Ms(0) (Kuz'min), 0 at and above Tc.

    Parameters
    ----------
    T_K, Tc_K : array_like of float, K
    s : array_like of float, 0 < s < 5/2

    Returns
    -------
    m : ndarray of float64 in [0, 1]
    """
    T, Tc, s = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (T_K, Tc_K, s)))
    if np.any((s <= 0) | (s >= 2.5)):
        raise ValueError(f"Kuz'min shape parameter s must satisfy 0 < s < 5/2, got {np.unique(s)[:5]}")
    if np.any(T < 0):
        raise ValueError(f"temperature must be >= 0 K, got {T[T < 0][:5]}")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(Tc > 0, T / Tc, np.inf)
        inside = np.where(t < 1, 1.0 - s * t**1.5 - (1.0 - s) * t**2.5, 0.0)
    return np.where(t < 1, np.cbrt(np.clip(inside, 0.0, None)), 0.0)


def reduced_pair(T_ref_K, T_K, Tc_K, s) -> tuple[np.ndarray, np.ndarray]:
    """(m(T_ref), m(T)) of :func:`kuzmin_m`: what :func:`scale_js` and :func:`scale_k1` read of Tc and s."""
    return kuzmin_m(T_ref_K, Tc_K, s), kuzmin_m(T_K, Tc_K, s)


def scale_js(Js_ref_T, T_ref_K, T_K, Tc_K, s):
    """Js(T) = Js(T_ref) m(T) / m(T_ref): rescale a polarization measured at T_ref (0 above Tc)."""
    m_ref, m = reduced_pair(T_ref_K, T_K, Tc_K, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m_ref > 0, np.asarray(Js_ref_T, dtype=np.float64) * m / m_ref, 0.0)


def scale_k1(K1_ref_MJm3, T_ref_K, T_K, Tc_K, s, exponent=3.0):
    """K1(T) = K1(T_ref) [m(T)/m(T_ref)]^exponent (Callen-Callen, exponent 3 for uniaxial; 0 above Tc)."""
    return np.asarray(K1_ref_MJm3, dtype=np.float64) * k1_power(reduced_pair(T_ref_K, T_K, Tc_K, s), exponent)


def k1_power(reduced, exponent=3.0):
    """[m(T)/m(T_ref)]^exponent of :func:`scale_k1`, from ``reduced`` = (m(T_ref), m(T)); 0 where the ratio is 0
    (at or above Tc, and where m(T_ref) is 0), also for a negative exponent (MnBi's -5), which would give 1/0."""
    m_ref, m = reduced
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(m_ref > 0, m / m_ref, 0.0)
        return np.where(ratio > 0, ratio ** np.asarray(exponent, dtype=np.float64), 0.0)


def anisotropy_field_T(K1_MJm3, Js_T):
    """mu0 HA = 2 mu0 K1 / Js in T; 0 for K1 <= 0 (easy plane) or Js <= 0."""
    K1 = np.asarray(K1_MJm3, dtype=np.float64) * 1e6
    Js = np.asarray(Js_T, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((K1 > 0) & (Js > 0), 2.0 * MU0 * K1 / Js, 0.0)


def hardness_kappa(K1_MJm3, Js_T):
    """kappa = sqrt(mu0 K1) / Js (dimensionless); 0 for K1 <= 0 or Js <= 0. kappa >= 1: can be a hard magnet."""
    K1 = np.asarray(K1_MJm3, dtype=np.float64) * 1e6
    Js = np.asarray(Js_T, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((K1 > 0) & (Js > 0), np.sqrt(MU0 * np.clip(K1, 0, None)) / Js, 0.0)


def coercivity_T(muHA_T, Js_T, route: ProcessingRoute = SINTERED):
    """Kronmueller coercivity mu0 Hc = alpha mu0 HA - N_eff Js in T, floored at 0."""
    value = route.alpha * np.asarray(muHA_T, dtype=np.float64) - route.n_eff * np.asarray(Js_T, dtype=np.float64)
    return np.clip(value, 0.0, None)


def remanence_T(Js_T, route: ProcessingRoute = SINTERED):
    """Br = f Js in T."""
    return route.remanence_factor * np.clip(np.asarray(Js_T, dtype=np.float64), 0.0, None)


def bhmax_kJm3(Br_T, muHc_T):
    """Energy product of an ideal square loop and the branch that bounds it.

    Returns
    -------
    bhmax_kJm3 : ndarray of float64
        Br^2/(4 mu0) when mu0 Hc >= Br/2, else Hc (Br - mu0 Hc) = muHc (Br - muHc)/mu0; in kJ/m^3.
    branch : ndarray of str
        ``"remanence"`` or ``"coercivity"`` (``"none"`` where Br = 0).
    """
    Br, muHc = np.broadcast_arrays(np.asarray(Br_T, dtype=np.float64), np.asarray(muHc_T, dtype=np.float64))
    Br = np.clip(Br, 0.0, None)
    muHc = np.clip(muHc, 0.0, None)
    by_remanence = muHc >= Br / 2
    value = np.where(by_remanence, Br**2 / (4 * MU0), muHc * (Br - muHc) / MU0) / 1000.0
    branch = np.where(Br <= 0, "none", np.where(by_remanence, "remanence", "coercivity"))
    return np.where(Br > 0, value, 0.0), branch


def bhmax_bound_kJm3(Js_T):
    """Upper bound of the energy product, Js^2 / (4 mu0), in kJ/m^3."""
    Js = np.clip(np.asarray(Js_T, dtype=np.float64), 0.0, None)
    return Js**2 / (4 * MU0) / 1000.0


def grade_of(muHcj_room_T):
    """Highest sintered-NdFeB grade whose room-temperature coercivity threshold is met ('' if none)."""
    value = np.asarray(muHcj_room_T, dtype=np.float64)
    names = np.array([""] + [name for name, _, _ in GRADES], dtype=str)
    thresholds = np.array([threshold for _, threshold, _ in GRADES])
    met = np.searchsorted(thresholds, value, side="right")  # thresholds <= value (they increase)
    return names[np.where(np.isnan(value), 0, met)]


def meets_grade(muHcj_room_T, grade: str, operating_temperature_K: float | None = None):
    """True where the coercivity meets ``grade`` ("SH") and, if given, the operating temperature is not
    above the grade's maximum working temperature ("SH at 150 C": grade SH and T_op <= 423.15 K)."""
    table = {name: (threshold, t_max) for name, threshold, t_max in GRADES}
    if grade not in table:
        raise ValueError(f"unknown grade {grade!r} (known: {', '.join(table)})")
    threshold, t_max = table[grade]
    ok = np.asarray(muHcj_room_T, dtype=np.float64) >= threshold
    if operating_temperature_K is not None and operating_temperature_K > t_max + 1e-9:
        ok = np.zeros_like(ok)
    return ok


def performance(Js_T, K1_MJm3, Tc_K, T_ref_K, T_K, s, route: ProcessingRoute = SINTERED, k1_exponent=3.0):
    """Magnet performance at temperature ``T_K`` from intrinsic properties measured or predicted at ``T_ref_K``.

    (:func:`magnetscreen.models.predictions.derive` computes the same numbers for a whole batch and its sigma
    propagation in :mod:`magnetscreen.models.physics_kernels`; this is the reference it is tested against.)

    Returns
    -------
    dict of ndarray
        ``Js_T``, ``K1_MJm3`` (at T), ``muHA_T``, ``kappa``, ``muHc_T``, ``Br_T``, ``BHmax_kJm3``,
        ``BHmax_branch``, ``BHmax_bound_kJm3``; every performance metric is 0 at or above Tc.
    """
    js = scale_js(Js_T, T_ref_K, T_K, Tc_K, s)
    k1 = scale_k1(K1_MJm3, T_ref_K, T_K, Tc_K, s, k1_exponent)
    ha = anisotropy_field_T(k1, js)
    hc = coercivity_T(ha, js, route)
    br = remanence_T(js, route)
    bh, branch = bhmax_kJm3(br, hc)
    return {
        "Js_T": js,
        "K1_MJm3": k1,
        "muHA_T": ha,
        "kappa": hardness_kappa(k1, js),
        "muHc_T": hc,
        "Br_T": br,
        "BHmax_kJm3": bh,
        "BHmax_branch": branch,
        "BHmax_bound_kJm3": bhmax_bound_kJm3(js),
    }
