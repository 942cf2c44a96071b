"""Acquisition rules of a discovery campaign: which candidates to make and measure next.

Every rule turns each candidate's predicted mean and 1-sigma of the objective (higher is better) into an
acquisition value; :func:`select_batch` then takes the best values with a diversity rule, so that a batch
does not spend experiments on near-duplicates.

Rules (:data:`RULES`):

- ``random``: uniform values from the seed (the baseline every rule is measured against);
- ``greedy``: the mean (exploitation only);
- ``ucb``: upper confidence bound ``mean + kappa sigma`` (Srinivas et al., ICML 2010);
- ``ei``: expected improvement over the best value measured so far plus ``xi`` (Jones, Schonlau and Welch,
  J. Global Optim. 13, 455 (1998)), ``(m - b) Phi(z) + s phi(z)``, ``z = (m - b) / s``;
- ``chebyshev``: multi-objective, a ParEGO-style augmented Chebyshev scalarization (Knowles, IEEE Trans.
  Evol. Comput. 10, 50 (2006)) of the optimistic objective ``mean + kappa sigma`` (maximized) and further
  known objectives to minimize (heavy-rare-earth intensity, supply risk). Each objective is scaled to
  [0, 1] over the candidates (1 = worst), weights ``lambda`` are drawn from a flat Dirichlet with the seed
  (one draw per batch, so successive batches explore different trade-offs), and the value is
  ``-(max_i lambda_i f_i + rho sum_i lambda_i f_i)`` with ``rho = 0.05``.

Batch diversity (:func:`select_batch`): candidates are taken in decreasing acquisition value (ties by the
candidate key), skipping any whose L1 atomic-fraction distance to one already taken is below
``min_distance`` (default 0.05; Nd2Fe14B and Nd2Fe13CoB are 0.118 apart). Campaigns and the retrospective
benchmark select ``random`` batches without it (the plain baseline). Every choice is deterministic for a seed.
"""

from __future__ import annotations

import numpy as np

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.descriptors.encoding import CompositionBatch
from magnetscreen.models.acquisition_kernels import diverse_batch_kernel, expected_improvement_kernel

__all__ = ["RULES", "CHEBYSHEV_RHO", "DEFAULT_MIN_DISTANCE", "acquisition_values", "chebyshev_weights",
           "select_batch"]

RULES = ("random", "greedy", "ucb", "ei", "chebyshev")
CHEBYSHEV_RHO = 0.05
DEFAULT_MIN_DISTANCE = 0.05


def chebyshev_weights(n_objectives: int, seed: int) -> np.ndarray:
    """Weights of the Chebyshev scalarization: one flat-Dirichlet draw from the seed."""
    return np.random.default_rng([seed, 20_061_001]).dirichlet(np.ones(n_objectives))


def acquisition_values(rule: str, mean: np.ndarray, sigma: np.ndarray, *, seed: int = 0, kappa: float = 2.0,
                       best: float | None = None, xi: float = 0.0, minimize: np.ndarray | None = None
                       ) -> np.ndarray:
    """Acquisition value of every candidate under ``rule`` (higher is better; NaN for a missing mean).

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    mean, sigma : float64 (n,)
        Prediction and 1-sigma of the objective, to be maximized.
    seed : int
        Seed of ``random`` and of the ``chebyshev`` weights.
    kappa : float, default=2.0
        Weight of sigma in ``ucb`` and ``chebyshev``.
    best : float, optional
        Best objective value measured so far (``ei``; default: the largest mean, so that EI measures the
        chance of beating the best predicted candidate).
    xi : float, default=0.0
        Margin of ``ei``.
    minimize : float64 (n, k), optional
        Known objectives to minimize beside the learned one (``chebyshev`` only; missing values count as the
        worst).
    """
    mean = np.ascontiguousarray(mean, dtype=np.float64)
    sigma = np.ascontiguousarray(sigma, dtype=np.float64)
    if mean.shape != sigma.shape or mean.ndim != 1:
        raise ValueError(f"mean and sigma must be 1-D of one shape, got {mean.shape} and {sigma.shape}")
    if rule not in RULES:
        raise ConfigError(f"acquisition rule: expected one of {', '.join(RULES)}, got {rule!r}")
    if not (np.isfinite(kappa) and kappa >= 0):
        raise ConfigError(f"kappa: expected a number >= 0, got {kappa!r}")
    sigma = np.where(np.isfinite(sigma) & (sigma > 0), sigma, 0.0)
    if rule == "random":
        values = np.random.default_rng([seed, 1]).random(len(mean))
        return np.where(np.isfinite(mean), values, np.nan)
    if rule == "greedy":
        return mean.copy()
    if rule == "ucb":
        return mean + kappa * sigma
    if rule == "ei":
        if best is None:
            finite = mean[np.isfinite(mean)]
            best = float(finite.max()) if finite.size else 0.0
        return expected_improvement_kernel(mean, sigma, float(best), float(xi))
    # chebyshev
    columns = [-(mean + kappa * sigma)]
    if minimize is not None:
        extra = np.asarray(minimize, dtype=np.float64).reshape(len(mean), -1)
        columns += [extra[:, k] for k in range(extra.shape[1])]
    scaled = []
    for column in columns:
        finite = column[np.isfinite(column)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        span = high - low if high > low else 1.0
        scaled.append(np.where(np.isfinite(column), (column - low) / span, 1.0))
    f = np.stack(scaled, axis=1)
    weights = chebyshev_weights(f.shape[1], seed)
    weighted = f * weights
    value = -(weighted.max(axis=1) + CHEBYSHEV_RHO * weighted.sum(axis=1))
    return np.where(np.isfinite(mean), value, np.nan)


def select_batch(values: np.ndarray, batch: CompositionBatch, keys: np.ndarray, size: int,
                 min_distance: float = DEFAULT_MIN_DISTANCE) -> np.ndarray:
    """Rows of the next batch: decreasing ``values`` (ties: ascending ``keys``, e.g. the formulas), skipping
    rows closer than ``min_distance`` (L1 atomic fraction) to one already taken; NaN values are never taken.

    Returns int64 row indices in the order taken (fewer than ``size`` when the candidates run out).
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) != len(batch) or len(keys) != len(batch):
        raise ValueError(f"values ({len(values)}), keys ({len(keys)}) and batch ({len(batch)}) differ in length")
    if size < 1:
        raise ConfigError(f"batch size: expected an integer >= 1, got {size!r}")
    if not (np.isfinite(min_distance) and 0.0 <= min_distance <= 2.0):
        raise ConfigError(f"min_distance: expected a number in [0, 2], got {min_distance!r}")
    ok = np.where(np.isfinite(values))[0]
    order = ok[np.lexsort((np.asarray(keys)[ok], -values[ok]))].astype(np.int64)
    return diverse_batch_kernel(order, np.ascontiguousarray(batch.elements, dtype=np.int16),
                                np.ascontiguousarray(batch.fractions, dtype=np.float64), int(size),
                                float(min_distance))
