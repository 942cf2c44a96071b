"""Numba kernels that evaluate flattened tree ensembles (pure functions of arrays, ``cache=True``).

A flat ensemble is a set of parallel arrays indexed by global node id, as in scikit-learn's tree
structure: ``left``, ``right`` (child ids relative to the tree's first node; -1 marks a leaf),
``feature``, ``threshold`` and ``value``; tree t occupies nodes ``offset[t] .. offset[t+1]-1``. A sample
goes left when ``float32(X[i, feature]) <= threshold`` (scikit-learn casts X to float32 and compares
in float64), so predictions equal scikit-learn's bit for bit when the trees are summed in the same
order.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _leaf_value(x, start, left, right, feature, threshold, value):
    node = 0
    while left[start + node] != -1:
        if np.float64(x[feature[start + node]]) <= threshold[start + node]:
            node = left[start + node]
        else:
            node = right[start + node]
    return value[start + node]


@numba.njit(cache=True, parallel=True)
def forest_predict_kernel(X, offset, left, right, feature, threshold, value):
    """Mean and standard deviation over the trees of an averaging ensemble (random forest, extra trees).

    Parameters
    ----------
    X : float32 (n, d)
    offset : int64 (T + 1,); left, right, feature : int64 (N,); threshold, value : float64 (N,)

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
    for i in numba.prange(n):
        total = 0.0
        for t in range(n_trees):
            total += _leaf_value(X[i], offset[t], left, right, feature, threshold, value)
        mu = total / n_trees
        acc = 0.0
        for t in range(n_trees):
            d = _leaf_value(X[i], offset[t], left, right, feature, threshold, value) - mu
            acc += d * d
        mean[i] = mu
        std[i] = np.sqrt(acc / n_trees)
    return mean, std


@numba.njit(cache=True, parallel=True)
def boosting_predict_kernel(X, offset, left, right, feature, threshold, value, init, learning_rate):
    """Prediction of a gradient-boosting ensemble: init + sum over stages of learning_rate * tree(x),
    accumulated stage by stage as scikit-learn's ``predict_stages``.

    Returns
    -------
    float64 (n,)
    """
    n = X.shape[0]
    n_trees = offset.shape[0] - 1
    out = np.empty(n, dtype=np.float64)
    for i in numba.prange(n):
        acc = init
        for t in range(n_trees):
            acc += learning_rate * _leaf_value(X[i], offset[t], left, right, feature, threshold, value)
        out[i] = acc
    return out
