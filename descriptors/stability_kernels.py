"""Numba kernel of the phase-stability flag (:mod:`magnetscreen.descriptors.stability`).

Pure functions of arrays. A family's ranges are compiled into *keys* (one per site and element group) holding
*rows* (the table's ranges, each with its quantity), and *checks* (one per element of the family, or the
operating temperature) that list the keys they depend on. Rows of one key are alternatives: a value inside
any reported row of the key is inside the key.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Status codes, in increasing severity.
REPORTED, UNKNOWN, BEYOND = 0, 1, 2
#: Quantity codes of a key.
SITE_FRACTION, PER_FORMULA_UNIT, ATOMIC_PERCENT, TEMPERATURE = 0, 1, 2, 3
#: Tolerance of a bound (a composition on the bound is inside).
TOLERANCE = 1e-6


@njit(cache=True)
def stability_kernel(z, frac, temperature_K, key_group, key_needs, key_size, key_row_start, row_kind, row_denominator,
                     row_scale, row_min, row_max, row_reported, check_z, check_base, check_key_start, check_keys):
    """Flag every composition against a family's compiled ranges.

    Parameters
    ----------
    z, frac : (n, w) int and float arrays
        Atomic numbers (0 = padding) and atomic fractions of each composition.
    temperature_K : float
        Operating temperature, compared with ``max_temperature_K`` keys.
    key_group : (K, N_Z) bool
        Elements summed in the key's quantity (none for the temperature key).
    key_needs : (K,) int64
        How many of the group's elements a composition must hold for the key to apply (1 for one element, 2 for
        a group: a range of a mixture says nothing about one of its elements alone; 0 for the temperature).
    key_size : (K,) int64
        Elements in the group: the most specific applicable keys with reported rows decide (a range of the
        Ti+Si co-stabilized compound outranks the range of Si as the only stabilizer).
    key_row_start : (K + 1,) int64
        Rows of key k are ``key_row_start[k]:key_row_start[k + 1]``.
    row_kind : (R,) int64
        Quantity code of each row.
    row_denominator : (R, N_Z) bool
        Elements of the row's denominator: the site's elements for a site fraction, the anchor sites' elements
        for an amount per formula unit (unused otherwise).
    row_scale : (R,) float64
        The anchor's atoms per formula unit (per formula unit rows).
    row_min, row_max : (R,) float64
        The range (NaN: open on that side).
    row_reported : (R,) bool
        False for an explicit 'unknown' row.
    check_z : (C,) int64
        Element of each check (0: the temperature check, which always applies).
    check_base : (C,) bool
        The element is a base element of the prototype (checked only through its keys).
    check_key_start, check_keys : CSR lists of the keys of each check.

    Returns
    -------
    status : (n,) int8
        :data:`REPORTED`, :data:`UNKNOWN` or :data:`BEYOND`: the worst of the checks that apply.
    limit_check : (n,) int64
        The first check with that status (-1 when reported).
    limit_row : (n,) int64
        The row that decided it (-1: none, e.g. an element without any row).
    limit_key : (n,) int64
        The key that decided it (-1: none).
    """
    n, w = z.shape
    n_checks = check_z.shape[0]
    status = np.zeros(n, dtype=np.int8)
    limit_check = np.full(n, -1, dtype=np.int64)
    limit_row = np.full(n, -1, dtype=np.int64)
    limit_key = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        worst = REPORTED
        for c in range(n_checks):
            e = check_z[c]
            if e != 0:
                present = False
                for j in range(w):
                    if z[i, j] == e and frac[i, j] > 0.0:
                        present = True
                if not present:
                    continue
            best_size = -1  # size of the most specific applicable key with reported rows
            beyond_row = -1
            beyond_key = -1
            reported_row = -1
            unknown_row = -1
            unknown_key = -1
            for p in range(check_key_start[c], check_key_start[c + 1]):
                k = check_keys[p]
                held = 0
                num = 0.0
                for j in range(w):
                    zz = z[i, j]
                    if zz != 0 and key_group[k, zz]:
                        num += frac[i, j]
                        if frac[i, j] > 0.0:
                            held += 1
                if held < key_needs[k]:
                    continue
                first_reported = -1
                first_unknown = -1
                covering = -1
                for r in range(key_row_start[k], key_row_start[k + 1]):
                    if not row_reported[r]:
                        if first_unknown < 0:
                            first_unknown = r
                        continue
                    if first_reported < 0:
                        first_reported = r
                    kind = row_kind[r]
                    if kind == TEMPERATURE:
                        value = temperature_K
                    elif kind == ATOMIC_PERCENT:
                        value = 100.0 * num
                    else:
                        den = 0.0
                        for j in range(w):
                            zz = z[i, j]
                            if zz != 0 and row_denominator[r, zz]:
                                den += frac[i, j]
                        if den <= 0.0:
                            value = np.nan
                        elif kind == SITE_FRACTION:
                            value = num / den
                        else:
                            value = num * row_scale[r] / den
                    inside = value == value
                    if row_min[r] == row_min[r] and value < row_min[r] - TOLERANCE:
                        inside = False
                    if row_max[r] == row_max[r] and value > row_max[r] + TOLERANCE:
                        inside = False
                    if inside and covering < 0:
                        covering = r
                if first_reported >= 0:
                    if key_size[k] > best_size:  # a more specific key: forget the less specific ones
                        best_size = key_size[k]
                        beyond_row = -1
                        beyond_key = -1
                        reported_row = -1
                    if key_size[k] == best_size:
                        if covering >= 0:
                            if reported_row < 0:
                                reported_row = covering
                        elif beyond_row < 0:
                            beyond_row = first_reported
                            beyond_key = k
                elif first_unknown >= 0 and unknown_row < 0:
                    unknown_row = first_unknown
                    unknown_key = k
            # among the most specific keys with reported rows: beyond any of them > inside;
            # then only unknown rows; then no row at all
            if beyond_row >= 0:
                c_status, c_row, c_key = BEYOND, beyond_row, beyond_key
            elif reported_row >= 0:
                c_status, c_row, c_key = REPORTED, -1, -1
            elif unknown_row >= 0:
                c_status, c_row, c_key = UNKNOWN, unknown_row, unknown_key
            elif check_base[c]:
                c_status, c_row, c_key = REPORTED, -1, -1
            else:
                c_status, c_row, c_key = UNKNOWN, -1, -1
            if c_status > worst:
                worst = c_status
                limit_check[i] = c
                limit_row[i] = c_row
                limit_key[i] = c_key
        status[i] = worst
    return status, limit_check, limit_row, limit_key
