"""Numba kernel of the prototype rules (pure function of arrays, ``cache=True``)."""

from __future__ import annotations

import numba
import numpy as np

#: Columns of the ``membership`` matrix that :func:`prototype_codes_kernel` reads, in this order.
GROUP_NAMES = ("R", "Zr", "B", "C", "NCH", "O", "X", "hexa_B", "Fe16", "NC", "Mn", "BiSb", "Al", "A_L10", "B_L10")
#: The codes :func:`prototype_codes_kernel` returns index this tuple.
PROTOTYPE_ORDER = ("element", "hexaferrite", "2-14-1", "1-5", "2-17", "1-13", "1-12", "Fe16N2", "MnBi", "MnAl",
                   "L10", "other")


@numba.njit(cache=True)
def prototype_codes_kernel(elements, fractions, membership):
    """The prototype rules of :mod:`magnetscreen.descriptors.prototypes`, first match wins, one row at a time.

    Parameters
    ----------
    elements : int (n, w), atomic numbers, 0 as padding
    fractions : float64 (n, w)
    membership : float64 (N_Z, len(GROUP_NAMES)), 1 where element z belongs to the group (row 0 all 0)

    Returns
    -------
    int64 (n,)
        Index in :data:`PROTOTYPE_ORDER`. Each group's fraction is ``sum_j membership[elements[i, j], g] *
        fractions[i, j]``, summed over the element columns j in order from 0.0 (as masked whole-array sums
        would), and every test uses the same operations as whole-array rules would (so the codes equal theirs
        exactly, boundaries included).
    """
    n, w = elements.shape
    n_groups = membership.shape[1]
    out = np.empty(n, dtype=np.int64)
    g = np.empty(n_groups, dtype=np.float64)
    for i in range(n):
        for c in range(n_groups):
            g[c] = 0.0
        n_elements = 0
        for j in range(w):
            z = elements[i, j]
            if z > 0:
                n_elements += 1
            row = membership[z]
            f = fractions[i, j]
            for c in range(n_groups):
                g[c] += row[c] * f
        r = g[0]
        r_zr = r + g[1]
        boron = g[2]
        b_c = boron + g[3]
        interstitial = g[4]
        oxygen = g[5]
        metals = 1.0 - g[6] - oxygen
        share = r / metals if metals > 0 else 0.0
        share_zr = r_zr / metals if metals > 0 else 0.0
        hexa_b = g[7]
        fe16 = g[8]
        n_c = g[9]
        mn = g[10]
        bi_sb = g[11]
        al = g[12]
        a_l10 = g[13]
        b_l10 = g[14]
        no_b_no_o = boron == 0 and oxygen == 0
        if n_elements == 1:
            code = 0
        elif abs(oxygen - 19 / 32) <= 0.02 and abs(hexa_b - 12 / 32) <= 0.03:
            code = 1
        elif abs(b_c - 1 / 17) <= 0.012 and abs(r - 2 / 17) <= 0.012:
            code = 2
        elif no_b_no_o and abs(share - 1 / 6) <= 0.015:
            code = 3
        elif no_b_no_o and abs(share - 2 / 19) <= 0.012 and interstitial <= 3 / 22 + 1e-9:
            code = 4
        elif no_b_no_o and abs(share - 1 / 14) <= 0.0035:
            code = 5
        elif no_b_no_o and share_zr >= 0.0749 and share_zr <= 1 / 13 + 0.01 and interstitial <= 1 / 14 + 1e-9:
            code = 6
        elif abs(fe16 - 8 / 9) <= 0.02 and abs(n_c - 1 / 9) <= 0.02 and r == 0:
            code = 7
        elif mn + bi_sb >= 0.95 and abs(mn - 0.5) <= 0.1 and bi_sb > 0:
            code = 8
        elif mn + al + g[3] >= 0.95 and mn >= 0.40 and mn <= 0.65 and al > 0:
            code = 9
        elif abs(a_l10 - 0.5) <= 0.1 and abs(b_l10 - 0.5) <= 0.1 and a_l10 + b_l10 >= 0.95:
            code = 10
        else:
            code = 11
        out[i] = code
    return out
