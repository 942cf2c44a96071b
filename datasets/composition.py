"""Parse and validate user compositions.

A composition arrives as a formula string (``"Nd2Fe14B"``, ``"(Nd0.8Dy0.2)2Fe14B"``) or as an
``{element: amount}`` mapping, and leaves as a pymatgen :class:`~pymatgen.core.Composition`, or as a
:class:`~magnetscreen.datasets.errors.CompositionError` that names the formula and the offending
token or value. Nothing is silently "fixed": a negative, NaN or zero amount, an unknown symbol, an
empty formula or an absurd size is an error.

Formula grammar accepted (checked here before pymatgen parses, because pymatgen accepts things we
do not, such as isotopes ``D``, dummy species ``Xx`` or a stray trailing number):

- element symbols of Z = 1..103 with optional amounts (``Fe14``, ``Fe0.5``, ``Fe.5``),
- groups in ``()`` or ``[]`` with optional amounts (``(Nd0.8Dy0.2)2``), nested,
- spaces between tokens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Union

from pymatgen.core import Composition

from magnetscreen.datasets.elements import symbol_to_z
from magnetscreen.datasets.errors import CompositionError

__all__ = ["CompositionLike", "parse_composition", "MAX_ELEMENTS", "MAX_ATOMS", "MIN_FRACTION"]

CompositionLike = Union[str, Mapping[str, float], Composition]

#: Most distinct elements a composition may have.
MAX_ELEMENTS = 16
#: Largest total number of atoms per formula unit accepted (larger is an absurd size).
MAX_ATOMS = 1.0e4
#: Smallest atomic fraction accepted: below it an element cannot be named at the canonical precision.
MIN_FRACTION = 1.0e-6
#: Longest formula string accepted.
MAX_FORMULA_LENGTH = 500

_TOKEN = re.compile(
    r"\s*(?:(?P<element>[A-Z][a-z]{0,2})|(?P<number>\d+\.?\d*|\.\d+)|(?P<open>[(\[])|(?P<close>[)\]]))"
)


def _check_grammar(formula: str) -> None:
    """Raise CompositionError unless ``formula`` follows the accepted grammar."""
    known = symbol_to_z()
    pos = 0
    depth = 0
    previous = None  # kind of the previous token
    n_elements = 0
    stripped = formula.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None or match.end() == pos:
            bad = stripped[pos:].lstrip()[:10]
            raise CompositionError(f"{formula!r}: unexpected text {bad!r} at position {pos}")
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "element":
            if text not in known:
                raise CompositionError(f"{formula!r}: unknown element {text!r}")
            n_elements += 1
        elif kind == "number":
            if previous not in ("element", "close"):
                raise CompositionError(
                    f"{formula!r}: amount {text!r} at position {pos} does not follow an element or a group"
                )
            if float(text) == 0.0:
                raise CompositionError(f"{formula!r}: zero amount {text!r} at position {pos} (leave the element out)")
        elif kind == "open":
            depth += 1
        else:
            if depth == 0:
                raise CompositionError(f"{formula!r}: unmatched {text!r} at position {pos}")
            if previous == "open":
                raise CompositionError(f"{formula!r}: empty group at position {pos}")
            depth -= 1
        previous = kind
        pos = match.end()
    if depth:
        raise CompositionError(f"{formula!r}: {depth} unclosed bracket(s)")
    if n_elements == 0:
        raise CompositionError(f"{formula!r}: empty formula (no element symbol)")


def _check_amounts(label: str, amounts: Mapping[str, float]) -> dict[str, float]:
    known = symbol_to_z()
    clean: dict[str, float] = {}
    for element, amount in amounts.items():
        symbol = str(element)
        if symbol not in known:
            raise CompositionError(f"{label}: unknown element {symbol!r}")
        try:
            value = float(amount)
        except (TypeError, ValueError) as exc:
            raise CompositionError(f"{label}: amount of {symbol} is not a number: {amount!r}") from exc
        if math.isnan(value):
            raise CompositionError(f"{label}: amount of {symbol} is NaN")
        if math.isinf(value):
            raise CompositionError(f"{label}: amount of {symbol} is infinite ({value})")
        if value < 0:
            raise CompositionError(f"{label}: amount of {symbol} is negative ({value:g})")
        if value == 0:
            raise CompositionError(f"{label}: amount of {symbol} is zero (leave the element out)")
        clean[symbol] = clean.get(symbol, 0.0) + value
    if not clean:
        raise CompositionError(f"{label}: empty composition (no element)")
    if len(clean) > MAX_ELEMENTS:
        raise CompositionError(f"{label}: {len(clean)} distinct elements, more than the maximum {MAX_ELEMENTS}")
    total = sum(clean.values())
    if total > MAX_ATOMS:
        raise CompositionError(
            f"{label}: {total:g} atoms per formula unit, more than the maximum {MAX_ATOMS:g} (absurd size)"
        )
    for symbol, value in clean.items():
        if value / total < MIN_FRACTION:
            raise CompositionError(
                f"{label}: atomic fraction of {symbol} is {value / total:.3g}, below the smallest "
                f"representable fraction {MIN_FRACTION:g}"
            )
    return clean


def parse_composition(value: CompositionLike) -> Composition:
    """Parse and validate one composition.

    Parameters
    ----------
    value : str, mapping of str to float, or pymatgen Composition
        A formula such as ``"Nd2Fe14B"`` or ``"(Nd0.8Dy0.2)2Fe14B"``, or ``{"Nd": 2, "Fe": 14, "B": 1}``.

    Returns
    -------
    pymatgen.core.Composition
        The composition with the amounts as written (not normalised).

    Raises
    ------
    CompositionError
        If the formula does not parse, names an unknown element, has a negative, zero, NaN or infinite
        amount, is empty, or is of absurd size. The message names the formula and the offending token.

    Examples
    --------
    >>> parse_composition("Fe14Nd2B").formula
    'Nd2 Fe14 B1'
    """
    if isinstance(value, Composition):
        label = repr(value.formula)
        amounts = {str(el): amt for el, amt in value.items()}
    elif isinstance(value, str):
        label = repr(value)
        if len(value) > MAX_FORMULA_LENGTH:
            raise CompositionError(
                f"{value[:40]!r}...: formula of {len(value)} characters is longer than {MAX_FORMULA_LENGTH}"
            )
        _check_grammar(value)
        try:
            parsed = Composition(value)
        except (ValueError, KeyError, IndexError, TypeError, ArithmeticError, RecursionError) as exc:
            raise CompositionError(f"{label}: cannot be parsed as a formula ({exc})") from exc
        amounts = {str(el): amt for el, amt in parsed.items()}
    elif isinstance(value, Mapping):
        label = repr(dict(value))
        amounts = dict(value)
    else:
        raise CompositionError(
            f"{value!r}: expected a formula string or an {{element: amount}} mapping, got {type(value).__name__}"
        )
    clean = _check_amounts(label, amounts)
    return Composition(clean)
