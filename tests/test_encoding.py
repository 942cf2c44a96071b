"""Encoding, mass fractions and canonical names, against independent references."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition

from magnetscreen.datasets.elements import NONMETALS, canonical_rank, element_symbols, symbol_to_z
from magnetscreen.descriptors import canonical_formula, decode, encode

SYMBOLS = ["Nd", "Pr", "Dy", "Tb", "Fe", "Co", "B", "Sm", "Cu", "N", "C", "O", "Sr", "La", "Mn", "Bi", "Ni", "Ti"]


def reference_canonical(amounts: dict[str, Fraction]) -> str:
    """The canonical-formula rule computed with exact rational arithmetic (plain Python)."""
    return _reference(amounts)[0]


def _search(fractions: list[tuple[str, Fraction]]):
    one = 10**4
    for stage in ("anchor", "any"):
        if stage == "anchor" and not any(s in NONMETALS for s, _ in fractions):
            continue
        for n in range(1, 1001):
            us = [f * n * one for _, f in fractions]
            if not all(u.denominator == 1 for u in us):
                continue
            us = [int(u) for u in us]
            if stage == "anchor":
                ok = sum(u for (s, _), u in zip(fractions, us) if s in NONMETALS) % one == 0
            else:
                ok = any(u % one == 0 for u in us)
            if ok:
                return us
    return None


def _reference(amounts: dict[str, Fraction]) -> tuple[str, int]:
    rank = canonical_rank()
    z = symbol_to_z()
    items = sorted(amounts.items(), key=lambda kv: rank[z[kv[0]]])
    total = sum(a for _, a in items)
    fractions = [(s, a / total) for s, a in items]
    us, decimals = _search(fractions), 4
    if us is None:  # largest remainder to 6 decimals (ties to the earlier element), then search again
        scaled = [f * 10**6 for _, f in fractions]
        floors = [int(x) for x in scaled]
        order = sorted(range(len(scaled)), key=lambda j: (-(scaled[j] - floors[j]), j))
        for j in order[: 10**6 - sum(floors)]:
            floors[j] += 1
        rounded = [(s, Fraction(u, 10**6)) for (s, _), u in zip(fractions, floors)]
        us = _search(rounded)
        if us is None:
            us, decimals = floors, 6
    text = ""
    for (s, _), u in zip(fractions, us):
        whole, frac = divmod(u, 10**decimals)
        text += s
        if frac == 0:
            text += "" if whole == 1 else str(whole)
        else:
            text += f"{whole}." + f"{frac:0{decimals}d}".rstrip("0")
    return text, decimals


@pytest.mark.parametrize(
    "formula, name",
    [
        ("Nd2Fe14B", "Nd2Fe14B"),
        ("Fe14Nd2B1", "Nd2Fe14B"),
        ("Nd4Fe28B2", "Nd2Fe14B"),
        ("(Nd0.8Dy0.2)2Fe14B", "Nd1.6Dy0.4Fe14B"),
        ("(Nd0.8Dy0.2)2(Fe0.9Co0.1)14B", "Nd1.6Dy0.4Fe12.6Co1.4B"),
        ("SrFe12O19", "SrFe12O19"),
        ("Sr0.9La0.1Fe12O19", "Sr0.9La0.1Fe12O19"),
        ("Sm2Fe17N3", "Sm2Fe17N3"),
        ("Sm2Fe17N1.5C1.5", "Sm2Fe17C1.5N1.5"),
        ("Fe16N2", "Fe8N"),
        ("SmCo5", "SmCo5"),
        ("Sm(Co0.9Fe0.1)5", "SmFe0.5Co4.5"),
        ("Sm2Co17", "Sm2Co17"),
        ("FeNi", "FeNi"),
        ("Fe0.5Ni0.5", "FeNi"),
        ("MnBi0.9Sb0.1", "MnBi0.9Sb0.1"),
        ("Fe0.3333333Co0.6666667", "Fe0.333333Co0.666667"),
    ],
)
def test_known_canonical_names(formula, name):
    assert canonical_formula(formula) == name


def test_canonical_name_is_stable_under_order_and_scaling():
    assert canonical_formula("Nd2Fe14B1") == canonical_formula("Fe14Nd2B") == canonical_formula("B0.5Fe7Nd1")
    assert canonical_formula({"Fe": 14, "Nd": 2, "B": 1}) == "Nd2Fe14B"


amount = st.integers(min_value=1, max_value=3000).map(lambda k: Fraction(k, 100))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(SYMBOLS), amount, min_size=1, max_size=6), st.integers(1, 7))
def test_canonical_name_matches_exact_reference(amounts, scale):
    scaled = {s: float(a * scale) for s, a in amounts.items()}
    assert canonical_formula(scaled) == reference_canonical(amounts)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(SYMBOLS), amount, min_size=1, max_size=6))
def test_encode_decode_round_trip(amounts):
    batch = encode([{s: float(a) for s, a in amounts.items()}])
    name = decode(batch)[0]
    again = encode([name])
    assert decode(again) == [name]
    np.testing.assert_array_equal(again.elements, batch.elements)
    # names of the first kind reproduce the fractions exactly; the fallback to its 6-decimal precision
    total = sum(amounts.values())
    exact = _search(sorted(((s, a / total) for s, a in amounts.items()),
                           key=lambda kv: canonical_rank()[symbol_to_z()[kv[0]]])) is not None
    np.testing.assert_allclose(again.fractions, batch.fractions, rtol=0, atol=1e-12 if exact else 1e-6)


def test_distinct_compositions_get_distinct_names():
    rng = np.random.default_rng(7)
    seen = {}
    for _ in range(2000):
        k = rng.integers(1, 5)
        symbols = list(rng.choice(SYMBOLS, size=k, replace=False))
        amounts = {s: int(rng.integers(1, 40)) for s in symbols}
        total = sum(amounts.values())
        key = tuple(sorted((s, Fraction(a, total)) for s, a in amounts.items()))
        name = canonical_formula(amounts)
        assert seen.setdefault(name, key) == key, name


def test_rows_are_in_canonical_order_and_padded():
    batch = encode(["B Fe14 Nd2", "SmCo5"])
    symbols = element_symbols()
    assert [symbols[z] for z in batch.elements[0]] == ["Nd", "Fe", "B"]
    assert [symbols[z] for z in batch.elements[1]] == ["Sm", "Co", ""]
    assert batch.fractions[1, 2] == 0.0
    np.testing.assert_allclose(batch.fractions.sum(axis=1), 1.0, rtol=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(SYMBOLS), amount, min_size=1, max_size=6))
def test_mass_fractions_match_pymatgen(amounts):
    comp = {s: float(a) for s, a in amounts.items()}
    batch = encode([comp])
    reference = Composition(comp)
    symbols = element_symbols()
    for z, w in zip(batch.elements[0], batch.mass_fractions[0]):
        if z:
            assert w == pytest.approx(reference.get_wt_fraction(symbols[z]), rel=1e-12)


def test_encode_reports_the_bad_row():
    from magnetscreen.datasets.errors import CompositionError

    with pytest.raises(CompositionError, match=r"composition #1: 'Nd2Fe14X': unknown element 'X'"):
        encode(["Nd2Fe14B", "Nd2Fe14X"])


def test_width_is_checked():
    with pytest.raises(ValueError, match="width=1 is smaller than the 3 elements"):
        encode(["Nd2Fe14B"], width=1)


def test_fallback_name_that_looks_exact_is_stable():
    # found by hypothesis: the 6-decimal fractions of this composition have an exact formula at N = 100
    amounts = {"Nd": 0.01, "Pr": 0.43, "Dy": 263 / 25, "Tb": 527 / 50}
    name = canonical_formula(amounts)
    assert canonical_formula(name) == name
