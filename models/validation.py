"""Validation of the shipped protocol on a dataset the models never saw (``magnetscreen validate``).

For a user dataset of measured values (``formula`` plus any of ``Js_T``, ``K1_MJm3``, ``Tc_K``, ``muHA_T``
with ``T_K``, as :func:`magnetscreen.datasets.load_user_dataset` reads it):

1. the test rows of each target are built as training rows are (K1 also from ``muHA_T`` and ``Js_T`` at one
   temperature; Js and K1 rows need ``T_K``);
2. every training row (of any target) within an L1 atomic-fraction distance ``exclude_radius`` of any test
   composition is removed, so that neither the test compositions nor their close neighbours are learned;
3. each target is refitted with the shipped configuration and seed: the learner, the corpus tier rule and
   the routes per prototype named in the shipped model card, with the per-route calibration and the domain
   threshold measured again on grouped folds of the remaining rows (the model selection itself, which takes
   about half an hour for ``Tc_K``, is not repeated: ``magnetscreen train --data`` does that);
4. the test rows are predicted at their own temperature and method context and scored.

Per target: ``n``, ``mae``, ``rmse``, ``r2``, ``coverage_1sigma`` and ``coverage_2sigma`` (share of test
values inside mean +/- 1 and 2 sigma), ``in_domain_share``, ``mae_in_domain``, ``mae_out_of_domain`` and
``removed_training_rows``; a target without test rows is reported with ``n`` = 0.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from magnetscreen.datasets.errors import DataError
from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.descriptors.featurize import featurize
from magnetscreen.descriptors.prototypes import PROTOTYPES, prototype_codes
from magnetscreen.models import surrogate_kernels as _k
from magnetscreen.models.priors import easy_plane_mask
from magnetscreen.models.surrogates import ROUTES, TARGETS, SurrogateSet, load_surrogates, model_matrix
from magnetscreen.models.training import build_domain, fit_calibrated, training_set, user_target_rows

__all__ = ["validate", "test_rows", "FIELDS", "DEFAULT_EXCLUDE_RADIUS"]

DEFAULT_EXCLUDE_RADIUS = 0.02
FIELDS = ("n", "mae", "rmse", "r2", "coverage_1sigma", "coverage_2sigma", "in_domain_share", "mae_in_domain",
          "mae_out_of_domain", "removed_training_rows")


def test_rows(dataset: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows of ``target`` in a user dataset: formula, T_K, is_dft, y (Js and K1 rows without T_K dropped)."""
    return user_target_rows(dataset, target).reset_index(drop=True)


def _min_distance(batch: CompositionBatch, test: CompositionBatch) -> np.ndarray:
    """L1 atomic-fraction distance of every row of ``batch`` to its nearest composition of ``test``."""
    if len(test) == 0:
        return np.full(len(batch), np.inf)
    _, distance = _k.nearest_phase_kernel(batch.elements, batch.fractions, test.elements, test.fractions,
                                          np.zeros(len(test)))
    return distance


def _shipped_configuration(models: SurrogateSet, target: str) -> tuple[str, np.ndarray, str | None]:
    s = models.surrogates[target]
    routes = s.routes if s.routes is not None else np.zeros(len(PROTOTYPES), dtype=np.int64)
    return s.kind, np.asarray(routes, dtype=np.int64), s.card.get("tier_rule")


def _scores(y: np.ndarray, mean: np.ndarray, sigma: np.ndarray, inside: np.ndarray, removed: int) -> dict:
    n = len(y)
    if n == 0:
        return {"n": 0, "mae": None, "rmse": None, "r2": None, "coverage_1sigma": None, "coverage_2sigma": None,
                "in_domain_share": None, "mae_in_domain": None, "mae_out_of_domain": None,
                "removed_training_rows": removed}
    err = np.abs(mean - y)
    ss = float(np.sum((y - y.mean()) ** 2))
    return {
        "n": int(n),
        "mae": float(err.mean()),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": float(1 - np.sum(err**2) / ss) if ss > 0 else None,
        "coverage_1sigma": float(np.mean(err <= sigma)),
        "coverage_2sigma": float(np.mean(err <= 2 * sigma)),
        "in_domain_share": float(inside.mean()),
        "mae_in_domain": float(err[inside].mean()) if inside.any() else None,
        "mae_out_of_domain": float(err[~inside].mean()) if (~inside).any() else None,
        "removed_training_rows": int(removed),
    }


def validate(dataset: pd.DataFrame, exclude_radius: float = DEFAULT_EXCLUDE_RADIUS, seed: int = 0,
             models: SurrogateSet | None = None, log=None) -> dict[str, dict]:
    """Refit the shipped configuration without the test compositions' neighbourhood and score the test rows.

    Parameters
    ----------
    dataset : DataFrame
        A user dataset (:func:`magnetscreen.datasets.load_user_dataset`).
    exclude_radius : float, default=0.02
        Training rows within this L1 atomic-fraction distance of any test composition are removed (0 removes
        exact matches only).
    seed : int, default=0
    models : SurrogateSet, optional
        Whose configuration to refit (default: the shipped models).
    log : callable, optional
        Called with a progress line per step.

    Returns
    -------
    dict
        ``{target: {field: value}}`` with the fields of :data:`FIELDS`, plus ``seconds``, ``routes_used`` and
        ``predictions`` (a frame of formula, T_K, y, mean, sigma, distance, in_domain) per target with test rows.
    """
    if not (np.isfinite(exclude_radius) and exclude_radius >= 0):
        raise ValueError(f"exclude_radius: expected a number >= 0, got {exclude_radius!r}")
    tests = {t: test_rows(dataset, t) for t in TARGETS}
    if all(len(rows) == 0 for rows in tests.values()):
        raise DataError("no row to validate on: the dataset has no Tc_K value and no Js_T, K1_MJm3 or muHA_T value "
                        "with its T_K")
    models = models if models is not None else load_surrogates()
    all_formulas = sorted({f for frame in tests.values() for f in frame["formula"]})
    test_batch = encode(all_formulas)
    sets, removed = {}, {}
    for target in TARGETS:
        kind, routes, tier_rule = _shipped_configuration(models, target)
        data = training_set(target, tier_rule=tier_rule)
        far = _min_distance(encode(list(data.frame["formula"])), test_batch) > exclude_radius
        removed[target] = int((~far).sum())
        sets[target] = data.take(np.where(far)[0])
    domain = build_domain(sets)
    out: dict[str, dict] = {}
    fitted = {}
    for target in TARGETS:
        start = time.perf_counter()
        rows = tests[target]
        if len(rows) == 0:
            out[target] = _scores(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool), removed[target])
            out[target]["seconds"] = 0.0
            continue
        kind, routes, _ = _shipped_configuration(models, target)
        result = fit_calibrated(sets[target], domain, kind, routes, seed)
        fitted[target] = result
        surrogate = result["surrogate"]
        batch = encode(list(rows["formula"]))
        descriptors, _ = featurize(batch)
        X = model_matrix(descriptors, rows["T_K"].to_numpy(float), rows["is_dft"].to_numpy(float))
        codes = prototype_codes(batch)
        mean, spread, route = surrogate.predict_raw(X, batch, codes)
        sigma = surrogate.sigma_scale[route] * (spread + surrogate.sigma_floor[route])
        if target == "K1_MJm3":
            mean = np.where(easy_plane_mask(batch, codes), np.minimum(mean, 0.0), mean)
        t = TARGETS.index(target)
        threshold = result["threshold"]["threshold"]
        target_domain = replace(domain, thresholds=np.full(len(TARGETS), threshold))
        distance = target_domain.distances(descriptors, codes)[:, t]
        inside = distance <= threshold
        out[target] = _scores(rows["y"].to_numpy(float), mean, sigma, inside, removed[target])
        out[target]["routes_used"] = {r: int((route == i).sum()) for i, r in enumerate(ROUTES)}
        out[target]["predictions"] = pd.DataFrame({"formula": rows["formula"], "T_K": rows["T_K"],
                                                   "y": rows["y"].to_numpy(float), "mean": mean, "sigma": sigma,
                                                   "distance": distance, "in_domain": inside})
        out[target]["seconds"] = round(time.perf_counter() - start, 1)
        if log is not None:
            log(f"{target}: {out[target]['n']} test rows, MAE {out[target]['mae']:.4g}, "
                f"{removed[target]} training rows removed, {out[target]['seconds']} s")
    return out
