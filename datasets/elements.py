"""Per-element constants indexed by atomic number, from the shipped element table (built from pymatgen).

Arrays have length ``N_Z = 104`` so that ``array[Z]`` is the value of element ``Z`` (1..103);
index 0 is the padding slot used by encoded composition batches and holds a neutral value.

The canonical element order (used in canonical formula strings and in encoded rows) sorts elements
by Pauling electronegativity, ascending, then by atomic number; elements without a Pauling value
(noble gases) come last, by atomic number. This is the ordering convention of pymatgen's
``Composition.formula`` (electronegativity first), so ``Nd2Fe14B``, ``SmCo5`` and ``SrFe12O19`` read
the way magnet scientists write them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["N_Z", "Z_MAX", "element_symbols", "atomic_masses", "canonical_rank", "symbol_to_z", "NONMETALS"]

Z_MAX = 103
N_Z = Z_MAX + 1

#: Non-metals that sit on anion or interstitial sites of magnet prototypes (B in Nd2Fe14B, N in
#: Sm2Fe17N3, O in SrFe12O19). The canonical formula unit is anchored on them when present.
NONMETALS = frozenset({"H", "B", "C", "N", "O", "F", "P", "S", "Cl", "Se", "Br", "I"})


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    from magnetscreen.datasets.element_table import load_element_table

    table = load_element_table()
    if table["Z"].tolist() != list(range(1, N_Z)):
        raise RuntimeError("shipped element table does not hold Z = 1..103 in order")
    symbols = ("",) + tuple(table["symbol"])
    masses = np.zeros(N_Z, dtype=np.float64)
    masses[1:] = table["atomic_mass_u"].to_numpy(dtype=np.float64)
    chi = np.full(N_Z, np.nan, dtype=np.float64)
    chi[1:] = table["X_pauling"].to_numpy(dtype=np.float64)
    return symbols, masses, chi


def element_symbols() -> tuple[str, ...]:
    """Element symbols indexed by atomic number; index 0 is ``""`` (padding)."""
    return _table()[0]


def atomic_masses() -> np.ndarray:
    """Standard atomic masses in g/mol, ``float64`` array of shape ``(N_Z,)``; index 0 is 0."""
    masses = _table()[1].copy()
    masses.setflags(write=False)
    return masses


@lru_cache(maxsize=1)
def canonical_rank() -> np.ndarray:
    """Position of each element in the canonical order, ``int64`` array of shape ``(N_Z,)``.

    Index 0 (padding) gets the largest rank so padding sorts after every element.
    """
    _, _, chi = _table()
    zs = np.arange(1, N_Z)
    has_x = np.isfinite(chi[1:])
    # lexsort sorts by the last key first: no-Pauling flag, then electronegativity, then Z
    order = np.lexsort((zs, np.where(has_x, chi[1:], 0.0), ~has_x))
    rank = np.empty(N_Z, dtype=np.int64)
    rank[zs[order]] = np.arange(Z_MAX)
    rank[0] = N_Z
    rank.setflags(write=False)
    return rank


@lru_cache(maxsize=1)
def symbol_to_z() -> dict[str, int]:
    """Mapping from element symbol to atomic number for Z = 1..103."""
    return {s: z for z, s in enumerate(element_symbols()) if z > 0}
