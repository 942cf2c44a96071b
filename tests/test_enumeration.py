"""Enumeration against independent references: closed-form counts, brute force, naive constraints."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import family_dict
from hypothesis import given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition

from magnetscreen.datasets import builtin_family, parse_family
from magnetscreen.descriptors.enumeration import _ways_table, grid_site_count, plan_enumeration
from magnetscreen.descriptors.enumeration_kernels import stick_break_bounded, unrank_bounded_composition


def closed_form_count(units: int, lo: list[int], hi: list[int]) -> int:
    """Bounded compositions of `units` into len(lo) parts by inclusion-exclusion on the upper bounds."""
    k = len(lo)
    rest = units - sum(lo)
    if rest < 0:
        return 0
    spans = [h - l for l, h in zip(lo, hi)]
    total = 0
    for size in range(k + 1):
        for subset in itertools.combinations(range(k), size):
            r = rest - sum(spans[j] + 1 for j in subset)
            if r >= 0:
                total += (-1) ** size * math.comb(r + k - 1, k - 1)
    return total


@pytest.mark.parametrize(
    "units, lo, hi",
    [
        (10, [0, 0], [10, 10]),
        (100, [0] * 7, [100] * 7),
        (20, [0, 0, 0, 0], [20, 20, 20, 20]),
        (40, [0, 2, 0], [40, 10, 5]),
        (10, [1, 1, 1, 1, 1], [3, 4, 10, 10, 2]),
        (1000, [0, 0, 0], [1000, 300, 200]),
    ],
)
def test_site_count_equals_closed_form(units, lo, hi):
    assert grid_site_count(units, lo, hi) == closed_form_count(units, lo, hi)


@pytest.mark.parametrize("step, expected", [(0.5, 6 * 3), (0.25, 15 * 5), (0.1, 66 * 11)])
def test_family_count_is_product_of_closed_forms(step, expected):
    family = parse_family(family_dict(step=step), "t")
    plan = plan_enumeration(family)
    units = round(1 / step)
    assert plan.total == closed_form_count(units, [0] * 3, [units] * 3) * closed_form_count(units, [0, 0], [units] * 2)
    assert plan.total == expected


def test_count_with_variables_and_bounds():
    family = builtin_family("1-12")
    plan = plan_enumeration(family)
    r = closed_form_count(4, [0] * 4, [4] * 4)
    t = closed_form_count(10, [0, 0], [10, 10])
    m = closed_form_count(2, [0] * 4, [2] * 4)
    assert plan.total == 3 * r * t * m


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.integers(1, 12),
            st.lists(st.tuples(st.integers(0, 4), st.integers(0, 12)), min_size=k, max_size=k),
        )
    )
)
def test_unrank_kernel_equals_brute_force(args):
    k, units, raw_bounds = args
    lo = [min(a, b) for a, b in raw_bounds]
    hi = [max(a, b) for a, b in raw_bounds]
    brute = [p for p in itertools.product(*[range(l, h + 1) for l, h in zip(lo, hi)]) if sum(p) == units]
    table = _ways_table(units, lo, hi)
    assert table[0][units] == len(brute)
    ways = np.array(table, dtype=np.int64)
    out = np.zeros(k, dtype=np.int64)
    got = []
    for rank in range(len(brute)):
        unrank_bounded_composition(rank, k, units, np.array(lo), np.array(hi), ways, out)
        got.append(tuple(out.tolist()))
    assert got == brute  # itertools.product is lexicographic: the documented order


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1, exclude_max=True), min_size=3, max_size=3),
       st.lists(st.tuples(st.integers(0, 300), st.integers(0, 1000)), min_size=4, max_size=4))
def test_stick_breaking_respects_bounds_and_total(u, raw_bounds):
    lo = np.array([min(a, b) for a, b in raw_bounds], dtype=np.int64)
    hi = np.array([max(a, b) for a, b in raw_bounds], dtype=np.int64)
    units = 1000
    if lo.sum() > units or hi.sum() < units:
        return
    suffix_lo = np.array([lo[j + 1:].sum() for j in range(4)], dtype=np.int64)
    suffix_hi = np.array([hi[j + 1:].sum() for j in range(4)], dtype=np.int64)
    out = np.zeros(4, dtype=np.int64)
    stick_break_bounded(np.array(u), 4, units, lo, hi, suffix_lo, suffix_hi, out)
    assert out.sum() == units
    assert np.all(out >= lo) and np.all(out <= hi)


def _all(plan, start=0):
    names, index = [], []
    for chunk in plan.chunks(start):
        names.extend(chunk.batch.names().tolist())
        index.extend(chunk.candidate_index.tolist())
    return names, index


@pytest.mark.parametrize("sampling", ["grid", "sobol"])
def test_same_candidates_for_any_chunk_size(sampling):
    family = parse_family(family_dict(step=0.25, sampling=sampling, n_samples=50), "t")
    reference = _all(plan_enumeration(family, chunk_size=10_000, seed=3))
    for size in (1, 7):
        assert _all(plan_enumeration(family, chunk_size=size, seed=3)) == reference
    assert len(reference[0]) == plan_enumeration(family).total


def test_restart_from_any_chunk_gives_the_tail():
    family = builtin_family("SmCo5")
    plan = plan_enumeration(family, chunk_size=7)
    names, index = _all(plan)
    tail_names, tail_index = _all(plan, start=5)
    assert tail_names == names[35:] and tail_index == index[35:]


def test_grid_candidates_are_distinct_and_on_the_grid():
    family = builtin_family("2-14-1")
    plan = plan_enumeration(family)
    names, _ = _all(plan)
    assert len(set(names)) == len(names) == plan.total
    for name in names[::997]:
        amounts = Composition(name).get_el_amt_dict()
        n_atoms = sum(amounts.values())
        assert n_atoms == pytest.approx(17)  # R2 T14 B1
        r_site = sum(v for k, v in amounts.items() if k in ("Nd", "Pr", "Ce", "La", "Y", "Dy", "Tb"))
        assert r_site == pytest.approx(2)
        for element in ("Nd", "Dy", "Co"):
            mult = 14 if element == "Co" else 2
            frac = amounts.get(element, 0) / mult
            assert frac * 10 == pytest.approx(round(frac * 10), abs=1e-9)  # step 0.1


def test_sobol_samples_differ_by_seed_and_are_reproducible():
    family = builtin_family("2-14-1").with_overrides(sampling="sobol", n_samples=64)
    a = _all(plan_enumeration(family, seed=1))[0]
    b = _all(plan_enumeration(family, seed=1))[0]
    c = _all(plan_enumeration(family, seed=2))[0]
    assert a == b and a != c and len(a) == 64


def test_constraints_match_a_naive_check():
    family = parse_family(
        family_dict(
            step=0.25,
            constraints=[
                {"kind": "max_mass_fraction", "elements": ["Dy"], "value": 0.05},
                {"kind": "min_atomic_fraction", "elements": ["Fe", "Co"], "value": 0.8},
                {"kind": "max_atomic_fraction", "elements": ["Co"], "value": 0.3},
            ],
        ),
        "t",
    )
    unconstrained = parse_family(family_dict(step=0.25), "t")
    all_names, all_index = _all(plan_enumeration(unconstrained))
    kept_names, kept_index = _all(plan_enumeration(family, chunk_size=7))
    expected = []
    for name, i in zip(all_names, all_index):
        comp = Composition(name)
        ok = comp.get_wt_fraction("Dy") <= 0.05 + 1e-12
        ok &= comp.get_atomic_fraction("Fe") + comp.get_atomic_fraction("Co") >= 0.8 - 1e-12
        ok &= comp.get_atomic_fraction("Co") <= 0.3 + 1e-12
        if ok:
            expected.append((name, i))
    assert list(zip(kept_names, kept_index)) == expected
    assert 0 < len(expected) < len(all_names)


def test_huge_family_streams_without_holding_it():
    family = builtin_family("2-14-1").with_overrides(step=0.01)
    plan = plan_enumeration(family, chunk_size=1000)
    assert plan.total == closed_form_count(100, [0] * 7, [100] * 7) * 101  # about 1.6e11 candidates
    last = plan.chunk(plan.n_chunks - 1)  # jumps straight to the end: nothing before it is generated
    assert last.stop == plan.total and len(last) == plan.total - last.start
    assert last.batch.names()[-1] == "Nd2Fe14B"


def test_chunk_index_out_of_range():
    plan = plan_enumeration(builtin_family("MnBi"))
    with pytest.raises(IndexError, match="chunk index 1 out of range 0..0"):
        plan.chunk(1)


def test_mass_and_atomic_fractions_of_chunks_match_pymatgen():
    plan = plan_enumeration(builtin_family("M-hexaferrite"), chunk_size=5000)
    chunk = plan.chunk(2)
    names = chunk.batch.names()
    from magnetscreen.datasets.elements import element_symbols

    symbols = element_symbols()
    for row in range(0, len(chunk), 613):
        comp = Composition(names[row])
        for z, x, w in zip(chunk.batch.elements[row], chunk.batch.fractions[row], chunk.batch.mass_fractions[row]):
            if z:
                assert x == pytest.approx(comp.get_atomic_fraction(symbols[z]), rel=1e-9)
                assert w == pytest.approx(comp.get_wt_fraction(symbols[z]), rel=1e-9)


def test_fixed_element_by_equal_bounds():
    family = builtin_family("2-14-1").with_overrides(bounds={"T": {"Co": (0.2, 0.2)}, "R": {"Dy": (0.0, 0.0)}})
    names, _ = _all(plan_enumeration(family))
    assert names
    for name in names[::50]:
        amounts = Composition(name).get_el_amt_dict()
        assert amounts["Co"] == pytest.approx(2.8) and amounts["Fe"] == pytest.approx(11.2)
        assert "Dy" not in amounts


def test_every_enumerated_name_parses():
    """Canonical names of enumerated candidates always read back (grid and Sobol, every built-in family, and
    a user family with a tiny-multiplicity site that used to print 'Nd0')."""
    from magnetscreen.datasets import builtin_families, parse_family
    from magnetscreen.datasets.composition import parse_composition
    from magnetscreen.datasets.errors import FamilyError

    for family in builtin_families():
        for variant in (family, family.with_overrides(sampling="sobol", n_samples=600)):
            names = plan_enumeration(variant, chunk_size=600, seed=5).chunk(0).batch.names()
            for name in names.tolist():
                assert parse_composition(name), name
    tiny = {"name": "t", "description": "d", "prototype": "Fe", "structure": "s", "citation": "c", "reference": "r",
            "sampling": "sobol", "n_samples": 100,
            "sites": [{"name": "A", "multiplicity": 1000, "elements": ["Fe", "Co", "Ni"]},
                      {"name": "B", "multiplicity": 0.01, "elements": ["Nd", "Pr"]}]}
    with pytest.raises(FamilyError, match=r"atomic fraction 1e-08\), below twice the smallest representable"):
        plan_enumeration(parse_family(tiny))
