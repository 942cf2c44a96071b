"""Encode compositions into compact arrays and decode them into canonical formula strings.

An encoded batch holds one row per composition: the atomic numbers of its elements in the canonical
element order (see :mod:`magnetscreen.datasets.elements`), their atomic fractions and their mass
fractions, padded to a common width with atomic number 0. Rows never contain zero-fraction elements,
so statistics such as "minimum over the elements present" are well defined.

The canonical identity string of a composition (:func:`canonical_formula`) depends on the atomic
fractions only, so it is the same whatever the element order or scaling of the input
(``"Nd2Fe14B1"``, ``"Fe14Nd2B"`` and ``"Nd4Fe28B2"`` all give ``"Nd2Fe14B"``). Its rule:

1. elements in canonical order (Pauling electronegativity ascending, then atomic number);
2. amounts scaled to the smallest formula unit N = 1..1000 atoms at which every amount is a multiple
   of 0.0001 and, by preference, (a) the non-metals present (B, C, N, O, ...: the anions or
   interstitials of the prototype) have an integer total amount, else (b) some element has an integer
   amount;
3. if no such N exists, the atomic fractions are rounded to 6 decimals by largest remainder (so they
   sum to exactly 1) and step 2 is applied to the rounded fractions; if it fails again, the rounded
   fractions are the amounts (so the canonical name of a canonical name is itself);
4. amount 1 omitted, trailing zeros dropped.

So ``(Nd0.8Dy0.2)2Fe14B`` is ``Nd1.6Dy0.4Fe14B``, ``Sr0.9La0.1Fe12O19`` keeps its 19 oxygens, and
``Sm2Fe17N1.5C1.5`` keeps its three interstitials and ``Fe16N2`` reduces to ``Fe8N`` as in pymatgen's
reduced formula. Two compositions have the same name exactly when their atomic fractions agree (to
1e-6 in the fallback of step 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from magnetscreen.datasets.elements import (
    N_Z,
    NONMETALS,
    atomic_masses,
    canonical_rank,
    element_symbols,
    symbol_to_z,
)
from magnetscreen.datasets.errors import CompositionError
from magnetscreen.descriptors import encoding_kernels as _k
from magnetscreen.descriptors.composition import CompositionLike, parse_composition

__all__ = ["CompositionBatch", "encode", "decode", "canonical_formula", "canonical_formulas", "batch_from_arrays"]

#: Bytes reserved per element in a formula string: symbol (2) + integer part (4) + "." + 6 decimals.
_BYTES_PER_ELEMENT = 14


@lru_cache(maxsize=1)
def _symbol_bytes() -> tuple[np.ndarray, np.ndarray]:
    symbols = element_symbols()
    table = np.zeros((N_Z, 2), dtype=np.uint8)
    lengths = np.zeros(N_Z, dtype=np.int64)
    for z, s in enumerate(symbols):
        raw = s.encode("ascii")
        table[z, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        lengths[z] = len(raw)
    return table, lengths


@lru_cache(maxsize=1)
def _anchor_mask() -> np.ndarray:
    mask = np.zeros(N_Z, dtype=np.bool_)
    for symbol in NONMETALS:
        mask[symbol_to_z()[symbol]] = True
    return mask


@dataclass(frozen=True)
class CompositionBatch:
    """A batch of compositions as compact arrays.

    Attributes
    ----------
    elements : ndarray of int16, shape (n, w)
        Atomic numbers in canonical order; 0 marks padding, always after the elements.
    fractions : ndarray of float64, shape (n, w)
        Atomic fractions, each row summing to 1; 0 in padding.
    mass_fractions : ndarray of float64, shape (n, w)
        Mass fractions, each row summing to 1; 0 in padding.
    """

    elements: np.ndarray
    fractions: np.ndarray
    mass_fractions: np.ndarray

    def __len__(self) -> int:
        return int(self.elements.shape[0])

    @property
    def width(self) -> int:
        """Number of element slots per row."""
        return int(self.elements.shape[1])

    def names(self) -> np.ndarray:
        """Canonical formula of every row, as a numpy array of ``str``."""
        return canonical_formulas(self)

    def take(self, rows: np.ndarray | slice) -> CompositionBatch:
        """The rows ``rows`` (integer indices or boolean mask) as a new batch."""
        return CompositionBatch(self.elements[rows], self.fractions[rows], self.mass_fractions[rows])


def batch_from_arrays(elements: np.ndarray, fractions: np.ndarray) -> CompositionBatch:
    """Build a batch from element and fraction arrays already in canonical layout; computes mass fractions.

    Parameters
    ----------
    elements : array of int, shape (n, w)
        Atomic numbers in canonical order per row, 0-padded at the end.
    fractions : array of float, shape (n, w)
        Atomic fractions summing to 1 per row.
    """
    elements = np.ascontiguousarray(elements, dtype=np.int16)
    fractions = np.ascontiguousarray(fractions, dtype=np.float64)
    if elements.ndim != 2 or elements.shape != fractions.shape:
        raise ValueError(
            f"elements and fractions must be 2-D arrays of the same shape, got {elements.shape} and {fractions.shape}"
        )
    mass = _k.mass_fractions_kernel(elements, fractions, atomic_masses())
    return CompositionBatch(elements, fractions, mass)


def _row(composition: CompositionLike) -> tuple[list[int], list[float]]:
    comp = parse_composition(composition)
    z_of = symbol_to_z()
    rank = canonical_rank()
    items = sorted(((z_of[str(el)], float(amt)) for el, amt in comp.items()), key=lambda t: rank[t[0]])
    total = sum(a for _, a in items)
    return [z for z, _ in items], [a / total for _, a in items]


def encode(compositions: Iterable[CompositionLike] | CompositionLike, width: int | None = None) -> CompositionBatch:
    """Parse, validate and encode compositions into a :class:`CompositionBatch`.

    Parameters
    ----------
    compositions : iterable of str or mapping, or a single one
        Formula strings such as ``"Nd2Fe14B"`` or ``{element: amount}`` mappings.
    width : int, optional
        Element slots per row; default the largest number of elements of any composition.

    Returns
    -------
    CompositionBatch

    Raises
    ------
    CompositionError
        For the first invalid composition, naming it and its position in the input.

    Examples
    --------
    >>> batch = encode(["Fe14Nd2B", "SmCo5"])
    >>> batch.names().tolist()
    ['Nd2Fe14B', 'SmCo5']
    """
    items = [compositions] if isinstance(compositions, str) or hasattr(compositions, "items") else compositions
    rows = []
    for i, composition in enumerate(items):
        try:
            rows.append(_row(composition))
        except CompositionError as exc:
            # the position in the input, for callers that map it to a file line
            raise CompositionError(f"composition #{i}: {exc}", index=i, detail=str(exc)) from None
    needed = max((len(z) for z, _ in rows), default=1)
    if width is None:
        width = needed
    elif width < needed:
        raise ValueError(f"width={width} is smaller than the {needed} elements of the widest composition")
    elements = np.zeros((len(rows), width), dtype=np.int16)
    fractions = np.zeros((len(rows), width), dtype=np.float64)
    for i, (zs, xs) in enumerate(rows):
        elements[i, : len(zs)] = zs
        fractions[i, : len(xs)] = xs
    return batch_from_arrays(elements, fractions)


def canonical_formulas(batch: CompositionBatch) -> np.ndarray:
    """Canonical formula of every row of ``batch`` (see the module docstring for the rule).

    Returns
    -------
    ndarray of str, shape (n,)
    """
    if len(batch) == 0:
        return np.array([], dtype=str)
    units, decimals = _k.canonical_units_kernel(batch.elements, batch.fractions, _anchor_mask())
    symbols, lengths = _symbol_bytes()
    max_length = _BYTES_PER_ELEMENT * batch.width
    raw = _k.format_names_kernel(batch.elements, units, decimals, symbols, lengths, max_length)
    return raw.view(f"S{max_length}").ravel().astype(str)


def decode(batch: CompositionBatch) -> list[str]:
    """Canonical formula strings of a batch, as a list (inverse of :func:`encode` up to canonical form)."""
    return canonical_formulas(batch).tolist()


def canonical_formula(composition: CompositionLike) -> str:
    """Canonical identity string of one composition.

    Examples
    --------
    >>> canonical_formula("Fe14Nd2B1")
    'Nd2Fe14B'
    >>> canonical_formula("(Nd0.8Dy0.2)2Fe14B")
    'Nd1.6Dy0.4Fe14B'
    """
    return decode(encode([composition]))[0]
