"""Numba kernel of the prototype rules (pure function of arrays, ``cache=True``)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def group_sums_kernel(elements, fractions, membership):
    """Atomic fraction of every element group in every row.

    Parameters
    ----------
    elements : int (n, w), atomic numbers, 0 as padding
    fractions : float64 (n, w)
    membership : float64 (N_Z, G), 1 where element z belongs to group g, else 0 (row 0, padding, all 0)

    Returns
    -------
    float64 (n, G)
        ``sum_j membership[elements[i, j], g] * fractions[i, j]``, summed over the element columns j in order
        from 0.0 (the order and operations of ``sums += membership[elements[:, j]] * fractions[:, j, None]``).
    """
    n, w = elements.shape
    n_groups = membership.shape[1]
    out = np.zeros((n, n_groups), dtype=np.float64)
    for i in range(n):
        for j in range(w):
            row = membership[elements[i, j]]
            f = fractions[i, j]
            for g in range(n_groups):
                out[i, g] += row[g] * f
    return out
