"""Numba kernel of the composition descriptors (a pure function of arrays, ``cache=True``).

Rows are encoded compositions (``elements`` int16 (n, w) atomic numbers, 0 padding at the end;
``fractions`` float64 (n, w) atomic fractions summing to 1). ``table`` is float64 (N_Z, P), the value
of property p for element Z. The kernel works row by row with a fixed summation order (the slot order),
so results do not depend on chunking, row order or thread count.
"""

from __future__ import annotations

import numba
import numpy as np

#: Order of the six statistics written per property.
STATS = ("mean", "avg_dev", "min", "max", "range", "mode")
#: Atomic fractions closer than this count as equal when choosing the mode element.
MODE_TIE = 1e-12
#: Most elements a row may hold (the composition parser allows 16).
MAX_SLOTS = 16


@numba.njit(cache=True)
def _int_power(x, n):
    """x**n for an integer n >= 1 by repeated squaring (agrees with pow to a few ulp)."""
    result = 1.0
    base = x
    while n > 0:
        if n & 1:
            result *= base
        base *= base
        n >>= 1
    return result


#: Rows per block of the parallel loop (scratch arrays are allocated once per block).
BLOCK = 256


@numba.njit(cache=True, parallel=True)
def featurize_kernel(elements, fractions, table, orders, weights, out):
    """Write every descriptor of every row into ``out`` (float64, (n, 6 P + len(orders) + C + 2)).

    Columns, in order:

    1. for property p, six statistics over the elements present, fraction-weighted (STATS order):
       mean = sum f_i x_i; avg_dev = sum f_i |x_i - mean|; min; max; range = max - min; mode = x of the
       element with the largest fraction (fractions within MODE_TIE tie; the smallest x wins). If an
       element present lacks the property (NaN), the six statistics of p are NaN;
    2. stoichiometric p-norms (sum f_i^p)^(1/p) for every order (order 0: the number of elements);
    3. class sums sum f_i weights[Z_i, c] for every column c of ``weights`` (N_Z, C); with 0/1 weights
       the atomic fraction of a class of elements;
    4. share = s_2 / (s_2 + s_0) (classes 0 and 2 of ``weights``: 3d metals and rare earths), 0 when both
       are 0; and per3d = s_6 / s_0 (class 6: 3d electrons), 0 when s_0 is 0.

    Sums run over the elements in slot order, so every value is independent of the blocking.
    """
    n, w = elements.shape
    n_props = table.shape[1]
    n_orders = orders.shape[0]
    n_classes = weights.shape[1]
    base_norm = 6 * n_props
    base_class = base_norm + n_orders
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        zs = np.empty(MAX_SLOTS, dtype=np.int64)
        fs = np.empty(MAX_SLOTS, dtype=np.float64)
        mean = np.empty(n_props, dtype=np.float64)
        dev = np.empty(n_props, dtype=np.float64)
        lo = np.empty(n_props, dtype=np.float64)
        hi = np.empty(n_props, dtype=np.float64)
        mode = np.empty(n_props, dtype=np.float64)
        for r in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            k = 0
            best_f = -1.0
            for j in range(w):
                z = elements[r, j]
                if z == 0:
                    break
                zs[k] = z
                fs[k] = fractions[r, j]
                if fs[k] > best_f:
                    best_f = fs[k]
                k += 1
            for p in range(n_props):
                mean[p] = 0.0
                lo[p] = np.inf
                hi[p] = -np.inf
                mode[p] = np.inf
            for i in range(k):
                f = fs[i]
                row = table[zs[i]]
                for p in range(n_props):
                    x = row[p]
                    mean[p] += f * x
                    lo[p] = min(lo[p], x)
                    hi[p] = max(hi[p], x)
                if f >= best_f - MODE_TIE:
                    for p in range(n_props):
                        mode[p] = min(mode[p], row[p])
            for p in range(n_props):
                dev[p] = 0.0
            for i in range(k):
                f = fs[i]
                row = table[zs[i]]
                for p in range(n_props):
                    dev[p] += f * abs(row[p] - mean[p])
            for p in range(n_props):
                base = 6 * p
                if np.isnan(mean[p]):  # NaN in any element present propagates through the sum
                    for s in range(6):
                        out[r, base + s] = np.nan
                else:
                    out[r, base] = mean[p]
                    out[r, base + 1] = dev[p]
                    out[r, base + 2] = lo[p]
                    out[r, base + 3] = hi[p]
                    out[r, base + 4] = hi[p] - lo[p]
                    out[r, base + 5] = mode[p]
            for q in range(n_orders):
                order = orders[q]
                if order == 0.0:
                    out[r, base_norm + q] = k
                else:
                    acc = 0.0
                    whole = np.int64(order)
                    for i in range(k):
                        acc += _int_power(fs[i], whole) if whole == order else fs[i] ** order
                    out[r, base_norm + q] = acc ** (1.0 / order)
            for c in range(n_classes):
                acc = 0.0
                for i in range(k):
                    acc += fs[i] * weights[zs[i], c]
                out[r, base_class + c] = acc
            s3d = out[r, base_class]
            sre = out[r, base_class + 2]
            out[r, base_class + n_classes] = sre / (sre + s3d) if sre + s3d > 0.0 else 0.0
            out[r, base_class + n_classes + 1] = out[r, base_class + 6] / s3d if s3d > 0.0 else 0.0
    return out
