"""Numba kernels of the ranking: dominance pruning and Pareto fronts on three objectives.

Objectives: performance ``p`` (higher is better), heavy-rare-earth intensity ``h`` and supply risk
``r`` (lower is better). Candidate j *dominates* i when p_j >= p_i, h_j <= h_i, r_j <= r_i and at least
one of the three is strict. Both kernels take ``order``, the candidates sorted lexicographically by
(-p, h, r): a dominator of i always comes before i in that order, which is what makes one pass enough.
Pure functions of arrays, ``cache=True``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _dominates(pj, hj, rj, pi, hi, ri):
    return pj >= pi and hj <= hi and rj <= ri and (pj > pi or hj < hi or rj < ri)


@numba.njit(cache=True)
def prune_dominated_kernel(p, h, r, order, keep):
    """Mask of the candidates dominated by fewer than ``keep`` others.

    Walks ``order`` and counts, for each candidate, its dominators among the candidates already kept,
    stopping at ``keep``. Counting only kept candidates gives the same answer as counting all of them:
    of the dominators of a candidate that were dropped, a maximal one was dropped for having ``keep``
    kept dominators, which dominate the candidate too.

    Parameters
    ----------
    p, h, r : float64 (n,)
    order : int64 (n,), a lexicographic (-p, h, r) order
    keep : int >= 1

    Returns
    -------
    bool (n,)
    """
    n = p.shape[0]
    mask = np.zeros(n, dtype=np.bool_)
    kept = np.empty(n, dtype=np.int64)
    n_kept = 0
    for a in range(n):
        i = order[a]
        count = 0
        for b in range(n_kept):
            j = kept[b]
            if _dominates(p[j], h[j], r[j], p[i], h[i], r[i]):
                count += 1
                if count >= keep:
                    break
        if count < keep:
            mask[i] = True
            kept[n_kept] = i
            n_kept += 1
    return mask


@numba.njit(cache=True)
def pareto_front_kernel(p, h, r, order):
    """Pareto front of every candidate (1 = non-dominated): 1 + the largest front among its dominators,
    which equals the front of non-dominated sorting.

    Returns
    -------
    int64 (n,)
    """
    n = p.shape[0]
    front = np.zeros(n, dtype=np.int64)
    for a in range(n):
        i = order[a]
        best = 0
        for b in range(a):
            j = order[b]
            if front[j] > best and _dominates(p[j], h[j], r[j], p[i], h[i], r[i]):
                best = front[j]
        front[i] = best + 1
    return front


@numba.njit(cache=True)
def _splitmix64(x):
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = x
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def keyed_normals_kernel(keys, seed, n_draws):
    """Standard normal draws that depend only on (seed, key, draw): float64 (n, n_draws).

    Each value is a Box-Muller transform of two uniforms in (0, 1) taken from the splitmix64 hash of
    (seed, key, draw, 0/1); a candidate's draws therefore never depend on which other candidates are drawn
    with it or in what order.
    """
    n = keys.shape[0]
    out = np.empty((n, n_draws), dtype=np.float64)
    scale = 1.0 / 9007199254740992.0  # 2^-53
    for i in range(n):
        base = _splitmix64(np.uint64(seed) ^ _splitmix64(np.uint64(keys[i])))
        for d in range(n_draws):
            a = _splitmix64(base ^ _splitmix64(np.uint64(2 * d + 1)))
            b = _splitmix64(base ^ _splitmix64(np.uint64(2 * d + 2)))
            u1 = ((a >> np.uint64(11)) + np.uint64(1)) * scale  # (0, 1]
            u2 = (b >> np.uint64(11)) * scale  # [0, 1)
            out[i, d] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return out
