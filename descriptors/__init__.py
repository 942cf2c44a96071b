"""Compositions to arrays: parsing, encoding, canonical names and candidate enumeration."""

from magnetscreen.datasets.errors import CompositionError
from magnetscreen.descriptors.composition import parse_composition
from magnetscreen.descriptors.encoding import (
    CompositionBatch,
    batch_from_arrays,
    canonical_formula,
    canonical_formulas,
    decode,
    encode,
)
from magnetscreen.descriptors.featurize import CompositionFeaturizer, feature_names, featurize
from magnetscreen.descriptors.hree import hree_intensity

__all__ = [
    "CompositionError",
    "CompositionBatch",
    "CompositionFeaturizer",
    "feature_names",
    "featurize",
    "hree_intensity",
    "batch_from_arrays",
    "canonical_formula",
    "canonical_formulas",
    "decode",
    "encode",
    "parse_composition",
]
