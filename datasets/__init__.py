"""Cited tables, element data, candidate families and named sets: the lowest room of magnetscreen."""

from magnetscreen.datasets.errors import (
    CompositionError,
    ConfigError,
    DataError,
    FamilyError,
    MagnetscreenError,
)
from magnetscreen.datasets.families import (
    CompositionConstraint,
    Family,
    Site,
    Variable,
    builtin_families,
    builtin_family,
    builtin_family_names,
    load_family,
    parse_family,
)
from magnetscreen.datasets.hree import HreeSet, hree_set, hree_set_names, hree_sets

__all__ = [
    "CompositionConstraint",
    "CompositionError",
    "ConfigError",
    "DataError",
    "Family",
    "FamilyError",
    "HreeSet",
    "MagnetscreenError",
    "Site",
    "Variable",
    "builtin_families",
    "builtin_family",
    "builtin_family_names",
    "hree_set",
    "hree_set_names",
    "hree_sets",
    "load_family",
    "parse_family",
]
