"""Numba kernels for composition-level supply risk (pure functions of arrays, cached, no fastmath)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def composition_risk_kernel(elements, mass_fractions, element_risk, threshold):
    """Mass-exposure-weighted and weakest-link supply risk of every row, with the element that drives each.

    Only elements with a finite risk ("covered") take part:

    - ``weighted = sum_j m_j r_j / sum_j m_j`` over covered elements j (NaN if none is covered);
      its driver is the element with the largest contribution ``m_j r_j``;
    - ``weakest = max_j r_j`` over covered elements with ``m_j >= threshold`` (NaN if none);
      its driver is that element.

    Ties go to the first element in the row (canonical order), so results never depend on anything
    but the row itself.

    Parameters
    ----------
    elements : int16 (n, w)
        Atomic numbers, 0 = padding.
    mass_fractions : float64 (n, w)
    element_risk : float64 (N_Z,)
        Element risk in [0, 1] indexed by atomic number; NaN where the element has no data.
    threshold : float
        Minimum mass fraction for the weakest link.

    Returns
    -------
    weighted : float64 (n,)
    weighted_driver : int16 (n,)
        Atomic number, 0 when no element is covered.
    weakest : float64 (n,)
    weakest_driver : int16 (n,)
    covered_mass : float64 (n,)
        Mass fraction of the covered elements.
    """
    n, w = elements.shape
    weighted = np.full(n, np.nan, dtype=np.float64)
    weakest = np.full(n, np.nan, dtype=np.float64)
    weighted_driver = np.zeros(n, dtype=np.int16)
    weakest_driver = np.zeros(n, dtype=np.int16)
    covered_mass = np.zeros(n, dtype=np.float64)
    for i in numba.prange(n):
        acc = 0.0
        mass = 0.0
        best_contribution = -1.0
        best_risk = -1.0
        for j in range(w):
            z = elements[i, j]
            if z == 0:
                continue
            r = element_risk[z]
            if not np.isfinite(r):
                continue
            m = mass_fractions[i, j]
            acc += m * r
            mass += m
            if m * r > best_contribution:
                best_contribution = m * r
                weighted_driver[i] = z
            if m >= threshold and r > best_risk:
                best_risk = r
                weakest_driver[i] = z
        covered_mass[i] = mass
        if mass > 0.0:
            weighted[i] = acc / mass
        if best_risk >= 0.0:
            weakest[i] = best_risk
    return weighted, weighted_driver, weakest, weakest_driver, covered_mass


@numba.njit(cache=True, parallel=True)
def mass_share_kernel(elements, mass_fractions, flag):
    """Sum of the mass fractions of the elements flagged in ``flag`` (bool (N_Z,)), per row: float64 (n,)."""
    n, w = elements.shape
    out = np.zeros(n, dtype=np.float64)
    for i in numba.prange(n):
        acc = 0.0
        for j in range(w):
            z = elements[i, j]
            if z != 0 and flag[z]:
                acc += mass_fractions[i, j]
        out[i] = acc
    return out
