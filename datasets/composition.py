"""Parse and validate user compositions.

A composition arrives as a formula string (``"Nd2Fe14B"``, ``"(Nd0.8Dy0.2)2Fe14B"``) or as an
``{element: amount}`` mapping, and leaves as a pymatgen :class:`~pymatgen.core.Composition`, or as a
:class:`~magnetscreen.datasets.errors.CompositionError` that names the formula and the offending
token or value. Nothing is silently "fixed": a negative, NaN or zero amount, an unknown symbol, an
empty formula or an absurd size is an error.

Formula grammar accepted (read here by recursive descent, then cross-checked against pymatgen's parser,
because pymatgen accepts things we do not, such as isotopes ``D``, dummy species ``Xx``, a stray trailing
number, or an amount so small that it silently drops it):

- only ASCII letters, the ASCII digits 0-9, ``.``, brackets and the plain space (no tab, line break,
  non-breaking space, control character or non-ASCII digit: each is an error naming it);
- element symbols of Z = 1..103 with optional amounts (``Fe14``, ``Fe0.5``, ``Fe.5``);
- groups in ``()`` or ``[]`` with optional amounts (``(Nd0.8Dy0.2)2``), nested up to :data:`MAX_DEPTH`;
- spaces between tokens.

Words that tables use for a missing value (``NaN``, ``None``, ``null``, ``N/A``, ...) are refused even where
they spell elements (``NaN`` would be Na + N).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping

from pymatgen.core import Composition

from magnetscreen.datasets.elements import symbol_to_z
from magnetscreen.datasets.errors import CompositionError

__all__ = ["CompositionLike", "parse_composition", "MAX_ELEMENTS", "MAX_ATOMS", "MIN_FRACTION"]

CompositionLike = str | Mapping[str, float] | Composition

#: Most distinct elements a composition may have.
MAX_ELEMENTS = 16
#: Largest total number of atoms per formula unit accepted (larger is an absurd size).
MAX_ATOMS = 1.0e4
#: Smallest atomic fraction accepted: below it an element cannot be named at the canonical precision.
MIN_FRACTION = 1.0e-6
#: Longest formula string accepted.
MAX_FORMULA_LENGTH = 500

_TOKEN = re.compile(
    r" *(?:(?P<element>[A-Z][a-z]{0,2})|(?P<number>[0-9]+\.?[0-9]*|\.[0-9]+)|(?P<open>[(\[])|(?P<close>[)\]]))"
)
#: Words that read as a missing value in a table, refused as formulas (case-insensitive).
MISSING_WORDS = frozenset({"nan", "none", "null", "nil", "inf", "infinity", "true", "false"})


def _describe_char(char: str) -> tuple[str, str]:
    """What a character is, and how to fix a formula that contains it."""
    code = f"U+{ord(char):04X}"
    if char in "\n\r":
        return f"a line break ({code})", "one formula per cell or line"
    if char == "\t":
        return f"a tab ({code})", "use a plain space"
    if char.isspace():
        name = unicodedata.name(char, "").lower() or "a space character"
        return f"{name} ({code})", "use a plain space"
    if unicodedata.category(char).startswith("C"):
        return f"the control or invisible character {code}", "remove it"
    if unicodedata.category(char) == "Nd":
        return f"the non-ASCII digit {char!r} ({unicodedata.name(char, code).lower()})", "write the digits 0-9"
    return f"the non-ASCII character {char!r} ({code})", "write the formula in ASCII"


def _check_characters(formula: str) -> None:
    for pos, char in enumerate(formula):
        if not (" " <= char <= "~"):
            what, fix = _describe_char(char)
            raise CompositionError(f"{formula!r}: {what} at position {pos} is not allowed in a formula ({fix})")


#: Deepest bracket nesting accepted.
MAX_DEPTH = 16


def _tokens(formula: str) -> list[tuple[str, str, int]]:
    """(kind, text, position) of every token; CompositionError at the first text the grammar does not allow."""
    out = []
    pos = 0
    stripped = formula.rstrip(" ")
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None or match.end() == pos:
            bad = stripped[pos:].lstrip(" ")[:10]
            raise CompositionError(f"{formula!r}: unexpected text {bad!r} at position {pos}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out


def _evaluate(formula: str) -> dict[str, float]:
    """Amounts of every element of a formula, by recursive descent over the grammar of the module docstring."""
    known = symbol_to_z()
    tokens = _tokens(formula)
    i = 0

    def number() -> float:
        nonlocal i
        if i < len(tokens) and tokens[i][0] == "number":
            _, text, pos = tokens[i]
            i += 1
            value = float(text)
            if value == 0.0:
                raise CompositionError(f"{formula!r}: zero amount {text!r} at position {pos} (leave the element out)")
            return value
        return 1.0

    def sequence(depth: int) -> dict[str, float]:
        nonlocal i
        amounts: dict[str, float] = {}
        start = i
        while i < len(tokens):
            kind, text, pos = tokens[i]
            if kind == "element":
                if text not in known:
                    raise CompositionError(f"{formula!r}: unknown element {text!r}")
                i += 1
                amounts[text] = amounts.get(text, 0.0) + number()
            elif kind == "open":
                if depth >= MAX_DEPTH:
                    raise CompositionError(f"{formula!r}: brackets nested deeper than {MAX_DEPTH} at position {pos}")
                i += 1
                inner = sequence(depth + 1)
                if i >= len(tokens):
                    raise CompositionError(f"{formula!r}: unclosed bracket(s)")
                i += 1  # the closing bracket
                factor = number()
                for k, v in inner.items():
                    amounts[k] = amounts.get(k, 0.0) + v * factor
            elif kind == "close":
                if depth == 0:
                    raise CompositionError(f"{formula!r}: unmatched {text!r} at position {pos}")
                if i == start:
                    raise CompositionError(f"{formula!r}: empty group at position {pos}")
                return amounts
            else:
                raise CompositionError(
                    f"{formula!r}: amount {text!r} at position {pos} does not follow an element or a group")
        return amounts

    amounts = sequence(0)
    if not amounts:
        raise CompositionError(f"{formula!r}: empty formula (no element symbol)")
    return amounts


def _same_as_pymatgen(formula: str, amounts: dict[str, float]) -> None:
    """Cross-check our reading against pymatgen's parser; a difference (say, an amount pymatgen drops as
    negligible) is an error rather than a silent change."""
    try:
        parsed = Composition(formula)
    except (ValueError, KeyError, IndexError, TypeError, ArithmeticError, RecursionError) as exc:
        raise CompositionError(f"{formula!r}: cannot be parsed as a formula ({exc})") from exc
    theirs = {str(el): float(amt) for el, amt in parsed.items()}
    for element, amount in amounts.items():
        if element not in theirs:
            total = sum(amounts.values())
            raise CompositionError(
                f"{formula!r}: amount of {element} is {amount:g} (atomic fraction {amount / total:.3g}), below the "
                f"smallest representable fraction {MIN_FRACTION:g}; leave the element out or give it a larger amount")
        if not math.isclose(theirs[element], amount, rel_tol=1e-9, abs_tol=0.0):
            raise CompositionError(f"{formula!r}: amount of {element} reads as {amount:g} here and "
                                   f"{theirs[element]:g} in pymatgen; write the formula without ambiguity")


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
        value = str(value)  # a numpy string reads the same, and names itself plainly in messages
        label = repr(value)
        if len(value) > MAX_FORMULA_LENGTH:
            raise CompositionError(
                f"{value[:40]!r}...: formula of {len(value)} characters is longer than {MAX_FORMULA_LENGTH}"
            )
        if value.strip().lower() in MISSING_WORDS:
            raise CompositionError(f"{value!r}: reads as a missing value, not a formula (write e.g. 'Na1N1' if a "
                                   "compound of those elements is meant)")
        _check_characters(value)
        amounts = _evaluate(value)
        total = sum(amounts.values())
        if all(amount / total >= MIN_FRACTION for amount in amounts.values()):
            _same_as_pymatgen(value, amounts)  # a fraction below the limit is reported by _check_amounts below
    elif isinstance(value, Mapping):
        label = repr(dict(value))
        amounts = dict(value)
    else:
        raise CompositionError(
            f"{value!r}: expected a formula string or an {{element: amount}} mapping, got {type(value).__name__}"
        )
    clean = _check_amounts(label, amounts)
    return Composition(clean)
