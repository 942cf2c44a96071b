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
from magnetscreen.models.physics import MU0, SINTERED, ProcessingRoute, grade_of, k1_power, reduced_pair
from magnetscreen.models.physics_kernels import BRANCHES, METRICS, derive_kernel
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
    out = {k: pred[k] for k in (*TARGETS, *(f"{t}_sigma" for t in TARGETS), "in_domain")}
    out.update({k: pred[k] for k in ("prototype", "domain_note", "domain_note_code", "domain_note_table") if k in pred})
    means = [np.nan_to_num(pred[t], nan=0.0) for t in TARGETS]
    sigmas = [np.nan_to_num(pred[f"{t}_sigma"], nan=0.0) for t in TARGETS]
    T = conditions.temperature_K
    s_law, exponent, route = conditions.kuzmin_s, conditions.k1_exponent, conditions.route
    js, k1, tc = (means[TARGETS.index(t)] for t in ("Js_T", "K1_MJm3", "Tc_K"))
    sigma_tc = sigmas[TARGETS.index("Tc_K")]
    # m(T_ref) and m(T) depend on Tc alone: once for the central Tc and once for each Tc perturbation (the moves
    # of Js and K1 keep the central Tc: tc + 0.0, and max(tc - 0.0, 0), which kuzmin_m reads as tc). The pow and
    # cbrt parts run in numpy, the rest of every evaluation in one kernel pass (the same numbers as performance())
    reduced = reduced_pair(REFERENCE_TEMPERATURE_K, T, tc, s_law)
    up = reduced_pair(REFERENCE_TEMPERATURE_K, T, tc + sigma_tc, s_law)
    down = reduced_pair(REFERENCE_TEMPERATURE_K, T, np.clip(tc - sigma_tc, 0.0, None), s_law)
    power = np.stack([k1_power(pair, exponent) for pair in (reduced, up, down, (reduced[0], reduced[0]))])
    central, sigma, hc_room, branch = derive_kernel(
        np.ascontiguousarray(js), np.ascontiguousarray(k1), np.ascontiguousarray(sigmas[TARGETS.index("Js_T")]),
        np.ascontiguousarray(sigmas[TARGETS.index("K1_MJm3")]), np.stack([*reduced, *up, *down]), power,
        float(route.alpha), float(route.n_eff), float(route.remanence_factor), float(MU0))
    for name, key in DERIVED.items():
        q = METRICS.index(key)
        out[name] = central[q]
        out[f"{name}_sigma"] = sigma[q]
    out["BHmax_branch"] = np.array(BRANCHES)[branch]
    out["muHc_room_T"] = hc_room
    out["grade"] = grade_of(hc_room)
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
