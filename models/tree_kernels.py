"""Numba kernels that evaluate flattened tree ensembles (pure functions of arrays, ``cache=True``).

A flat ensemble is a set of parallel arrays indexed by global node id, as in scikit-learn's tree
structure: ``left``, ``right`` (child ids relative to the tree's first node; -1 marks a leaf),
``feature``, ``threshold`` and ``value``; tree t occupies nodes ``offset[t] .. offset[t+1]-1``. The
kernels take them as ``links`` (left, right, feature; children as global node ids) and ``numbers``
(threshold, value). A sample
goes left when ``float32(X[i, feature]) <= threshold`` (scikit-learn casts X to float32 and compares
in float64), so predictions equal scikit-learn's bit for bit when the trees are summed in the same
order.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _leaf_value(X, i, start, links, numbers):
    """Leaf value reached by row i of X in the tree whose first node is ``start``.

    ``links`` int64 (3, N): rows left, right (global node ids, -1 at a leaf) and feature; ``numbers``
    float64 (2, N): rows threshold and value. ``start`` is the tree's root.
    """
    node = start
    left = links[0]
    right = links[1]
    feature = links[2]
    threshold = numbers[0]
    while left[node] >= 0:
        if np.float64(X[i, feature[node]]) <= threshold[node]:
            node = left[node]
        else:
            node = right[node]
    return numbers[1][node]


#: Rows per block: the trees are walked tree by tree over a block of rows (the per-row sums still run
#: over the trees in order, as scikit-learn accumulates them).
BLOCK = 128


@numba.njit(cache=True, parallel=True)
def forest_predict_kernel(X, offset, links, numbers):
    """Mean and standard deviation over the trees of an averaging ensemble (random forest, extra trees).

    Parameters
    ----------
    X : float32 (n, d)
    offset : int64 (T + 1,); links : int64 (3, N); numbers : float64 (2, N); see :func:`_leaf_value`.

    Returns
    -------
    mean : float64 (n,)
        (sum over trees in order) / T, as scikit-learn's ``predict``.
    std : float64 (n,)
        Population standard deviation of the T tree predictions (two-pass, about the mean).
    """
    n = X.shape[0]
    n_trees = offset.shape[0] - 1
    mean = np.empty(n, dtype=np.float64)
    std = np.empty(n, dtype=np.float64)
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        preds = np.empty((n_trees, hi - lo), dtype=np.float64)
        for t in range(n_trees):
            for i in range(lo, hi):
                preds[t, i - lo] = _leaf_value(X, i, offset[t], links, numbers)
        for i in range(lo, hi):
            total = 0.0
            for t in range(n_trees):
                total += preds[t, i - lo]
            mu = total / n_trees
            acc = 0.0
            for t in range(n_trees):
                d = preds[t, i - lo] - mu
                acc += d * d
            mean[i] = mu
            std[i] = np.sqrt(acc / n_trees)
    return mean, std


@numba.njit(cache=True, parallel=True)
def boosting_predict_kernel(X, offset, links, numbers, init, learning_rate):
    """Prediction of a gradient-boosting ensemble: init + sum over stages of learning_rate * tree(x),
    accumulated stage by stage as scikit-learn's ``predict_stages``.

    Returns
    -------
    float64 (n,)
    """
    n = X.shape[0]
    n_trees = offset.shape[0] - 1
    out = np.empty(n, dtype=np.float64)
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        for i in range(lo, hi):
            out[i] = init
        for t in range(n_trees):
            for i in range(lo, hi):
                out[i] += learning_rate * _leaf_value(X, i, offset[t], links, numbers)
    return out
