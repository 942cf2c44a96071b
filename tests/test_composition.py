"""Parsing and validation of user compositions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition

from magnetscreen.datasets.errors import CompositionError, MagnetscreenError
from magnetscreen.descriptors import parse_composition


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("Nd2Fe14B", {"Nd": 2, "Fe": 14, "B": 1}),
        ("Fe14Nd2B1", {"Nd": 2, "Fe": 14, "B": 1}),
        ("(Nd0.8Dy0.2)2Fe14B", {"Nd": 1.6, "Dy": 0.4, "Fe": 14, "B": 1}),
        ("Sm[Co0.8Cu0.2]5", {"Sm": 1, "Co": 4, "Cu": 1}),
        ("Fe.5Co.5", {"Fe": 0.5, "Co": 0.5}),
        ("Nd2 Fe14 B1", {"Nd": 2, "Fe": 14, "B": 1}),
    ],
)
def test_valid_formulas(formula, expected):
    comp = parse_composition(formula)
    assert {str(k): v for k, v in comp.items()} == pytest.approx(expected)


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("Nd2Fe14X", "unknown element 'X'"),
        ("Xx2", "unknown element 'Xx'"),
        ("D2O", "unknown element 'D'"),
        ("", "empty formula"),
        ("   ", "empty formula"),
        ("Fe-1", "unexpected text '-1'"),
        ("Fe2+", "unexpected text '+'"),
        ("Fe0Co", "zero amount '0'"),
        ("2Fe", "does not follow an element"),
        ("Fe(", "unclosed bracket"),
        ("Fe)", "unmatched ')'"),
        ("Fe()", "empty group"),
        ("Fe1e5", "unexpected text 'e5'"),
        ("Fe nan", "unexpected text 'nan'"),
        ("Fe99999", "absurd size"),
        ("Fe0.0000001Co", "below the smallest representable fraction"),
        ("Fe" * 300, "longer than"),
        ("HHeLiBeBCNOFNeNaMgAlSiPSCl", "distinct elements"),
        # regressions: each was silently changed before
        ("Fe1Co0.000000001", "atomic fraction of Co is 1e-09, below the smallest representable fraction"),
        ("Sm\0Co5", "control or invisible character U+0000 at position 2"),
        ("Nd2Fe14B\nSmCo5", "a line break (U+000A) at position 8 is not allowed in a formula (one formula per"),
        ("NaN", "reads as a missing value"),
        ("nan", "reads as a missing value"),
        ("None", "reads as a missing value"),
        ("Fe\u00a0Co", "no-break space (U+00A0) at position 2"),
        ("Fe\u0661\u0664", "non-ASCII digit '\u0661'"),
        ("Fe14\tNd2B", "a tab (U+0009) at position 4"),
        ("Fe\u200bCo", "U+200B"),
        ("Fe" + "(" * 20 + "Co" + ")" * 20, "nested deeper than 16"),
    ],
)
def test_invalid_formulas_name_the_problem(formula, fragment):
    with pytest.raises(CompositionError) as info:
        parse_composition(formula)
    message = str(info.value)
    assert fragment in message
    assert repr(formula)[:20] in message or formula[:20] in message


@pytest.mark.parametrize(
    "mapping, fragment",
    [
        ({"Fe": -1.0}, "negative (-1)"),
        ({"Fe": math.nan}, "NaN"),
        ({"Fe": math.inf}, "infinite"),
        ({"Fe": 0.0, "Co": 1.0}, "zero"),
        ({"Qq": 1.0}, "unknown element 'Qq'"),
        ({"Fe": "a lot"}, "not a number: 'a lot'"),
        ({}, "empty composition"),
    ],
)
def test_invalid_mappings(mapping, fragment):
    with pytest.raises(CompositionError, match=None) as info:
        parse_composition(mapping)
    assert fragment in str(info.value)


def test_error_is_a_value_error_subclass():
    assert issubclass(CompositionError, MagnetscreenError)
    assert issubclass(CompositionError, ValueError)


def test_wrong_type():
    with pytest.raises(CompositionError, match="expected a formula string"):
        parse_composition(42)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("FeNdBCoOSmx()[]0123456789. -+eE\t")), max_size=30))
def test_any_formula_like_string_parses_or_raises_our_error(text):
    try:
        comp = parse_composition(text)
    except CompositionError:
        return
    # whatever we accept, pymatgen reads to the same amounts
    reference = Composition(text)
    assert {str(k): v for k, v in comp.items()} == pytest.approx({str(k): v for k, v in reference.items()})
    assert all(v > 0 for v in comp.values())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_string_parses_or_raises_our_error(text):
    try:
        parse_composition(text)
    except CompositionError:
        pass


def test_parsing_equals_pymatgen_on_valid_formulas():
    """Our recursive descent reads the same amounts as pymatgen wherever both accept a formula."""
    for formula in ["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Sm[Co0.8Cu0.2]5", "((Fe)2Co)3", "Sr0.9La0.1Fe12O19",
                    "Fe.5Co.5", "Nd2 Fe14 B1", "(Sm(Co0.7Fe0.3)5)2Zr0.1"]:
        ours = {str(k): v for k, v in parse_composition(formula).items()}
        theirs = {str(k): v for k, v in Composition(formula).items()}
        assert ours == pytest.approx(theirs), formula
