"""Acquisition rules and diverse batch selection against naive references (scipy's normal distribution, plain
Python loops over dictionaries of atomic fractions)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.descriptors.encoding import encode
from magnetscreen.models.acquisition import (
    CHEBYSHEV_RHO,
    acquisition_values,
    chebyshev_weights,
    select_batch,
)
from magnetscreen.models.acquisition_kernels import expected_improvement_kernel


def test_expected_improvement_matches_scipy():
    rng = np.random.default_rng(0)
    mean = rng.normal(500, 100, 300)
    sigma = rng.uniform(0, 80, 300)
    sigma[:5] = 0.0
    best, xi = 560.0, 5.0
    got = expected_improvement_kernel(mean, sigma, best, xi)
    for m, s, g in zip(mean, sigma, got):
        if s == 0:
            assert g == pytest.approx(max(m - best - xi, 0.0), abs=1e-12)
        else:
            z = (m - best - xi) / s
            assert g == pytest.approx((m - best - xi) * norm.cdf(z) + s * norm.pdf(z), rel=1e-10, abs=1e-12)
    assert np.isnan(expected_improvement_kernel(np.array([np.nan]), np.array([1.0]), 0.0, 0.0)[0])


def test_greedy_ucb_and_ei_default_best():
    mean = np.array([1.0, 3.0, 2.0, np.nan])
    sigma = np.array([2.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(acquisition_values("greedy", mean, sigma), mean)
    np.testing.assert_array_equal(acquisition_values("ucb", mean, sigma, kappa=1.5), mean + 1.5 * sigma)
    ei = acquisition_values("ei", mean, sigma)  # best = largest mean, 3.0
    np.testing.assert_allclose(ei[:3], expected_improvement_kernel(mean[:3], sigma[:3], 3.0, 0.0))
    assert np.isnan(ei[3])


def test_random_is_seeded_and_chebyshev_matches_a_naive_scalarization():
    mean = np.array([10.0, 12.0, 9.0, 11.0, 15.0])
    sigma = np.array([1.0, 0.5, 3.0, 0.0, 2.0])
    a = acquisition_values("random", mean, sigma, seed=4)
    assert np.array_equal(a, acquisition_values("random", mean, sigma, seed=4))
    assert not np.array_equal(a, acquisition_values("random", mean, sigma, seed=5))
    known = np.array([[0.0, 0.7], [5.0, 0.6], [0.0, 0.3], [2.0, np.nan], [9.0, 0.5]])
    got = acquisition_values("chebyshev", mean, sigma, seed=3, kappa=2.0, minimize=known)
    weights = chebyshev_weights(3, 3)
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()
    cols = [[-(m + 2.0 * s) for m, s in zip(mean, sigma)], list(known[:, 0]), list(known[:, 1])]
    scaled = []
    for col in cols:
        finite = [v for v in col if not math.isnan(v)]
        lo, hi = min(finite), max(finite)
        scaled.append([1.0 if math.isnan(v) else (v - lo) / (hi - lo) for v in col])
    for i in range(len(mean)):
        terms = [weights[k] * scaled[k][i] for k in range(3)]
        assert got[i] == pytest.approx(-(max(terms) + CHEBYSHEV_RHO * sum(terms)), rel=1e-12)


def _l1(a: dict, b: dict) -> float:
    return sum(abs(a.get(e, 0.0) - b.get(e, 0.0)) for e in set(a) | set(b))


def _naive_select(values, fractions, keys, size, min_distance):
    order = sorted((i for i in range(len(values)) if not math.isnan(values[i])), key=lambda i: (-values[i], keys[i]))
    taken = []
    for i in order:
        if len(taken) == size:
            break
        if all(_l1(fractions[i], fractions[j]) >= min_distance and _l1(fractions[i], fractions[j]) > 0
               for j in taken):
            taken.append(i)
    return taken


@pytest.mark.parametrize("min_distance", [0.0, 0.05, 0.12, 0.3])
def test_select_batch_matches_a_naive_greedy_distance_rule(min_distance):
    rng = np.random.default_rng(11)
    formulas = []
    for _ in range(120):
        x, y = rng.integers(1, 6, 2)
        formulas.append(f"Nd{2 - x / 10:.1f}Pr{x / 10:.1f}Fe{14 - y}Co{y}B")
    formulas += ["Nd2Fe14B", "Nd2Fe14B", "SmCo5", "Sm2Co17"]
    batch = encode(formulas)
    values = np.round(rng.normal(0, 1, len(formulas)), 1)  # rounded: ties happen
    values[3] = np.nan
    keys = np.array(formulas)
    fractions = []
    for zs, fs in zip(batch.elements, batch.fractions):
        fractions.append({int(z): float(f) for z, f in zip(zs, fs) if z})
    got = select_batch(values, batch, keys, 12, min_distance)
    assert got.tolist() == _naive_select(values, fractions, keys, 12, min_distance)
    assert 3 not in got.tolist()


def test_bad_arguments_are_named():
    with pytest.raises(ConfigError, match="acquisition rule.*'thompson'"):
        acquisition_values("thompson", np.zeros(2), np.zeros(2))
    batch = encode(["SmCo5"])
    with pytest.raises(ConfigError, match="min_distance.*3"):
        select_batch(np.zeros(1), batch, np.array(["SmCo5"]), 1, 3)
    with pytest.raises(ConfigError, match="batch size.*0"):
        select_batch(np.zeros(1), batch, np.array(["SmCo5"]), 0)
