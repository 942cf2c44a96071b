"""Composition parsing for the descriptor room.

The implementation lives in :mod:`magnetscreen.datasets.composition` because the data tables (the
lowest room) validate their formulas with the same rules; it is re-exported here, where the public
composition API belongs.
"""

from magnetscreen.datasets.composition import (
    MAX_ATOMS,
    MAX_ELEMENTS,
    MIN_FRACTION,
    CompositionLike,
    parse_composition,
)

__all__ = ["CompositionLike", "parse_composition", "MAX_ELEMENTS", "MAX_ATOMS", "MIN_FRACTION"]
