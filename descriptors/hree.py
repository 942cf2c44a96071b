"""Heavy-rare-earth intensity of encoded compositions.

``hree_g_per_kg = 1000 * sum over the elements of a named HREE set of their mass fraction``: grams of
heavy rare earth per kilogram of magnet phase. The sets (``default``: Gd..Lu and Y; ``china-2025-04``;
``china-2025-10``) are data in :mod:`magnetscreen.datasets.hree`.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from magnetscreen.datasets.elements import N_Z, symbol_to_z
from magnetscreen.datasets.hree import hree_set
from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.descriptors.hree_kernels import hree_intensity_kernel

__all__ = ["hree_intensity", "hree_mask"]


@cache
def hree_mask(set_name: str = "default") -> np.ndarray:
    """Boolean array of shape (N_Z,), True for the elements of the named HREE set."""
    mask = np.zeros(N_Z, dtype=np.bool_)
    for symbol in hree_set(set_name).elements:
        mask[symbol_to_z()[symbol]] = True
    mask.setflags(write=False)
    return mask


def hree_intensity(batch: CompositionBatch | list, set_name: str = "default") -> np.ndarray:
    """Heavy-rare-earth intensity in g/kg of every composition.

    Parameters
    ----------
    batch : CompositionBatch or list of formulas
    set_name : str, default="default"
        ``"default"``, ``"china-2025-04"`` or ``"china-2025-10"``.

    Returns
    -------
    hree_g_per_kg : ndarray of float64, shape (n,)

    Examples
    --------
    >>> float(hree_intensity(["Nd2Fe14B"])[0])
    0.0
    """
    if not isinstance(batch, CompositionBatch):
        batch = encode(batch)
    return hree_intensity_kernel(batch.elements, batch.mass_fractions, hree_mask(set_name))
