"""Predictions with uncertainty, turned into magnet performance at an operating temperature.

:func:`score` runs the surrogates (mean, calibrated sigma, domain flag at the 295 K reference) and the
physics layer (:func:`magnetscreen.models.physics.performance`) on a whole batch with numpy and numba;
there is no per-candidate Python loop.

Uncertainty of the derived metrics is propagated from the three intrinsic sigmas by central finite
differences taken one input at a time and added in quadrature,
``sigma_f^2 = sum_i ((f(x + sigma_i e_i) - f(x - sigma_i e_i)) / 2)^2``: a first-order propagation that
treats the three predictions as independent (documented, not exact; a metric that is clipped at 0 near Tc
or for easy-plane K1 gets the one-sided difference that the clipping implies).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.descriptors.featurize import featurize
from magnetscreen.models.physics import SINTERED, ProcessingRoute, grade_of, performance, reduced_pair
from magnetscreen.models.surrogates import REFERENCE_TEMPERATURE_K, TARGETS, SurrogateSet, load_surrogates
from magnetscreen.models.temperature_laws import law_for

__all__ = ["Conditions", "score", "derive", "DERIVED", "DEFAULT_KUZMIN_S", "TEMPERATURE_LAWS"]

#: Kuz'min shape parameter used when the caller gives none. It is a stated modelling choice inside
#: Kuz'min's range 0 < s < 5/2, not a measured value of any material: set it per run.
DEFAULT_KUZMIN_S = 0.5

#: Derived metrics at the operating temperature (each with a ``_sigma`` column), name -> key of
#: :func:`magnetscreen.models.physics.performance`.
DERIVED = {
    "Js_op_T": "Js_T",
    "K1_op_MJm3": "K1_MJm3",
    "muHA_T": "muHA_T",
    "kappa": "kappa",
    "muHc_T": "muHc_T",
    "Br_T": "Br_T",
    "BHmax_kJm3": "BHmax_kJm3",
    "BHmax_bound_kJm3": "BHmax_bound_kJm3",
}


#: How Js and K1 are scaled with temperature: each built-in family's fitted law (the run's values where a family
#: has none), or the run's values for every family.
TEMPERATURE_LAWS = ("family", "uniform")


@dataclass(frozen=True)
class Conditions:
    """Operating conditions and physics parameters of a scoring.

    ``kuzmin_s`` and ``k1_exponent`` apply to every candidate when ``temperature_law`` is "uniform", and to the
    families without a fitted law when it is "family" (see :mod:`magnetscreen.models.temperature_laws` and
    :meth:`for_family`).
    """

    temperature_K: float = 423.15
    route: ProcessingRoute = SINTERED
    kuzmin_s: float = DEFAULT_KUZMIN_S
    k1_exponent: float = 3.0
    temperature_law: str = "family"

    def __post_init__(self):
        if not (np.isfinite(self.temperature_K) and self.temperature_K > 0):
            raise ValueError(f"operating temperature must be a positive number of kelvin, got {self.temperature_K!r}")
        if not 0 < self.kuzmin_s < 2.5:
            raise ValueError(f"Kuz'min s must satisfy 0 < s < 5/2, got {self.kuzmin_s!r}")
        if self.temperature_law not in TEMPERATURE_LAWS:
            raise ValueError(f"temperature_law must be one of {', '.join(TEMPERATURE_LAWS)}, got "
                             f"{self.temperature_law!r}")

    def for_family(self, family: str | None) -> Conditions:
        """The conditions of a family's candidates: its fitted temperature law under "family"."""
        if self.temperature_law == "uniform" or family is None:
            return self
        s, n, _ = law_for(family, self.kuzmin_s, self.k1_exponent)
        return replace(self, kuzmin_s=s, k1_exponent=n, temperature_law="uniform")


def _physics(js, k1, tc, conditions: Conditions, T_K: float, reduced=None, with_branch: bool = False) -> dict:
    return performance(js, k1, tc, REFERENCE_TEMPERATURE_K, T_K, conditions.kuzmin_s, conditions.route,
                       conditions.k1_exponent, reduced, with_branch)


def derive(pred: dict[str, np.ndarray], conditions: Conditions = Conditions()) -> dict[str, np.ndarray]:
    """Magnet performance at ``conditions.temperature_K`` from the surrogates' predictions.

    Parameters
    ----------
    pred : dict of ndarray, shape (n,)
        What :meth:`SurrogateSet.predict_descriptors` returns (``Js_T``, ``K1_MJm3``, ``Tc_K`` with their
        ``_sigma`` and ``in_domain``).
    conditions : Conditions

    Returns
    -------
    dict of ndarray, shape (n,)
        The intrinsic predictions and ``in_domain`` as given; the :data:`DERIVED` metrics at the operating
        temperature with ``_sigma``; ``BHmax_branch`` (str); ``muHc_room_T`` and ``grade`` (the
        sintered-NdFeB grade met by mu0 Hc at 295 K, "" if none).
    """
    n = len(pred[TARGETS[0]])
    out = {k: pred[k] for k in (*TARGETS, *(f"{t}_sigma" for t in TARGETS), "in_domain")}
    out.update({k: pred[k] for k in ("prototype", "domain_note") if k in pred})
    means = [np.nan_to_num(pred[t], nan=0.0) for t in TARGETS]
    sigmas = [np.nan_to_num(pred[f"{t}_sigma"], nan=0.0) for t in TARGETS]
    T = conditions.temperature_K
    # m(T_ref) and m(T) depend on Tc alone: computed once for the central Tc and once for each Tc perturbation
    # (a clipped Tc gives the same m, as kuzmin_m reads Tc only through Tc > 0 and T / Tc)
    s_law = conditions.kuzmin_s
    tc_index = TARGETS.index("Tc_K")
    reduced = reduced_pair(REFERENCE_TEMPERATURE_K, T, means[tc_index], s_law)
    central = _physics(means[0], means[1], means[2], conditions, T, reduced, with_branch=True)
    for name, key in DERIVED.items():
        out[name] = central[key]
    out["BHmax_branch"] = central["BHmax_branch"]
    variance = {name: np.zeros(n) for name in DERIVED}
    for i in range(len(TARGETS)):
        up = [m + (s if j == i else 0.0) for j, (m, s) in enumerate(zip(means, sigmas))]
        down = [m - (s if j == i else 0.0) for j, (m, s) in enumerate(zip(means, sigmas))]
        clipped = [np.clip(d, 0.0, None) if j != 1 else d for j, d in enumerate(down)]
        up_reduced = reduced_pair(REFERENCE_TEMPERATURE_K, T, up[tc_index], s_law) if i == tc_index else reduced
        down_reduced = reduced_pair(REFERENCE_TEMPERATURE_K, T, clipped[tc_index], s_law) if i == tc_index else reduced
        hi = _physics(up[0], up[1], up[2], conditions, T, up_reduced)
        lo = _physics(clipped[0], clipped[1], clipped[2], conditions, T, down_reduced)
        for name, key in DERIVED.items():
            variance[name] += ((hi[key] - lo[key]) / 2.0) ** 2
    for name in DERIVED:
        out[f"{name}_sigma"] = np.sqrt(variance[name])
    room = _physics(means[0], means[1], means[2], conditions, REFERENCE_TEMPERATURE_K, (reduced[0], reduced[0]))
    out["muHc_room_T"] = room["muHc_T"]
    out["grade"] = grade_of(room["muHc_T"])
    bad = ~np.isfinite(pred[TARGETS[0]]) | ~np.isfinite(pred[TARGETS[1]]) | ~np.isfinite(pred[TARGETS[2]])
    if bad.any():
        for name in DERIVED:
            out[name][bad] = np.nan
            out[f"{name}_sigma"][bad] = np.nan
    return out


def score(compositions, models: SurrogateSet | None = None, conditions: Conditions = Conditions(),
          descriptors: np.ndarray | None = None, family: str | None = None) -> dict[str, np.ndarray]:
    """Predict intrinsic properties and derive performance at ``conditions.temperature_K``.

    Parameters
    ----------
    compositions : CompositionBatch or iterable of formulas
    models : SurrogateSet, optional
        Default the shipped models.
    conditions : Conditions
    descriptors : ndarray of float64, shape (n, n_descriptors), optional
        Precomputed descriptors of ``compositions``.
    family : str, optional
        A built-in family name: its temperature law applies (:meth:`Conditions.for_family`); without one
        the conditions' ``kuzmin_s`` and ``k1_exponent`` apply.

    Returns
    -------
    dict of ndarray, shape (n,)
        See :func:`derive`.
    """
    models = models if models is not None else load_surrogates()
    batch = compositions if isinstance(compositions, CompositionBatch) else encode(compositions)
    if descriptors is None:
        descriptors, _ = featurize(batch)
    return derive(models.predict_descriptors(descriptors, batch), conditions.for_family(family))
