"""Numba kernel of the physics layer and its uncertainty propagation (a pure function of arrays, ``cache=True``).

:func:`derive_kernel` evaluates, row by row, what :func:`magnetscreen.models.predictions.derive` asks of
:func:`magnetscreen.models.physics.performance`: the central point, each intrinsic property moved up and down by
its sigma, and room temperature. The caller computes the parts that use ``pow`` and ``cbrt`` with numpy (the
reduced magnetizations of :func:`magnetscreen.models.physics.reduced_pair` and ``ratio ** exponent``), whose
vectorized implementations round differently from the C library's; everything here is addition, subtraction,
multiplication, division and square root, in the same order as the numpy functions, so the results are the
same numbers. ``np.clip(x, 0, None)`` is numpy's maximum: ``x`` where ``x > 0`` or ``x`` is NaN, else +0.0.
Every division is by a constant or by a value tested positive first, so the kernels use numpy's error model
(no zero-division test per division).
"""

from __future__ import annotations

import numba
import numpy as np

#: The derived metrics in the kernel's output columns (keys of :func:`magnetscreen.models.physics.performance`).
METRICS = ("Js_T", "K1_MJm3", "muHA_T", "kappa", "muHc_T", "Br_T", "BHmax_kJm3", "BHmax_bound_kJm3")
#: Codes of the (BH)max branch.
BRANCHES = ("none", "remanence", "coercivity")


@numba.njit(cache=True, error_model="numpy")
def _floor0(x):
    """``np.maximum(x, 0.0)`` for one value: NaN stays NaN, -0.0 becomes +0.0."""
    return x if (x > 0.0 or np.isnan(x)) else 0.0


@numba.njit(cache=True, error_model="numpy")
def _performance(js_ref, k1_ref, m_ref, m, power, alpha, n_eff, f_rem, mu0, out):
    """The :data:`METRICS` of one evaluation into ``out`` (float64 (8,)); returns the (BH)max branch code.

    ``power`` is ``ratio ** exponent`` of :func:`magnetscreen.models.physics.scale_k1` for this (m_ref, m).
    """
    js = js_ref * m / m_ref if m_ref > 0 else 0.0
    k1 = k1_ref * power
    K1 = k1 * 1e6
    hard = (K1 > 0) and (js > 0)
    ha = (2.0 * mu0) * K1 / js if hard else 0.0
    kappa = np.sqrt(mu0 * _floor0(K1)) / js if hard else 0.0
    hc = _floor0(alpha * ha - n_eff * js)
    br = f_rem * _floor0(js)
    br0 = _floor0(br)
    hc0 = _floor0(hc)
    by_remanence = hc0 >= br0 / 2
    value = (br0 * br0 / (4 * mu0) if by_remanence else hc0 * (br0 - hc0) / mu0) / 1000.0
    js0 = _floor0(js)
    out[0] = js
    out[1] = k1
    out[2] = ha
    out[3] = kappa
    out[4] = hc
    out[5] = br
    out[6] = value if br0 > 0 else 0.0
    out[7] = js0 * js0 / (4 * mu0) / 1000.0
    if br0 <= 0:
        return 0
    return 1 if by_remanence else 2


@numba.njit(cache=True, parallel=True, error_model="numpy")
def derive_kernel(js, k1, sigma_js, sigma_k1, reduced, power, alpha, n_eff, f_rem, mu0):
    """Central metrics, their propagated sigmas, mu0 Hc at the reference temperature and the (BH)max branch.

    Parameters
    ----------
    js, k1, sigma_js, sigma_k1 : float64 (n,)
        Js (T) and K1 (MJ/m^3) at the reference temperature and their sigmas (NaN already replaced).
    reduced : float64 (6, n)
        m(T_ref) and m(T) of the central Tc, of Tc + sigma and of max(Tc - sigma, 0).
    power : float64 (4, n)
        ``ratio ** exponent`` (``ratio = m / m_ref`` where ``m_ref > 0``, else 0) of those three pairs and of
        room temperature (``m = m_ref`` of the central Tc).
    alpha, n_eff, f_rem : float
        The processing route.
    mu0 : float
        Vacuum permeability.

    Returns
    -------
    central, sigma : float64 (8, n)
        The :data:`METRICS` (rows) at the operating temperature, and ``sqrt(sum over Js, K1, Tc of ((f(up) - f(down)) /
        2)^2)`` with Js and Tc floored at 0 on the way down (K1 not), the other inputs moved by ``+ 0.0`` and
        ``- 0.0`` as in :func:`magnetscreen.models.predictions.derive`.
    hc_room : float64 (n,)
        mu0 Hc at the reference temperature.
    branch : int8 (n,)
        Code of :data:`BRANCHES` at the central point.
    """
    n = js.shape[0]
    central = np.empty((8, n), dtype=np.float64)
    sigma = np.empty((8, n), dtype=np.float64)
    hc_room = np.empty(n, dtype=np.float64)
    branch = np.empty(n, dtype=np.int8)
    for i in numba.prange(n):
        here = np.empty(8, dtype=np.float64)
        hi = np.empty(8, dtype=np.float64)
        lo = np.empty(8, dtype=np.float64)
        var = np.zeros(8, dtype=np.float64)
        j0, k0, dj, dk = js[i], k1[i], sigma_js[i], sigma_k1[i]
        m_ref, m = reduced[0, i], reduced[1, i]
        branch[i] = _performance(j0, k0, m_ref, m, power[0, i], alpha, n_eff, f_rem, mu0, here)
        for which in range(3):
            up_js = j0 + (dj if which == 0 else 0.0)
            up_k1 = k0 + (dk if which == 1 else 0.0)
            down_js = _floor0(j0 - (dj if which == 0 else 0.0))
            down_k1 = k0 - (dk if which == 1 else 0.0)
            if which == 2:
                _performance(up_js, up_k1, reduced[2, i], reduced[3, i], power[1, i], alpha, n_eff, f_rem, mu0, hi)
                _performance(down_js, down_k1, reduced[4, i], reduced[5, i], power[2, i], alpha, n_eff, f_rem, mu0,
                             lo)
            else:
                _performance(up_js, up_k1, m_ref, m, power[0, i], alpha, n_eff, f_rem, mu0, hi)
                _performance(down_js, down_k1, m_ref, m, power[0, i], alpha, n_eff, f_rem, mu0, lo)
            for q in range(8):
                half = (hi[q] - lo[q]) / 2.0
                var[q] += half * half
        for q in range(8):
            central[q, i] = here[q]
            sigma[q, i] = np.sqrt(var[q])
        _performance(j0, k0, m_ref, m_ref, power[3, i], alpha, n_eff, f_rem, mu0, here)
        hc_room[i] = here[4]
    return central, sigma, hc_room, branch
