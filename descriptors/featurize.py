"""Composition descriptors: numba batch featurization of encoded compositions.

:func:`featurize` turns formulas or a :class:`~magnetscreen.descriptors.encoding.CompositionBatch` into
``(matrix, feature_names)``; :class:`CompositionFeaturizer` wraps it as a scikit-learn transformer.

Features (labels follow one pattern, ``<statistic>_<quantity>``):

- for every property of :data:`DEFAULT_PROPERTIES` (columns of the element table, built from pymatgen):
  ``mean``, ``avg_dev`` (sum f_i |x_i - mean|), ``min``, ``max``, ``range`` and ``mode`` (the value of
  the element with the largest atomic fraction; ties go to the smallest value, as in matminer);
- stoichiometric p-norms ``pnorm_p`` = (sum f_i^p)^(1/p) for p = 2, 3, 5, 7, 10, and ``pnorm_0`` =
  number of elements;
- magnet descriptors: atomic fractions of element classes ``frac_3d`` (Sc..Zn), ``frac_FeCo``,
  ``frac_RE`` (rare earths: Sc, Y, La..Lu), ``frac_LRE`` (La..Eu), ``frac_HRE`` (Gd..Lu and Y),
  ``frac_BCN`` (B, C, N interstitials and metalloids); ``share_RE`` = frac_RE / (frac_RE + frac_3d),
  the rare-earth to transition-metal balance (0 when both are absent); ``sum_3d_electrons`` = 3d valence
  electrons per atom, and ``electrons_3d`` = the same per 3d atom (0 without 3d atoms);
  ``unpaired_3d`` = unpaired 3d electrons per atom (free-atom Hund's rule); ``f4_R3`` = 4f electrons of
  the R3+ ions per atom; ``degennes_RE`` = sum over rare earths of f_i (g_J - 1)^2 J(J+1), the de Gennes
  scaling of the R-T exchange; ``stevens_RE`` = sum f_i alpha_J J(2J - 1), the rare-earth single-ion
  anisotropy strength with its sign (K1 of the R sublattice is proportional to -alpha_J <r^2> J(2J-1) A20);
  ``spin_RE`` = sum f_i (g_J - 1) J, the spin projection that couples to the 3d moments (negative for the
  light rare earths, whose moments add to Fe's, positive for the heavy ones, whose moments oppose it);
  ``moment_RE`` = sum f_i g_J J; ``frac_NCH`` = atomic fraction of the interstitials N, C, H.

Missing values: a statistic of a property that some element present lacks is NaN (see
:mod:`magnetscreen.datasets.element_table`); nothing is filled in. Elements of the built-in families
have every default property.

References
----------
L. Ward, A. Agrawal, A. Choudhary, C. Wolverton, "A general-purpose machine learning framework for
predicting properties of inorganic materials", npj Comput. Mater. 2, 16028 (2016) (the Magpie
statistics this follows). P. G. de Gennes, J. Phys. Radium 23, 510 (1962). J. F. Herbst, Rev. Mod. Phys.
63, 819 (1991) (single-ion anisotropy of the rare-earth sublattice).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from magnetscreen.datasets.element_table import ELEMENT_COLUMNS, load_element_table
from magnetscreen.datasets.elements import N_Z, symbol_to_z
from magnetscreen.descriptors import featurize_kernels as _k
from magnetscreen.descriptors.encoding import CompositionBatch, encode

__all__ = [
    "DEFAULT_PROPERTIES",
    "PNORM_ORDERS",
    "MAGNET_FEATURES",
    "STATS",
    "featurize",
    "feature_names",
    "property_table",
    "CompositionFeaturizer",
]

STATS = _k.STATS
DEFAULT_PROPERTIES = (
    "Z", "mendeleev_no", "atomic_mass_u", "group", "row", "X_pauling", "atomic_radius_A", "melting_point_K",
    "molar_volume_cm3mol", "first_ionization_eV", "n_s_valence", "n_p_valence", "n_d_valence", "n_f_valence",
    "n_valence", "n_s_unfilled", "n_p_unfilled", "n_d_unfilled", "n_f_unfilled", "n_unfilled", "n_unpaired_d",
    "n_unpaired_f",
)
PNORM_ORDERS = (0.0, 2.0, 3.0, 5.0, 7.0, 10.0)
MAGNET_FEATURES = (
    "frac_3d", "frac_FeCo", "frac_RE", "frac_LRE", "frac_HRE", "frac_BCN", "sum_3d_electrons", "unpaired_3d",
    "f4_R3", "degennes_RE", "stevens_RE", "spin_RE", "moment_RE", "frac_NCH", "share_RE", "electrons_3d",
)
#: Class sums of MAGNET_FEATURES (the rest are ratios computed in the kernel).
_N_CLASSES = 14

_3D = range(21, 31)
_LANTHANIDES = range(57, 72)


def _z(symbols: Sequence[str]) -> list[int]:
    table = symbol_to_z()
    return [table[s] for s in symbols]


@cache
def property_table(properties: tuple[str, ...] = DEFAULT_PROPERTIES) -> np.ndarray:
    """float64 array (N_Z, P): row Z holds the properties of element Z (row 0 is padding, NaN)."""
    unknown = [p for p in properties if p not in ELEMENT_COLUMNS or p == "symbol"]
    if unknown:
        raise ValueError(f"unknown element propert{'y' if len(unknown) == 1 else 'ies'} {unknown} "
                         f"(available: {[c for c in ELEMENT_COLUMNS if c != 'symbol']})")
    elements = load_element_table()
    out = np.full((N_Z, len(properties)), np.nan)
    out[1:] = elements[list(properties)].to_numpy(dtype=np.float64)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def _class_weights() -> np.ndarray:
    """(N_Z, 14) weights, one column per class sum of :data:`MAGNET_FEATURES` (the first fourteen)."""
    elements = load_element_table()
    w = np.zeros((N_Z, _N_CLASSES))
    w[list(_3D), 0] = 1.0
    w[_z(["Fe", "Co"]), 1] = 1.0
    rare_earths = [21, 39, *_LANTHANIDES]
    w[rare_earths, 2] = 1.0
    w[_z(["La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu"]), 3] = 1.0
    w[_z(["Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y"]), 4] = 1.0
    w[_z(["B", "C", "N"]), 5] = 1.0
    d = elements["n_d_valence"].to_numpy()
    unpaired = elements["n_unpaired_d"].to_numpy()
    f4 = np.nan_to_num(elements["n_4f_R3"].to_numpy(), nan=0.0)  # defined for La..Lu only
    dg = np.nan_to_num(elements["de_gennes_R3"].to_numpy(), nan=0.0)
    for z in _3D:
        w[z, 6] = d[z - 1]
        w[z, 7] = unpaired[z - 1]
    w[1:, 8] = f4
    w[1:, 9] = dg
    # rare-earth single-ion terms (0 outside La..Lu and for ions without J): anisotropy strength with its sign,
    # spin projection (g_J - 1) J (negative for light R: parallel to Fe; positive for heavy R: antiparallel)
    # and moment g_J J
    J = np.nan_to_num(elements["J_R3"].to_numpy(), nan=0.0)
    g = np.nan_to_num(elements["gJ_R3"].to_numpy(), nan=0.0)
    w[1:, 10] = np.nan_to_num(elements["stevens_R3"].to_numpy(), nan=0.0)
    w[1:, 11] = np.where(J > 0, (g - 1.0) * J, 0.0)
    w[1:, 12] = g * J
    w[_z(["N", "C", "H"]), 13] = 1.0
    w.setflags(write=False)
    return w


def feature_names(properties: Sequence[str] = DEFAULT_PROPERTIES) -> list[str]:
    """Names of the columns :func:`featurize` returns, in order."""
    names = [f"{stat}_{prop}" for prop in properties for stat in STATS]
    names += [f"pnorm_{int(p)}" for p in PNORM_ORDERS]
    names += list(MAGNET_FEATURES)
    return names


def featurize(compositions, properties: Sequence[str] = DEFAULT_PROPERTIES,
              out: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Descriptor matrix of compositions.

    Parameters
    ----------
    compositions : CompositionBatch or iterable of formulas / ``{element: amount}`` mappings
    properties : sequence of str, default=DEFAULT_PROPERTIES
        Element-table columns whose statistics are computed.
    out : ndarray of float64, shape (n, n_features), optional
        Preallocated C-contiguous output (reused across chunks to avoid allocations).

    Returns
    -------
    matrix : ndarray of float64, shape (n, n_features)
    feature_names : list of str, length n_features

    Examples
    --------
    >>> X, names = featurize(["Nd2Fe14B"])
    >>> float(X[0, names.index("frac_FeCo")]) == 14 / 17
    True
    """
    batch = compositions if isinstance(compositions, CompositionBatch) else encode(compositions)
    props = tuple(properties)
    table = property_table(props)
    weights = _class_weights()
    n_raw = 6 * len(props) + len(PNORM_ORDERS) + weights.shape[1] + 2
    if out is None:
        raw = np.empty((len(batch), n_raw), dtype=np.float64)
    else:
        raw = out
        if raw.shape != (len(batch), n_raw) or raw.dtype != np.float64 or not raw.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float64 array of shape {(len(batch), n_raw)}, "
                             f"got {raw.dtype} {raw.shape}")
    _k.featurize_kernel(batch.elements, batch.fractions, table, np.array(PNORM_ORDERS), weights, raw)
    return raw, feature_names(props)


class CompositionFeaturizer(TransformerMixin, BaseEstimator):
    """scikit-learn transformer from formulas to the magnetscreen descriptors.

    Parameters
    ----------
    properties : tuple of str or None, default=None
        Element-table columns to describe; None means :data:`DEFAULT_PROPERTIES`.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
    n_features_out_ : int

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import Ridge
    >>> model = make_pipeline(CompositionFeaturizer(), Ridge()).fit(["SmCo5", "Nd2Fe14B", "FeNi"], [1.0, 2.0, 3.0])
    """

    def __init__(self, properties: tuple[str, ...] | None = None):
        self.properties = properties

    def _props(self) -> tuple[str, ...]:
        return DEFAULT_PROPERTIES if self.properties is None else tuple(self.properties)

    def fit(self, X, y=None):
        property_table(self._props())  # validates the property names
        names = feature_names(self._props())
        self.feature_names_out_ = np.array(names, dtype=object)
        self.n_features_out_ = len(names)
        return self

    def transform(self, X) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "feature_names_out_")
        formulas = _as_formulas(X)
        return featurize(formulas, self._props())[0]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_


def _as_formulas(X) -> list | CompositionBatch:
    if isinstance(X, CompositionBatch):
        return X
    if isinstance(X, str):
        raise ValueError(f"expected a sequence of formulas, got the single string {X!r}")
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of formulas (or one column), got shape {array.shape}")
    return array.tolist()
