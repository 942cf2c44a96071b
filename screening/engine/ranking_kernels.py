"""Numba kernels of the ranking: dominance pruning and Pareto fronts on k objectives, all minimized.

The objectives are the columns of a float64 matrix ``obj`` of shape (n, k), each to be minimized (the
caller negates performance). Candidate j *dominates* i when ``obj[j] <= obj[i]`` in every column and
``<`` in at least one. Both kernels take ``order``, the candidates sorted lexicographically by the columns
(first column first): a dominator of i always comes before i in that order, which is what makes one pass
enough. Pure functions of arrays, ``cache=True``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _dominates(obj, j, i):
    strict = False
    for c in range(obj.shape[1]):
        a = obj[j, c]
        b = obj[i, c]
        if a > b:
            return False
        if a < b:
            strict = True
    return strict


@numba.njit(cache=True)
def prune_dominated_kernel(obj, order, keep):
    """Mask of the candidates dominated by fewer than ``keep`` others.

    Walks ``order`` and counts, for each candidate, its dominators among the candidates already kept,
    stopping at ``keep``. Counting only kept candidates gives the same answer as counting all of them:
    of the dominators of a candidate that were dropped, a maximal one was dropped for having ``keep``
    kept dominators, which dominate the candidate too.

    Parameters
    ----------
    obj : float64 (n, k), objectives to minimize
    order : int64 (n,), a lexicographic order of the rows of ``obj``
    keep : int >= 1

    Returns
    -------
    bool (n,)
    """
    n = obj.shape[0]
    mask = np.zeros(n, dtype=np.bool_)
    kept = np.empty(n, dtype=np.int64)
    n_kept = 0
    for a in range(n):
        i = order[a]
        count = 0
        for b in range(n_kept):
            j = kept[b]
            if _dominates(obj, j, i):
                count += 1
                if count >= keep:
                    break
        if count < keep:
            mask[i] = True
            kept[n_kept] = i
            n_kept += 1
    return mask


@numba.njit(cache=True)
def pareto_front_kernel(obj, order):
    """Pareto front of every candidate (1 = non-dominated): 1 + the largest front among its dominators,
    which equals the front of non-dominated sorting.

    Returns
    -------
    int64 (n,)
    """
    n = obj.shape[0]
    front = np.zeros(n, dtype=np.int64)
    for a in range(n):
        i = order[a]
        best = 0
        for b in range(a):
            j = order[b]
            if front[j] > best and _dominates(obj, j, i):
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


# ------------------------------------------------------------------------------------------------------------
# Up to three objectives in O(n log^2 n): divide and conquer over the points in lexicographic order
# ------------------------------------------------------------------------------------------------------------
#
# The points are distinct integer triples (a, b, c) (ranks of the objectives, duplicates merged with a weight),
# sorted lexicographically. Then j dominates i only if j comes before i, and for j before i it does exactly
# when b_j <= b_i and c_j <= c_i (a_j <= a_i holds by the order, and distinct points differ somewhere). A block
# [l, r) is solved by solving [l, mid), adding what [l, mid) contributes to [mid, r) in one sweep by b with a
# Fenwick tree over c, and solving [mid, r); small blocks compare every pair.


@numba.njit(cache=True)
def dominance_block_kernel(b, c, w, count, front, best, lo, hi):
    """Inside block [lo, hi), in order: ``count[i] += sum of w[j]`` and ``front[i] = 1 + max(best[i], front[j])``
    over the earlier j of the block with b_j <= b_i and c_j <= c_i."""
    for i in range(lo, hi):
        f = best[i]
        acc = 0
        for j in range(lo, i):
            if b[j] <= b[i] and c[j] <= c[i]:
                acc += w[j]
                if front[j] > f:
                    f = front[j]
        count[i] += acc
        front[i] = f + 1


@numba.njit(cache=True)
def dominance_cross_kernel(b, c, w, count, front, best, lo, mid, hi, sums, maxes):
    """What the left half [lo, mid) contributes to the right half [mid, hi): for each right i, the weights and the
    largest front of the left j with b_j <= b_i and c_j <= c_i (Fenwick trees ``sums`` and ``maxes`` over c,
    1-based, all zero on entry and on exit)."""
    left = lo + np.argsort(b[lo:mid], kind="mergesort")
    right = mid + np.argsort(b[mid:hi], kind="mergesort")
    size = sums.shape[0] - 1
    p = 0
    for q in range(right.shape[0]):
        i = right[q]
        while p < left.shape[0] and b[left[p]] <= b[i]:
            j = left[p]
            k = c[j] + 1
            while k <= size:
                sums[k] += w[j]
                if front[j] > maxes[k]:
                    maxes[k] = front[j]
                k += k & (-k)
            p += 1
        k = c[i] + 1
        acc = 0
        f = 0
        while k > 0:
            acc += sums[k]
            if maxes[k] > f:
                f = maxes[k]
            k -= k & (-k)
        count[i] += acc
        if f > best[i]:
            best[i] = f
    for t in range(p):  # clear what was added
        k = c[left[t]] + 1
        while k <= size:
            sums[k] = 0
            maxes[k] = 0
            k += k & (-k)


@numba.njit(cache=True)
def _counting_pass(keys, order, n_keys):
    """``order`` stably sorted by ``keys[order]`` (integers in [0, n_keys)), by counting."""
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for a in range(order.shape[0]):
        start[keys[order[a]] + 1] += 1
    for v in range(n_keys):
        start[v + 1] += start[v]
    out = np.empty_like(order)
    for a in range(order.shape[0]):
        i = order[a]
        out[start[keys[i]]] = i
        start[keys[i]] += 1
    return out


@numba.njit(cache=True)
def dominance_kernel(obj, block):
    """Dominator counts and Pareto fronts of every row for up to three objectives (no NaN), in O(n log^2 n).

    Each column is replaced by its dense rank (equal values, -0.0 and 0.0 included, share a rank, as in
    ``np.unique``), the rank triples are sorted lexicographically by three stable counting passes, equal triples
    are merged into one point with their multiplicity as its weight, and the distinct points are solved by the
    divide and conquer above: a block of at most ``block`` points compares every pair
    (:func:`dominance_block_kernel`), a larger block [lo, hi) solves [lo, mid), adds what it contributes to
    [mid, hi) (:func:`dominance_cross_kernel`) and solves [mid, hi), with mid = (lo + hi) // 2, walked with an
    explicit stack.

    Returns
    -------
    counts, fronts : int64 (n,)
        How many rows dominate each row, and its front (1 = non-dominated).
    """
    n, k = obj.shape
    ranks = np.zeros((3, n), dtype=np.int64)
    levels = np.ones(3, dtype=np.int64)
    for col in range(k):
        values = obj[:, col].copy()
        order = np.argsort(values, kind="mergesort")
        r = 0
        for a in range(n):
            if a > 0 and values[order[a]] != values[order[a - 1]]:
                r += 1
            ranks[col, order[a]] = r
        levels[col] = r + 1
    order = np.arange(n)
    for col in range(2, -1, -1):
        order = _counting_pass(ranks[col], order, levels[col])
    inverse = np.empty(n, dtype=np.int64)
    b = np.empty(n, dtype=np.int64)
    c = np.empty(n, dtype=np.int64)
    w = np.zeros(n, dtype=np.int64)
    m = 0
    for a in range(n):
        i = order[a]
        if a == 0 or ranks[0, i] != ranks[0, order[a - 1]] or ranks[1, i] != ranks[1, order[a - 1]] \
                or ranks[2, i] != ranks[2, order[a - 1]]:
            b[m] = ranks[1, i]
            c[m] = ranks[2, i]
            m += 1
        w[m - 1] += 1
        inverse[i] = m - 1
    count = np.zeros(m, dtype=np.int64)
    front = np.zeros(m, dtype=np.int64)
    best = np.zeros(m, dtype=np.int64)
    size = levels[2] + 1
    sums = np.zeros(size, dtype=np.int64)
    maxes = np.zeros(size, dtype=np.int64)
    if m > 0:
        stack_lo = np.empty(64, dtype=np.int64)
        stack_hi = np.empty(64, dtype=np.int64)
        stack_state = np.empty(64, dtype=np.int64)
        top = 0
        stack_lo[0] = 0
        stack_hi[0] = m
        stack_state[0] = 0
        while top >= 0:
            lo = stack_lo[top]
            hi = stack_hi[top]
            mid = (lo + hi) // 2
            if stack_state[top] == 0:
                if hi - lo <= block:
                    dominance_block_kernel(b, c, w, count, front, best, lo, hi)
                    top -= 1
                else:
                    stack_state[top] = 1
                    top += 1
                    stack_lo[top] = lo
                    stack_hi[top] = mid
                    stack_state[top] = 0
            else:  # the left half is solved: cross, then solve the right half in this slot
                dominance_cross_kernel(b, c, w, count, front, best, lo, mid, hi, sums, maxes)
                stack_lo[top] = mid
                stack_state[top] = 0
    counts = np.empty(n, dtype=np.int64)
    fronts = np.empty(n, dtype=np.int64)
    for i in range(n):
        counts[i] = count[inverse[i]]
        fronts[i] = front[inverse[i]]
    return counts, fronts
