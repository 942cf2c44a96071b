"""Numba kernels of the acquisition rules (pure functions of arrays, cached, no fastmath)."""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def expected_improvement_kernel(mean, sigma, best, xi):
    """Expected improvement of a maximized objective over ``best + xi`` under N(mean, sigma^2), per row.

    ``EI = (m - b) Phi(z) + s phi(z)`` with ``z = (m - b) / s`` and ``b = best + xi``; with ``s <= 0`` (or not
    finite) it is ``max(m - b, 0)``; NaN where the mean is not finite.
    """
    n = mean.shape[0]
    out = np.empty(n, dtype=np.float64)
    target = best + xi
    for i in range(n):
        m = mean[i]
        s = sigma[i]
        if not np.isfinite(m):
            out[i] = np.nan
            continue
        gain = m - target
        if not (np.isfinite(s) and s > 0.0):
            out[i] = gain if gain > 0.0 else 0.0
            continue
        z = gain / s
        cdf = 0.5 * math.erfc(-z / math.sqrt(2.0))
        pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        out[i] = gain * cdf + s * pdf
    return out


@numba.njit(cache=True)
def diverse_batch_kernel(order, elements, fractions, size, min_distance):
    """Greedy diverse batch: walk ``order`` (candidates by decreasing acquisition value) and take a candidate
    unless its L1 atomic-fraction distance to one already taken is below ``min_distance``; stop at ``size``.

    Parameters
    ----------
    order : int64 (n,)
    elements : int16 (n, w)
        Atomic numbers of each candidate (0 = padding).
    fractions : float64 (n, w)
        Atomic fractions of each candidate.
    size : int
    min_distance : float
        In [0, 2]; 0 only rejects identical compositions.

    Returns
    -------
    int64 (k,), k <= size: the rows taken, in the order taken.
    """
    taken = np.empty(size, dtype=np.int64)
    k = 0
    w = elements.shape[1]
    for a in range(order.shape[0]):
        if k >= size:
            break
        i = order[a]
        close = False
        for b in range(k):
            j = taken[b]
            # L1 distance between two sparse rows: sum over the union of their elements
            d = 0.0
            for p in range(w):
                zi = elements[i, p]
                if zi == 0:
                    continue
                other = 0.0
                for q in range(w):
                    if elements[j, q] == zi:
                        other = fractions[j, q]
                        break
                d += abs(fractions[i, p] - other)
            for q in range(w):
                zj = elements[j, q]
                if zj == 0:
                    continue
                present = False
                for p in range(w):
                    if elements[i, p] == zj:
                        present = True
                        break
                if not present:
                    d += fractions[j, q]
            if d < min_distance or d == 0.0:
                close = True
                break
        if not close:
            taken[k] = i
            k += 1
    return taken[:k]
