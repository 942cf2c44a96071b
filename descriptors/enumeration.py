"""Streaming enumeration of a family's candidates as chunks of encoded compositions.

:func:`plan_enumeration` turns a validated :class:`~magnetscreen.datasets.families.Family` into an
:class:`EnumerationPlan`: the exact number of candidates is known before anything is generated, the
order is fixed, and :meth:`EnumerationPlan.chunks` yields :class:`Chunk` objects lazily from any chunk
index, so memory depends on the chunk size only, never on the family size.

Per site, substitution is either

- ``grid``: every site occupancy on the simplex grid with the given step that respects the element
  bounds (exact counts from a counting table; 1/step must be a whole number), or
- ``sobol``: ``n_samples`` scrambled Sobol points (``scipy.stats.qmc.Sobol`` with the run seed) mapped
  to occupancies by bounded stick-breaking at a resolution of 1/1000 of the site, so that candidate
  names stay exact at the canonical precision.

Composition constraints (family-level and run-level) are applied inside each chunk: a chunk keeps the
candidate indices that pass, so restarts and different chunk sizes give the same survivors.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import qmc

from magnetscreen.datasets.composition import MAX_ATOMS, MAX_ELEMENTS, MIN_FRACTION
from magnetscreen.datasets.elements import atomic_masses, canonical_rank, symbol_to_z
from magnetscreen.datasets.errors import FamilyError
from magnetscreen.datasets.families import Family, check_step
from magnetscreen.descriptors import enumeration_kernels as _k
from magnetscreen.descriptors.encoding import CompositionBatch, batch_from_arrays

__all__ = ["EnumerationPlan", "Chunk", "plan_enumeration", "SOBOL_RESOLUTION", "MAX_CANDIDATES", "grid_site_count"]

#: Quasi-random site occupancies are multiples of 1/SOBOL_RESOLUTION.
SOBOL_RESOLUTION = 1000
#: Largest candidate count a plan accepts (indices are int64).
MAX_CANDIDATES = 2**62


def grid_site_count(units: int, lo: list[int], hi: list[int]) -> int:
    """Number of ways to split ``units`` into len(lo) integer parts with lo[j] <= part_j <= hi[j] (exact)."""
    return _ways_table(units, lo, hi)[0][units]


def _ways_table(units: int, lo: list[int], hi: list[int]) -> list[list[int]]:
    """ways[j][r]: ways for parts j..k-1 to sum to r, by prefix sums (Python ints, exact)."""
    k = len(lo)
    ways = [[0] * (units + 1) for _ in range(k + 1)]
    ways[k][0] = 1
    for j in range(k - 1, -1, -1):
        nxt = ways[j + 1]
        prefix = [0] * (units + 2)
        for r in range(units + 1):
            prefix[r + 1] = prefix[r] + nxt[r]
        for r in range(units + 1):
            a = max(0, r - hi[j])
            b = r - lo[j]
            if b >= a:
                ways[j][r] = prefix[b + 1] - prefix[a]
    return ways


@dataclass(frozen=True)
class Chunk:
    """One chunk of a family's candidates.

    Attributes
    ----------
    family : str
        Family name.
    index : int
        Chunk index in the plan.
    start, stop : int
        Candidate indices covered (half-open), before constraints.
    candidate_index : ndarray of int64, shape (m,)
        Indices of the candidates that passed the composition constraints.
    batch : CompositionBatch
        Their encoded compositions, row ``i`` for ``candidate_index[i]``.
    """

    family: str
    index: int
    start: int
    stop: int
    candidate_index: np.ndarray
    batch: CompositionBatch

    def __len__(self) -> int:
        return len(self.batch)


@dataclass(frozen=True)
class EnumerationPlan:
    """The candidates of one family, ready to be generated chunk by chunk (see the module docstring)."""

    family: Family
    total: int
    chunk_size: int
    seed: int
    n_sobol: int
    site_counts: tuple[int, ...]
    n_combos: int
    _arrays: dict = field(repr=False, compare=False)

    @property
    def n_chunks(self) -> int:
        return -(-self.total // self.chunk_size)

    @property
    def universe(self) -> tuple[str, ...]:
        """The family's elements in canonical order."""
        return self._arrays["universe_symbols"]

    def chunk(self, index: int) -> Chunk:
        """Generate chunk ``index`` (0 <= index < n_chunks)."""
        if not 0 <= index < self.n_chunks:
            raise IndexError(f"chunk index {index} out of range 0..{self.n_chunks - 1}")
        start = index * self.chunk_size
        stop = min(self.total, start + self.chunk_size)
        a = self._arrays
        n = stop - start
        u, u_row = self._sobol_points(start, stop)
        elements, fractions, keep = _k.enumerate_kernel(
            start, n, a["var_mult"], a["kinds"], a["ks"], a["units"], a["lo"], a["hi"], a["suffix_lo"],
            a["suffix_hi"], a["elem_idx"], a["grid_counts"], a["ways"], a["sobol_offset"], self.n_sobol,
            u, u_row, a["universe_z"], a["masses"], a["c_mass"], a["c_max"], a["c_value"], a["c_mask"],
        )
        candidate_index = np.arange(start, stop, dtype=np.int64)
        if not keep.all():
            elements, fractions, candidate_index = elements[keep], fractions[keep], candidate_index[keep]
        return Chunk(self.family.name, index, start, stop, candidate_index, batch_from_arrays(elements, fractions))

    def chunks(self, start: int = 0) -> Iterator[Chunk]:
        """Yield chunks ``start``, ``start+1``, ... lazily (restart from any chunk index)."""
        if not 0 <= start <= self.n_chunks:
            raise IndexError(f"start chunk {start} out of range 0..{self.n_chunks}")
        for index in range(start, self.n_chunks):
            yield self.chunk(index)

    def _sobol_points(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        dims = self._arrays["sobol_dims"]
        n = stop - start
        if dims == 0:
            return np.zeros((1, 1)), np.zeros(n, dtype=np.int64)
        sample = np.arange(start, stop, dtype=np.int64) % self.n_sobol
        if n >= self.n_sobol:
            lo, hi = 0, self.n_sobol
        else:
            lo, hi = int(sample.min()), int(sample.max()) + 1
        # wrapped ranges ([a, n_sobol) then [0, b)) are covered by [min, max], at most n_sobol points
        engine = qmc.Sobol(d=dims, scramble=True, rng=np.random.default_rng(self.seed))
        if lo:
            engine.fast_forward(lo)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balance properties need powers of 2: not relied on
            points = engine.random(hi - lo)
        return np.ascontiguousarray(points, dtype=np.float64), sample - lo


def _check_representable(family: Family, var_mult: np.ndarray, units: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                         ks: np.ndarray) -> None:
    """Refuse a family whose candidates could not be named and read back: more distinct elements than a
    composition may have, more atoms per formula unit than :data:`MAX_ATOMS`, or an element that could occupy
    less than :data:`MIN_FRACTION` of the atoms (its canonical name would round it to zero)."""
    if len(family.elements) > MAX_ELEMENTS:
        raise FamilyError(f"family {family.name!r}: {len(family.elements)} distinct elements, more than the "
                          f"{MAX_ELEMENTS} a composition may have")
    totals = var_mult.sum(axis=1)
    if totals.max() > MAX_ATOMS:
        raise FamilyError(f"family {family.name!r}: up to {totals.max():g} atoms per formula unit, more than "
                          f"{MAX_ATOMS:g}")
    largest = float(totals.max())
    for s, site in enumerate(family.sites):
        if ks[s] < 2:
            continue
        positive = var_mult[:, s][var_mult[:, s] > 0]
        if positive.size == 0:
            continue
        smallest_share = min(max(int(lo[s, j]), 1) for j in range(ks[s]) if hi[s, j] >= 1) / int(units[s])
        fraction = smallest_share * float(positive.min()) / largest
        if fraction < 2 * MIN_FRACTION:  # a margin: the name rounds fractions to 6 decimals
            raise FamilyError(
                f"family {family.name!r}: site {site.name!r} can hold an element at {smallest_share:g} of its "
                f"{positive.min():g} atoms in a formula unit of up to {largest:g} atoms (atomic fraction "
                f"{fraction:.3g}), below twice the smallest representable fraction {MIN_FRACTION:g}: use a "
                "coarser step, a larger multiplicity or a lower bound")


def plan_enumeration(family: Family, *, chunk_size: int = 65536, seed: int = 0) -> EnumerationPlan:
    """Prepare the enumeration of ``family``.

    Parameters
    ----------
    family : Family
        A validated family (built-in or from :func:`~magnetscreen.datasets.families.load_family`),
        possibly with run-time overrides applied.
    chunk_size : int, default=65536
        Candidates per chunk (before constraints).
    seed : int, default=0
        Seed of the scrambled Sobol sequence (used only by quasi-random sites).

    Returns
    -------
    EnumerationPlan

    Raises
    ------
    FamilyError
        If the family has more than ``MAX_CANDIDATES`` candidates.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    z_of = symbol_to_z()
    rank = canonical_rank()
    universe_symbols = tuple(sorted(family.elements, key=lambda s: rank[z_of[s]]))
    slot = {s: i for i, s in enumerate(universe_symbols)}
    sites = family.sites
    n_sites = len(sites)
    kmax = max(len(s.elements) for s in sites)

    kinds = np.zeros(n_sites, dtype=np.int64)
    ks = np.zeros(n_sites, dtype=np.int64)
    units = np.ones(n_sites, dtype=np.int64)
    lo = np.zeros((n_sites, kmax), dtype=np.int64)
    hi = np.zeros((n_sites, kmax), dtype=np.int64)
    elem_idx = np.zeros((n_sites, kmax), dtype=np.int64)
    grid_counts = np.ones(n_sites, dtype=np.int64)
    sobol_offset = np.zeros(n_sites, dtype=np.int64)
    tables = []
    site_counts = []
    dims = 0
    for s, site in enumerate(sites):
        k = len(site.elements)
        ks[s] = k
        elem_idx[s, :k] = [slot[e] for e in site.elements]
        sampling = family.site_sampling(site)
        if k == 1:
            kinds[s] = _k.GRID
            u_s = 1
        elif sampling == "grid":
            kinds[s] = _k.GRID
            u_s = check_step(family.site_step(site), f"family {family.name!r}: sites[{s}].step")
        else:
            kinds[s] = _k.SOBOL
            u_s = SOBOL_RESOLUTION
            sobol_offset[s] = dims
            dims += k - 1
        units[s] = u_s
        lo_s = [math.ceil(b[0] * u_s - 1e-9) for b in site.bounds]
        hi_s = [math.floor(b[1] * u_s + 1e-9) for b in site.bounds]
        lo[s, :k] = lo_s
        hi[s, :k] = hi_s
        if kinds[s] == _k.GRID:
            table = _ways_table(u_s, lo_s, hi_s)
            count = table[0][u_s]
            if count == 0:
                raise FamilyError(f"family {family.name!r}: site {site.name!r} has no grid point within its bounds")
            if count >= MAX_CANDIDATES:
                raise FamilyError(f"family {family.name!r}: site {site.name!r} has {count} grid points, too many")
            grid_counts[s] = count
            site_counts.append(count)
        else:
            table = [[0]]
            site_counts.append(family.n_samples)
        tables.append(table)

    umax = int(units.max())
    ways = np.zeros((n_sites, kmax + 1, umax + 1), dtype=np.int64)
    for s, table in enumerate(tables):
        if kinds[s] == _k.GRID:
            ways[s, : len(table), : len(table[0])] = np.array(table, dtype=np.int64)
    suffix_lo = np.zeros_like(lo)
    suffix_hi = np.zeros_like(hi)
    for s in range(n_sites):
        k = ks[s]
        for j in range(k):
            suffix_lo[s, j] = lo[s, j + 1 : k].sum()
            suffix_hi[s, j] = hi[s, j + 1 : k].sum()

    combos = [dict(zip([v.name for v in family.variables], values))
              for values in itertools.product(*[v.values for v in family.variables])]
    var_mult = np.array([[site.multiplicity.value(c) for site in sites] for c in combos], dtype=np.float64)
    _check_representable(family, var_mult, units, lo, hi, ks)
    n_sobol = family.n_samples if dims else 1
    total = len(combos) * n_sobol
    for count in grid_counts.tolist():
        total *= int(count)
    if total >= MAX_CANDIDATES:
        raise FamilyError(f"family {family.name!r}: {total} candidates, more than the supported {MAX_CANDIDATES}")

    masses_all = atomic_masses()
    universe_z = np.array([z_of[s] for s in universe_symbols], dtype=np.int16)
    constraints = family.constraints
    c_mask = np.zeros((len(constraints), len(universe_symbols)), dtype=np.bool_)
    for c, con in enumerate(constraints):
        for e in con.elements:
            if e in slot:
                c_mask[c, slot[e]] = True
    arrays = {
        "universe_symbols": universe_symbols,
        "var_mult": var_mult,
        "kinds": kinds,
        "ks": ks,
        "units": units,
        "lo": lo,
        "hi": hi,
        "suffix_lo": suffix_lo,
        "suffix_hi": suffix_hi,
        "elem_idx": elem_idx,
        "grid_counts": grid_counts,
        "ways": ways,
        "sobol_offset": sobol_offset,
        "sobol_dims": dims,
        "universe_z": universe_z,
        "masses": masses_all[universe_z.astype(np.int64)],
        "c_mass": np.array([c.basis == "mass" for c in constraints], dtype=np.bool_),
        "c_max": np.array([c.is_max for c in constraints], dtype=np.bool_),
        "c_value": np.array([c.value for c in constraints], dtype=np.float64),
        "c_mask": c_mask,
    }
    return EnumerationPlan(family, total, chunk_size, seed, n_sobol, tuple(site_counts), len(combos), arrays)
