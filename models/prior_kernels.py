"""Numba kernel of the end-member priors (a pure function of arrays, ``cache=True``)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def prior_kernel(elements, fractions, prototypes, values, a_slot, host_slot, level_fraction, has_a, interstitial):
    """End-member interpolation of every row (see :mod:`magnetscreen.models.priors`).

    Parameters
    ----------
    elements : int16 (n, w); fractions : float64 (n, w)
    prototypes : int64 (n,), prototype code of each row (-1: none)
    values : float64 (P, A, H, 2), end-member values (NaN unknown)
    a_slot : int64 (P, N_Z); host_slot : int64 (N_Z,); level_fraction : float64 (P,); has_a : bool (P,)
    interstitial : bool (N_Z,), the elements counted in the interstitial level

    Returns
    -------
    float64 (n,)
        sum_a sum_h w_a v_h [(1 - y) E(a, h, 0) + y E(a, h, 1)], with y the interstitials per host-lattice
        atom relative to the level-1 end member's, NaN where a needed end member is unknown, the
        row has no A-site element (prototypes with an A site) or no host element.
    """
    n, width = elements.shape
    n_a = values.shape[1]
    n_h = values.shape[2]
    out = np.empty(n, dtype=np.float64)
    for r in numba.prange(n):
        p = prototypes[r]
        if p < 0 or p >= values.shape[0]:
            out[r] = np.nan
            continue
        if not has_a[p]:
            out[r] = values[p, 0, 0, 0]
            continue
        wa = np.zeros(n_a, dtype=np.float64)
        vh = np.zeros(n_h, dtype=np.float64)
        total_a = 0.0
        total_h = 0.0
        inter = 0.0
        for j in range(width):
            z = elements[r, j]
            if z == 0:
                break
            f = fractions[r, j]
            slot = a_slot[p, z]
            if slot >= 0:
                wa[slot] += f
                total_a += f
            h = host_slot[z]
            if h >= 0:
                vh[h] += f
                total_h += f
            if interstitial[z]:
                inter += f
        if total_a <= 0.0 or total_h <= 0.0:
            out[r] = np.nan
            continue
        y = 0.0
        if level_fraction[p] > 0.0 and inter < 1.0:
            # interstitials per host-lattice atom, relative to the level-1 end member (N3 per R2Fe17: 3/19)
            full = level_fraction[p] / (1.0 - level_fraction[p])
            y = min(1.0, inter / (1.0 - inter) / full)
        acc = 0.0
        ok = True
        for a in range(n_a):
            if wa[a] <= 0.0:
                continue
            for h in range(n_h):
                if vh[h] <= 0.0:
                    continue
                weight = (wa[a] / total_a) * (vh[h] / total_h)
                value = 0.0
                if y < 1.0:
                    low = values[p, a, h, 0]
                    if np.isnan(low):
                        ok = False
                    value += (1.0 - y) * low
                if y > 0.0:
                    high = values[p, a, h, 1]
                    if np.isnan(high):
                        ok = False
                    value += y * high
                acc += weight * value
        out[r] = acc if ok else np.nan
    return out
