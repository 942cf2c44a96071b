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


@numba.njit(cache=True, parallel=True)
def value_risk_cost_kernel(elements, mass_fractions, element_risk, price, price_low, price_high):
    """Value-weighted supply risk and raw-material cost of every row.

    With ``v_j = m_j p_j`` the raw-material value of element j per kg of composition (mass fraction times
    price in USD per kg of element):

    - ``cost = sum_j v_j`` over elements with a finite price (``cost_low``/``cost_high`` the same with the
      low/high prices); NaN when no element has a price; ``priced_mass`` is the mass fraction priced;
    - ``risk = sum_j v_j r_j / sum_j v_j`` over elements with a finite price and a finite risk (NaN when
      that value is 0); its driver is the element that lifts it most above its mean, the largest
      ``v_j (r_j - risk)``, or, when no element lies above the mean (one element, or equal risks), the
      largest ``v_j r_j`` (ties: first in the row).

    Parameters
    ----------
    elements : int16 (n, w)
    mass_fractions : float64 (n, w)
    element_risk, price, price_low, price_high : float64 (N_Z,)
        Indexed by atomic number; NaN where an element has no value.

    Returns
    -------
    risk : float64 (n,)
    driver : int16 (n,)
    cost, cost_low, cost_high : float64 (n,)
    priced_mass : float64 (n,)
    """
    n, w = elements.shape
    risk = np.full(n, np.nan, dtype=np.float64)
    driver = np.zeros(n, dtype=np.int16)
    cost = np.full(n, np.nan, dtype=np.float64)
    cost_low = np.full(n, np.nan, dtype=np.float64)
    cost_high = np.full(n, np.nan, dtype=np.float64)
    priced_mass = np.zeros(n, dtype=np.float64)
    for i in numba.prange(n):
        total = 0.0
        low = 0.0
        high = 0.0
        mass = 0.0
        value = 0.0
        acc = 0.0
        best = -1.0
        for j in range(w):
            z = elements[i, j]
            if z == 0:
                continue
            p = price[z]
            if not np.isfinite(p):
                continue
            m = mass_fractions[i, j]
            v = m * p
            total += v
            low += m * price_low[z]
            high += m * price_high[z]
            mass += m
            r = element_risk[z]
            if np.isfinite(r):
                value += v
                acc += v * r
                if v * r > best:
                    best = v * r
                    driver[i] = z
        priced_mass[i] = mass
        if mass > 0.0:
            cost[i] = total
            cost_low[i] = low
            cost_high[i] = high
        if value > 0.0:
            mean = acc / value
            risk[i] = mean
            lift = 0.0
            for j in range(w):
                z = elements[i, j]
                if z == 0 or not (np.isfinite(price[z]) and np.isfinite(element_risk[z])):
                    continue
                excess = mass_fractions[i, j] * price[z] * (element_risk[z] - mean)
                if excess > lift + 1e-12 * value:
                    lift = excess
                    driver[i] = z
        else:
            driver[i] = 0
    return risk, driver, cost, cost_low, cost_high, priced_mass


@numba.njit(cache=True, parallel=True)
def element_set_code_kernel(elements, members):
    """Which of ``members`` (int64 (m,) atomic numbers, m <= 63) each row contains, as a bit code: bit b is set
    when ``members[b]`` is among the row's elements. Returns int64 (n,)."""
    n, w = elements.shape
    out = np.zeros(n, dtype=np.int64)
    for i in numba.prange(n):
        code = 0
        for j in range(w):
            z = elements[i, j]
            if z == 0:
                continue
            for b in range(members.shape[0]):
                if members[b] == z:
                    code |= 1 << b
        out[i] = code
    return out
