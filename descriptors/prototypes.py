"""Structure prototypes of compositions, from their stoichiometry, and of the built-in families.

Training rows come from compilations that name no structure, so the models group them by the prototype
their stoichiometry fits: what leave-one-family-out validation holds out together, what the domain flag
asks for ("training rows of the same prototype"), and what the end-member priors are looked up by.

Element classes: ``R`` the rare earths with Y, Sc and Th; ``X`` the interstitial and metalloid
non-metals H, B, C, N; ``O`` oxygen; ``M`` every other element (transition metals and the p-block metals
and semimetals that substitute on transition-metal sites: Al, Ga, Si, Ge, ...). With ``r`` the atomic
fraction of R among the non-interstitial atoms (R + M), the rules, first match wins, are:

=================  ============================================================================
prototype          rule (fractions of all atoms unless said otherwise)
=================  ============================================================================
``element``        one element
``hexaferrite``    O 0.594 +/- 0.02 (19/32) and Fe + M-site substituents 0.375 +/- 0.03 (12/32)
``2-14-1``         B + C 1/17 +/- 0.012 and R 2/17 +/- 0.012
``1-5``            no B; r = 1/6 +/- 0.015 (RT5: CaCu5 type)
``2-17``           no B; r = 2/19 +/- 0.012; interstitial N + C + H <= 3/22 (R2T17 with or without X3)
``1-13``           no B; r = 1/14 +/- 0.0035 (NaZn13 type, such as La(Fe,Si)13)
``1-12``           no B; r from 0.0749 to 1/13 + 0.01 (R counting Zr); interstitial N + C + H <= 1/14 (ThMn12 type)
``Fe16N2``         Fe + Co + Mn + Ti 8/9 +/- 0.02 and N + C 1/9 +/- 0.02, no R
``MnBi``           Mn + Bi + Sb >= 0.95, Mn 0.5 +/- 0.1 and Bi + Sb > 0
``MnAl``           Mn + Al + C >= 0.95, Mn 0.40..0.65 and Al > 0
``L10``            (Fe + Co + Mn) and (Ni + Pt + Pd) each 0.5 +/- 0.1, together >= 0.95
``other``          none of the above
=================  ============================================================================

The tolerances are stoichiometry windows of a few hundredths, wide enough for substituted and slightly
off-stoichiometric samples and narrow enough that 1-5, 2-17 and 1-12 (r = 0.167, 0.105, 0.077) never
overlap (1-13, r = 0.071, sits next to 1-12 and nothing else). Labels are a modelling choice, not a
structure determination: a composition that fits the
2-14-1 window is called 2-14-1 whether or not a sample of it had that structure.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from magnetscreen.datasets.elements import N_Z, symbol_to_z
from magnetscreen.descriptors.composition import CompositionLike
from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.descriptors.prototype_kernels import prototype_codes_kernel

__all__ = ["PROTOTYPES", "FAMILY_PROTOTYPE", "prototype_of", "prototype_codes", "family_prototype"]

PROTOTYPES = ("element", "hexaferrite", "2-14-1", "1-5", "2-17", "1-13", "1-12", "Fe16N2", "MnBi", "MnAl", "L10",
              "other")
#: Prototype of each built-in family (Sm2Co17 and the 2-17 interstitials share the Th2Zn17/Th2Ni17 prototype).
FAMILY_PROTOTYPE = {
    "2-14-1": "2-14-1", "SmCo5": "1-5", "Sm2Co17": "2-17", "2-17-interstitial": "2-17", "1-12": "1-12",
    "Fe16N2": "Fe16N2", "MnBi": "MnBi", "MnAl": "MnAl", "L10-FeNi": "L10", "M-hexaferrite": "hexaferrite",
}

_R = ("Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Th")
_X = ("H", "B", "C", "N")


#: Element groups whose atomic fractions the rules read, in the columns of :func:`_group_matrix` (the order the
#: kernel reads them in).
_GROUPS: dict[str, tuple[str, ...]] = {
    "R": _R, "Zr": ("Zr",), "B": ("B",), "C": ("C",), "NCH": ("N", "C", "H"), "O": ("O",), "X": _X,
    "hexa_B": ("Fe", "Co", "Zn", "Ti", "Al", "Ni", "Mn", "Cu", "Ga", "Cr", "Sn", "Zr", "Mg"),
    "Fe16": ("Fe", "Co", "Mn", "Ti"), "NC": ("N", "C"), "Mn": ("Mn",), "BiSb": ("Bi", "Sb"), "Al": ("Al",),
    "A_L10": ("Fe", "Co", "Mn"), "B_L10": ("Ni", "Pt", "Pd"),
}


@lru_cache(maxsize=1)
def _group_matrix() -> np.ndarray:
    """(N_Z, groups) float64: 1 where the element belongs to the group."""
    z = symbol_to_z()
    out = np.zeros((N_Z, len(_GROUPS)))
    for g, symbols in enumerate(_GROUPS.values()):
        out[[z[s] for s in symbols], g] = 1.0
    return out


def family_prototype(family: str) -> str:
    """The prototype of a built-in family name (a user family's name is returned unchanged)."""
    return FAMILY_PROTOTYPE.get(family, family)


def prototype_of(compositions: CompositionBatch | list[CompositionLike]) -> np.ndarray:
    """The prototype label of every composition (see the module docstring for the rules).

    Parameters
    ----------
    compositions : CompositionBatch or list of formulas

    Returns
    -------
    ndarray of str, shape (n,)

    Examples
    --------
    >>> prototype_of(["Nd2Fe14B", "SmCo5", "Sm2Fe17N3", "SmFe11Ti", "SrFe12O19", "MnBi", "Fe16N2", "Fe"]).tolist()
    ['2-14-1', '1-5', '2-17', '1-12', 'hexaferrite', 'MnBi', 'Fe16N2', 'element']
    """
    return np.array(PROTOTYPES)[prototype_codes(compositions)]


def prototype_codes(compositions: CompositionBatch | list[CompositionLike]) -> np.ndarray:
    """The index in :data:`PROTOTYPES` of every composition's prototype (int64, shape (n,)); one numba pass over
    the rows (:func:`~magnetscreen.descriptors.prototype_kernels.prototype_codes_kernel`)."""
    batch = compositions if isinstance(compositions, CompositionBatch) else encode(list(compositions))
    if len(batch) == 0:
        return np.full(0, PROTOTYPES.index("other"), dtype=np.int64)
    return prototype_codes_kernel(batch.elements, batch.fractions, _group_matrix())
