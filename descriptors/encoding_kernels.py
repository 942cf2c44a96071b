"""Numba kernels over encoded composition arrays.

Every function here is a pure function of arrays (no objects, no I/O, no global state) compiled with
``cache=True``. The Python module :mod:`magnetscreen.descriptors.encoding` validates inputs, fixes
dtypes and layouts, and calls these kernels.

Encoded batch layout (one row per composition, ``w`` slots per row):

- ``elements`` : int16, shape (n, w); atomic numbers in canonical order, 0 = padding (at the end)
- ``fractions`` : float64, shape (n, w); atomic fractions summing to 1, 0 in padding slots
"""

from __future__ import annotations

import numba
import numpy as np

#: Largest formula unit (atoms) searched for a canonical formula.
N_MAX = 1000
#: Amounts of a canonical formula are multiples of 10**-DECIMALS ...
DECIMALS = 4
#: ... unless no formula unit up to N_MAX allows it; then atomic fractions with FALLBACK_DECIMALS.
FALLBACK_DECIMALS = 6
#: Absolute tolerance, in units of the last decimal, for "is a multiple of 10**-DECIMALS". Amounts are
#: at most 1e3 * 1e4 = 1e7 units, where float64 rounding is about 1e-9 units, far below it.
_UNIT_TOL = 1.0e-6


@numba.njit(cache=True, parallel=True)
def mass_fractions_kernel(elements, fractions, masses):
    """Mass fractions w_i = x_i M_i / sum_j x_j M_j of every row.

    Parameters
    ----------
    elements : int16 (n, w), fractions : float64 (n, w), masses : float64 (N_Z,) in g/mol, 0 at index 0.

    Returns
    -------
    float64 (n, w), 0 in padding slots.
    """
    n, w = fractions.shape
    out = np.zeros((n, w), dtype=np.float64)
    for r in numba.prange(n):
        total = 0.0
        for j in range(w):
            total += fractions[r, j] * masses[elements[r, j]]
        if total > 0.0:
            for j in range(w):
                out[r, j] = fractions[r, j] * masses[elements[r, j]] / total
    return out


@numba.njit(cache=True)
def _units_at(fractions_row, n_atoms, scale, units):
    """Write round(n_atoms * x * scale) into ``units``; True if every product is that integer."""
    ok = True
    for j in range(fractions_row.shape[0]):
        u = n_atoms * fractions_row[j] * scale
        ui = np.round(u)
        if abs(u - ui) > _UNIT_TOL:
            ok = False
        units[j] = np.int64(ui)
    return ok


@numba.njit(cache=True)
def _largest_remainder(fractions_row, width, units):
    """Fractions as integers in units of 10**-FALLBACK_DECIMALS summing exactly to 10**FALLBACK_DECIMALS.

    Largest-remainder rounding; remainders within 1e-9 count as ties, won by the earlier slot.
    """
    total = np.int64(10**FALLBACK_DECIMALS)
    scale = 10.0**FALLBACK_DECIMALS
    assigned = np.int64(0)
    remainders = np.zeros(width, dtype=np.float64)
    for j in range(width):
        x = fractions_row[j] * scale
        units[j] = np.int64(np.floor(x))
        remainders[j] = x - units[j]
        assigned += units[j]
    for _ in range(total - assigned):
        best = 0
        for j in range(1, width):
            if remainders[j] > remainders[best] + 1e-9:  # float ties go to the earlier slot
                best = j
        units[best] += 1
        remainders[best] = -1.0
    for j in range(width, units.shape[0]):
        units[j] = 0


@numba.njit(cache=True)
def _search_formula_unit(row, elements_row, width, is_anchor, buf):
    """Find the canonical formula unit of one row (stages 1 and 2 below); units in ``buf``. True if found."""
    has_anchor = False
    for j in range(width):
        if is_anchor[elements_row[j]]:
            has_anchor = True
    scale = 10.0**DECIMALS
    one = np.int64(10**DECIMALS)
    for stage in range(2):
        if stage == 0 and not has_anchor:
            continue
        for n_atoms in range(1, N_MAX + 1):
            if not _units_at(row, float(n_atoms), scale, buf):
                continue
            if stage == 0:
                anchor_units = np.int64(0)
                for j in range(width):
                    if is_anchor[elements_row[j]]:
                        anchor_units += buf[j]
                if anchor_units % one == 0:
                    return True
            else:
                for j in range(width):
                    if buf[j] % one == 0:
                        return True
    return False


@numba.njit(cache=True, parallel=True)
def canonical_units_kernel(elements, fractions, is_anchor):
    """Amounts of the canonical formula of every row, as integers in units of 10**-decimals.

    The formula unit N (atoms) is the smallest N in 1..N_MAX at which every amount N*x_i is a multiple
    of 10**-DECIMALS and, in order of preference, (1) the anchor elements (those flagged in
    ``is_anchor``: the non-metals B, C, N, O, ...) have an integer total amount; (2) some element has an
    integer amount. If no N qualifies, the fractions are rounded to FALLBACK_DECIMALS by largest
    remainder (so they sum to exactly 1) and the search is repeated on the rounded fractions; if it
    fails again, the rounded fractions are the amounts. Re-reading a canonical name therefore gives the
    same name.

    Parameters
    ----------
    elements : int16 (n, w); fractions : float64 (n, w); is_anchor : bool (N_Z,)

    Returns
    -------
    units : int64 (n, w)
        Amount of each slot times 10**decimals (0 in padding slots).
    decimals : int64 (n,)
        DECIMALS or FALLBACK_DECIMALS.
    """
    n, w = fractions.shape
    units = np.zeros((n, w), dtype=np.int64)
    decimals = np.full(n, DECIMALS, dtype=np.int64)
    for r in numba.prange(n):
        width = 0
        for j in range(w):
            if elements[r, j] != 0:
                width = j + 1
        buf = np.zeros(w, dtype=np.int64)
        if not _search_formula_unit(fractions[r], elements[r], width, is_anchor, buf):
            _largest_remainder(fractions[r], width, buf)
            rounded = np.zeros(w, dtype=np.float64)
            for j in range(width):
                rounded[j] = buf[j] / 10.0**FALLBACK_DECIMALS
            again = np.zeros(w, dtype=np.int64)
            if _search_formula_unit(rounded, elements[r], width, is_anchor, again):
                buf[:] = again
            else:
                decimals[r] = FALLBACK_DECIMALS
        for j in range(w):
            units[r, j] = buf[j]
    return units, decimals


@numba.njit(cache=True)
def _write_int(out, pos, value):
    """Write the decimal digits of a non-negative int64 at out[pos:], return the new position."""
    if value == 0:
        out[pos] = 48
        return pos + 1
    digits = 0
    v = value
    while v > 0:
        digits += 1
        v //= 10
    v = value
    for k in range(digits - 1, -1, -1):
        out[pos + k] = 48 + v % 10
        v //= 10
    return pos + digits


@numba.njit(cache=True, parallel=True)
def format_names_kernel(elements, units, decimals, symbols, symbol_lengths, max_length):
    """ASCII canonical formula of every row: symbol then amount, amount 1 omitted, no trailing zeros.

    Parameters
    ----------
    elements : int16 (n, w); units : int64 (n, w); decimals : int64 (n,)
    symbols : uint8 (N_Z, 2) ASCII of each element symbol; symbol_lengths : int64 (N_Z,)
    max_length : int, bytes per row of the output

    Returns
    -------
    uint8 (n, max_length), zero-padded; view it as ``S{max_length}`` to get byte strings.
    """
    n, w = units.shape
    out = np.zeros((n, max_length), dtype=np.uint8)
    for r in numba.prange(n):
        pos = 0
        one = np.int64(1)
        for _ in range(decimals[r]):
            one *= 10
        for j in range(w):
            z = elements[r, j]
            if z == 0:
                continue
            for k in range(symbol_lengths[z]):
                out[r, pos] = symbols[z, k]
                pos += 1
            u = units[r, j]
            whole = u // one
            frac = u % one
            if frac == 0 and whole == 1:
                continue
            pos = _write_int(out[r], pos, whole)
            if frac != 0:
                out[r, pos] = 46  # "."
                pos += 1
                digits = decimals[r]
                while frac % 10 == 0:
                    frac //= 10
                    digits -= 1
                # leading zeros of the fractional part
                v = frac
                shown = 0
                while v > 0:
                    shown += 1
                    v //= 10
                for _ in range(digits - shown):
                    out[r, pos] = 48
                    pos += 1
                pos = _write_int(out[r], pos, frac)
    return out
