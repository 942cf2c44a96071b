"""Numba kernels of the surrogates: domain-of-applicability distances and the nearest-phase baseline.

Pure functions of arrays, ``cache=True``, no fastmath; the modules beside them validate inputs and fix
dtypes and layouts.
"""

from __future__ import annotations

import numba
import numpy as np

#: Rows of X per parallel task of :func:`domain_distance_kernel` (the task's scratch arrays are allocated once).
DOMAIN_CHUNK = 256


@numba.njit(cache=True)
def _target_rows(train_mask, proto_start):
    """Training rows of each (prototype, target), relative to the prototype's first row: those of prototype q and
    target t are ``rows[start[q * T + t]:start[q * T + t + 1]]``, in increasing order."""
    m, n_targets = train_mask.shape
    n_proto = proto_start.shape[0] - 1
    start = np.zeros(n_proto * n_targets + 1, dtype=np.int64)
    rows = np.empty(m * n_targets, dtype=np.int64)
    top = 0
    for q in range(n_proto):
        for t in range(n_targets):
            for j in range(proto_start[q], proto_start[q + 1]):
                if train_mask[j, t]:
                    rows[top] = j - proto_start[q]
                    top += 1
            start[q * n_targets + t + 1] = top
    return rows[:top], start


@numba.njit(cache=True)
def _smallest(values, rows):
    """Smallest of ``values[rows]`` (inf for no row; NaN values never count), in four interleaved running minima
    (the minimum does not depend on the order, so this equals a single pass)."""
    b0 = np.inf
    b1 = np.inf
    b2 = np.inf
    b3 = np.inf
    n = rows.shape[0]
    j = 0
    while j + 4 <= n:
        v0 = values[rows[j]]
        v1 = values[rows[j + 1]]
        v2 = values[rows[j + 2]]
        v3 = values[rows[j + 3]]
        b0 = v0 if v0 < b0 else b0
        b1 = v1 if v1 < b1 else b1
        b2 = v2 if v2 < b2 else b2
        b3 = v3 if v3 < b3 else b3
        j += 4
    while j < n:
        v0 = values[rows[j]]
        b0 = v0 if v0 < b0 else b0
        j += 1
    b0 = b1 if b1 < b0 else b0
    b2 = b3 if b3 < b2 else b2
    return b2 if b2 < b0 else b0


@numba.njit(cache=True)
def _project(z, components_t, p):
    """``p[c] = sum over f of components_t[f, c] * z[f]``, summed over f in order from 0.0, eight directions at a
    time in scalar accumulators (the same sums as one accumulator array, kept in registers)."""
    d, k = components_t.shape
    c = 0
    while c + 8 <= k:
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        for f in range(d):
            zf = z[f]
            row = components_t[f, c:c + 8]
            a0 += row[0] * zf
            a1 += row[1] * zf
            a2 += row[2] * zf
            a3 += row[3] * zf
            a4 += row[4] * zf
            a5 += row[5] * zf
            a6 += row[6] * zf
            a7 += row[7] * zf
        p[c] = a0
        p[c + 1] = a1
        p[c + 2] = a2
        p[c + 3] = a3
        p[c + 4] = a4
        p[c + 5] = a5
        p[c + 6] = a6
        p[c + 7] = a7
        c += 8
    while c < k:
        a0 = 0.0
        for f in range(d):
            a0 += components_t[f, c] * z[f]
        p[c] = a0
        c += 1


@numba.njit(cache=True, parallel=True, error_model="numpy")
def domain_distance_kernel(X, prototypes, mean, scale, components_t, train_proj, train_resid, train_mask, proto_start,
                           finite):
    """Distance of each row of X to the nearest training row of its prototype, per target, in descriptor space.

    Each row is standardized, z = (x - mean) / scale, and split into its projection p = C z on the k
    orthonormal principal directions C of the training rows and the norm r of the rest,
    r = sqrt(max(|z|^2 - |p|^2, 0)). The distance to training row j is

        d_j = sqrt(|p - p_j|^2 + (r - r_j)^2),

    a lower bound of the Euclidean distance |z - z_j| that equals it when the training rows span no more
    than k directions. Only training rows of the row's prototype count: the training rows are sorted by
    prototype, and those of prototype q are rows proto_start[q] to proto_start[q + 1] - 1.

    ``scale`` must be positive (the model-file loader checks it): the kernel divides under numpy's error model,
    without a zero test per element.

    Order of work: each row's standardized values are computed once; the projections are summed over the
    descriptors in order, eight directions at a time in registers. The squared distances to all training rows
    of the prototype are accumulated together, one principal direction at a time over contiguous rows (so the
    processor does several rows at once); each squared distance is still summed in the order (r - r_j)^2, then
    directions 0 .. k-1. The smallest squared distance of each target is taken over that target's rows and its
    square root returned: the square root is monotone, so this equals the smallest of the distances, bitwise.

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
    finite : bool (n,), written: whether every value of the row of X is finite (the kernel reads them all
        anyway, so this costs no second pass over X)

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
    proj_t = np.ascontiguousarray(train_proj.T)
    rows, rows_start = _target_rows(train_mask, proto_start)
    width = 0
    for q in range(n_proto):
        width = max(width, proto_start[q + 1] - proto_start[q])
    out = np.empty((n, n_targets), dtype=np.float64)
    n_chunks = (n + DOMAIN_CHUNK - 1) // DOMAIN_CHUNK
    for ch in numba.prange(n_chunks):
        p = np.empty(k, dtype=np.float64)
        z = np.empty(d, dtype=np.float64)
        acc = np.empty(width, dtype=np.float64)
        for i in range(ch * DOMAIN_CHUNK, min(n, (ch + 1) * DOMAIN_CHUNK)):
            x = X[i]
            total = 0.0
            spread = 0.0
            for f in range(d):
                spread += x[f] * 0.0  # NaN when x[f] is NaN or infinite, else 0
                zf = (x[f] - mean[f]) / scale[f]
                z[f] = zf
                total += zf * zf
            finite[i] = spread == 0.0
            _project(z, components_t, p)
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
            lo = proto_start[q]
            m = proto_start[q + 1] - lo
            a = acc[:m]
            resid = train_resid[lo:lo + m]
            for j in range(m):
                dr = r - resid[j]
                a[j] = dr * dr
            for c in range(k):
                pc = p[c]
                coordinate = proj_t[c, lo:lo + m]
                for j in range(m):
                    diff = pc - coordinate[j]
                    a[j] += diff * diff
            for t in range(n_targets):
                b = q * n_targets + t
                out[i, t] = np.sqrt(_smallest(a, rows[rows_start[b]:rows_start[b + 1]]))
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
