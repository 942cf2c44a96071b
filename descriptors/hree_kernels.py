"""Numba kernel for heavy-rare-earth intensity (pure function of arrays, cached)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def hree_intensity_kernel(elements, mass_fractions, in_set):
    """h = 1000 * sum of the mass fractions of the elements flagged in ``in_set`` (g per kg).

    Parameters
    ----------
    elements : int16 (n, w); mass_fractions : float64 (n, w); in_set : bool (N_Z,)

    Returns
    -------
    float64 (n,)
    """
    n, w = elements.shape
    out = np.zeros(n, dtype=np.float64)
    for r in numba.prange(n):
        acc = 0.0
        for j in range(w):
            if in_set[elements[r, j]]:
                acc += mass_fractions[r, j]
        out[r] = 1000.0 * acc
    return out
