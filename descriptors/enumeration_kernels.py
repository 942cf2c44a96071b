"""Numba kernels that turn candidate indices of a family into encoded compositions.

Pure functions of arrays with ``cache=True``; :mod:`magnetscreen.descriptors.enumeration` builds the
arrays from a validated family and calls :func:`enumerate_kernel` chunk by chunk.

Index layout: candidate ``i`` of a family is split in mixed radix as
``i = ((combo * c_0 + r_0) * c_1 + r_1) ... * n_sobol + s``: the variable combination ``combo`` is the
slowest digit, then the grid rank ``r_k`` of each grid site in declared order, then the quasi-random
sample index ``s`` (fastest). Every candidate is a function of its index alone, so any chunking gives
the same candidates bitwise.
"""

from __future__ import annotations

import numba
import numpy as np

GRID = 0
SOBOL = 1


@numba.njit(cache=True)
def unrank_bounded_composition(rank, k, units, lo, hi, ways, out):
    """Write into ``out[:k]`` the ``rank``-th way (0-based) of splitting ``units`` into ``k`` integer parts
    with ``lo[j] <= part_j <= hi[j]``.

    Order: lexicographic in (part_0, part_1, ...), smallest first. ``ways[j, r]`` is the number of ways
    parts j..k-1 can sum to r (``ways[k, 0] = 1``).
    """
    r = units
    for j in range(k - 1):
        vmax = min(hi[j], r)
        v = lo[j]
        while v <= vmax:
            c = ways[j + 1, r - v]
            if rank < c:
                break
            rank -= c
            v += 1
        out[j] = v
        r -= v
    out[k - 1] = r


@numba.njit(cache=True)
def stick_break_bounded(u, k, units, lo, hi, suffix_lo, suffix_hi, out):
    """Map quasi-random numbers ``u[:k-1]`` in [0, 1) to integer parts of ``units`` within bounds.

    Part j takes ``a + floor(v * (b - a + 1))`` where [a, b] is the range that still lets the remaining
    parts meet their bounds and ``v = 1 - (1 - u_j)**(1/m)`` (the inverse CDF of Beta(1, m), m = parts
    left after j). Without bounds this is the stick-breaking construction of the uniform distribution
    on the simplex.
    """
    r = units
    for j in range(k - 1):
        a = max(lo[j], r - suffix_hi[j])
        b = min(hi[j], r - suffix_lo[j])
        m = k - 1 - j
        v = 1.0 - (1.0 - u[j]) ** (1.0 / m)
        x = a + np.int64(np.floor(v * (b - a + 1)))
        if x > b:
            x = b
        out[j] = x
        r -= x
    out[k - 1] = r


@numba.njit(cache=True, parallel=True)
def enumerate_kernel(start, n, var_mult, kinds, ks, units, lo, hi, suffix_lo, suffix_hi, elem_idx,
                     grid_counts, ways, sobol_offset, n_sobol, u, u_row, universe_z, masses,
                     c_mass, c_max, c_value, c_mask):
    """Compositions of candidates ``start .. start+n-1`` of a family, and whether each passes the constraints.

    Parameters
    ----------
    start, n : int
        First candidate index and number of candidates.
    var_mult : float64 (n_combos, S)
        Multiplicity of every site at every variable combination.
    kinds, ks, units : int64 (S,)
        GRID or SOBOL; number of elements; parts of the whole (1/step, or the quasi-random resolution).
    lo, hi, suffix_lo, suffix_hi, elem_idx : int64 (S, K)
        Bounds in parts, their sums over later elements, and the universe slot of each element.
    grid_counts : int64 (S,)
        Grid points of each site (1 for quasi-random sites).
    ways : int64 (S, K + 1, U + 1)
        Counting tables of the grid sites (see :func:`unrank_bounded_composition`).
    sobol_offset : int64 (S,)
        First column of ``u`` used by each quasi-random site.
    n_sobol : int
        Quasi-random samples per grid point (1 when no site is quasi-random).
    u : float64 (m, D); u_row : int64 (n,)
        Quasi-random points and the row of ``u`` used by each candidate.
    universe_z : int16 (w,); masses : float64 (w,)
        Atomic numbers (canonical order) and atomic masses of the family's elements.
    c_mass, c_max : bool (C,); c_value : float64 (C,); c_mask : bool (C, w)
        Constraints: mass (else atomic) basis, upper (else lower) bound, bound, elements summed.

    Returns
    -------
    elements : int16 (n, w); fractions : float64 (n, w); keep : bool (n,)
    """
    n_sites = kinds.shape[0]
    w = universe_z.shape[0]
    kmax = lo.shape[1]
    elements = np.zeros((n, w), dtype=np.int16)
    fractions = np.zeros((n, w), dtype=np.float64)
    keep = np.ones(n, dtype=np.bool_)
    for r in numba.prange(n):
        i = start + r
        rest = i // n_sobol
        ranks = np.zeros(n_sites, dtype=np.int64)
        for s in range(n_sites - 1, -1, -1):
            ranks[s] = rest % grid_counts[s]
            rest //= grid_counts[s]
        combo = rest
        amounts = np.zeros(w, dtype=np.float64)
        parts = np.zeros(kmax, dtype=np.int64)
        for s in range(n_sites):
            mult = var_mult[combo, s]
            if mult == 0.0:
                continue
            k = ks[s]
            if kinds[s] == GRID:
                unrank_bounded_composition(ranks[s], k, units[s], lo[s], hi[s], ways[s], parts)
            else:
                off = sobol_offset[s]
                stick_break_bounded(u[u_row[r], off:off + k - 1], k, units[s], lo[s], hi[s],
                                    suffix_lo[s], suffix_hi[s], parts)
            for j in range(k):
                if parts[j] > 0:
                    amounts[elem_idx[s, j]] += mult * parts[j] / units[s]
        total = 0.0
        mass_total = 0.0
        for e in range(w):
            total += amounts[e]
            mass_total += amounts[e] * masses[e]
        for c in range(c_value.shape[0]):
            acc = 0.0
            for e in range(w):
                if c_mask[c, e]:
                    acc += amounts[e] * masses[e] if c_mass[c] else amounts[e]
            acc /= mass_total if c_mass[c] else total
            if c_max[c]:
                if acc > c_value[c] + 1e-12:
                    keep[r] = False
            elif acc < c_value[c] - 1e-12:
                keep[r] = False
        slot = 0
        for e in range(w):
            if amounts[e] > 0.0:
                elements[r, slot] = universe_z[e]
                fractions[r, slot] = amounts[e] / total
                slot += 1
    return elements, fractions, keep
