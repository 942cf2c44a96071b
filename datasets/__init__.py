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
from magnetscreen.datasets.tables import load_curie, load_elements, load_intrinsic, load_table, table_names
from magnetscreen.datasets.user_data import load_user_dataset

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
    "load_curie",
    "load_elements",
    "load_family",
    "load_intrinsic",
    "load_table",
    "load_user_dataset",
    "parse_family",
    "table_names",
]
