"""Numba kernels of the surrogates: domain-of-applicability distances and the nearest-phase baseline.

Pure functions of arrays, ``cache=True``, no fastmath; the modules beside them validate inputs and fix
dtypes and layouts.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def domain_distance_kernel(X, prototypes, mean, scale, components_t, train_proj, train_resid, train_mask, proto_start):
    """Distance of each row of X to the nearest training row of its prototype, per target, in descriptor space.

    Each row is standardized, z = (x - mean) / scale, and split into its projection p = C z on the k
    orthonormal principal directions C of the training rows and the norm r of the rest,
    r = sqrt(max(|z|^2 - |p|^2, 0)). The distance to training row j is

        d_j = sqrt(|p - p_j|^2 + (r - r_j)^2),

    a lower bound of the Euclidean distance |z - z_j| that equals it when the training rows span no more
    than k directions. Only training rows of the row's prototype count: the training rows are sorted by
    prototype, and those of prototype q are rows proto_start[q] to proto_start[q + 1] - 1.

    Parameters
    ----------
    X : float64 (n, d)
    prototypes : int64 (n,), prototype code of each row (outside 0..P-1: no training row counts)
    mean, scale : float64 (d,)
    components_t : float64 (d, k), C transposed (orthonormal columns), so that the projection reads it
        contiguously; the sums run in the same order as over C's rows
    train_proj : float64 (m, k); train_resid : float64 (m,)
    train_mask : bool (m, T), True where training row j belongs to target t
    proto_start : int64 (P + 1,), non-decreasing, proto_start[0] = 0, proto_start[P] = m

    Returns
    -------
    float64 (n, T)
        Smallest d_j over the training rows of each target and of the row's prototype (inf where there is
        none, NaN for a row of X holding a NaN).
    """
    n, d = X.shape
    k = components_t.shape[1]
    n_targets = train_mask.shape[1]
    n_proto = proto_start.shape[0] - 1
    out = np.empty((n, n_targets), dtype=np.float64)
    for i in numba.prange(n):
        p = np.zeros(k, dtype=np.float64)
        total = 0.0
        for f in range(d):
            z = (X[i, f] - mean[f]) / scale[f]
            total += z * z
            for c in range(k):
                p[c] += components_t[f, c] * z
        proj = 0.0
        for c in range(k):
            proj += p[c] * p[c]
        rest = total - proj
        r = np.sqrt(rest) if rest > 0.0 else 0.0
        for t in range(n_targets):
            out[i, t] = np.inf
        if np.isnan(total):
            for t in range(n_targets):
                out[i, t] = np.nan
            continue
        q = prototypes[i]
        if q < 0 or q >= n_proto:
            continue
        for j in range(proto_start[q], proto_start[q + 1]):
            acc = (r - train_resid[j]) * (r - train_resid[j])
            for c in range(k):
                diff = p[c] - train_proj[j, c]
                acc += diff * diff
            dist = np.sqrt(acc)
            for t in range(n_targets):
                if train_mask[j, t] and dist < out[i, t]:
                    out[i, t] = dist
    return out


@numba.njit(cache=True)
def _composition_l1(elements_a, fractions_a, elements_b, fractions_b):
    """L1 distance of two compositions given as (atomic number, atomic fraction) rows, 0-padded."""
    total = 0.0
    for a in range(elements_a.shape[0]):
        e = elements_a[a]
        if e <= 0:
            continue
        other = 0.0
        for b in range(elements_b.shape[0]):
            if elements_b[b] == e:
                other = fractions_b[b]
        total += abs(fractions_a[a] - other)
    for b in range(elements_b.shape[0]):
        e = elements_b[b]
        if e <= 0:
            continue
        found = False
        for a in range(elements_a.shape[0]):
            if elements_a[a] == e:
                found = True
        if not found:
            total += fractions_b[b]
    return total


@numba.njit(cache=True, parallel=True)
def nearest_phase_kernel(elements, fractions, train_elements, train_fractions, train_values):
    """Nearest-known-phase baseline: the value of the training composition closest in atomic fractions.

    The distance is the L1 distance of the atomic-fraction vectors (0 for equal compositions, 2 for
    compositions without a common element). Training rows at the same smallest distance (duplicates of a
    composition, or equidistant phases) are averaged in training order.

    Parameters
    ----------
    elements : int (n, w), atomic numbers, 0 as padding; fractions : float64 (n, w)
    train_elements : int (m, w2); train_fractions : float64 (m, w2); train_values : float64 (m,)

    Returns
    -------
    value : float64 (n,)
    distance : float64 (n,)
    """
    n = elements.shape[0]
    m = train_elements.shape[0]
    value = np.empty(n, dtype=np.float64)
    distance = np.empty(n, dtype=np.float64)
    for i in numba.prange(n):
        best = np.inf
        total = 0.0
        count = 0
        for j in range(m):
            dist = _composition_l1(elements[i], fractions[i], train_elements[j], train_fractions[j])
            if dist < best - 1e-12:
                best = dist
                total = train_values[j]
                count = 1
            elif abs(dist - best) <= 1e-12:
                total += train_values[j]
                count += 1
        value[i] = total / count
        distance[i] = best
    return value, distance
