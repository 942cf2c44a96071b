"""Rank confidence: keyed normal draws and P(top N), against analytic and brute-force references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from magnetscreen.screening.engine.ranking import Objectives, candidate_keys, rank_confidence, rank_order
from magnetscreen.screening.engine.ranking_kernels import keyed_normals_kernel

MASS = Objectives(("performance", "hree", "risk"), "mass_weighted")


def _columns(perf, sigma, hree=None, risk=None, family="f"):
    n = len(perf)
    hree = np.zeros(n) if hree is None else np.asarray(hree, float)
    perf = np.asarray(perf, float)
    return {"performance": perf, "performance_sigma": np.asarray(sigma, float), "hree_g_per_kg": hree,
            "perf_per_hree": perf / (hree + 1.0), "risk_weighted": np.full(n, 0.5) if risk is None else np.asarray(risk),
            "risk_weakest": np.full(n, 0.5), "family": np.full(n, family), "candidate_index": np.arange(n),
            "formula": np.array([f"X{i}" for i in range(n)])}


def test_keyed_normals_are_standard_and_depend_only_on_the_key():
    keys = np.arange(5000, dtype=np.uint64) * np.uint64(7919)
    z = keyed_normals_kernel(keys, np.uint64(3), 40)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(np.mean(z**3)) < 0.03 and abs(np.mean(z**4) - 3) < 0.06  # skewness 0, kurtosis 3
    order = np.random.default_rng(0).permutation(len(keys))
    assert np.array_equal(keyed_normals_kernel(keys[order], np.uint64(3), 40), z[order])
    assert not np.array_equal(keyed_normals_kernel(keys, np.uint64(4), 40), z)


def test_keys_differ_between_families_and_indices():
    a = candidate_keys({"family": np.array(["2-14-1", "2-14-1", "SmCo5"]), "candidate_index": np.array([0, 1, 0])})
    assert len(set(a.tolist())) == 3


def test_without_uncertainty_the_top_n_is_certain():
    cols = _columns([5.0, 9.0, 7.0, 1.0, 3.0], np.zeros(5))
    p = rank_confidence(cols, MASS, 2, seed=0, pessimistic_k=0.0, h0_g_per_kg=1.0, n_draws=16)
    assert p.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]


def test_two_candidates_match_the_normal_difference():
    # top 1 of two: P(A first) = P(pA > pB) = Phi((muA - muB) / sqrt(sA^2 + sB^2))
    cols = _columns([10.0, 9.0], [1.0, 1.5])
    p = rank_confidence(cols, MASS, 1, seed=7, pessimistic_k=0.0, h0_g_per_kg=1.0, n_draws=20000)
    expected = norm.cdf(1.0 / np.hypot(1.0, 1.5))
    assert p[0] == pytest.approx(expected, abs=3.5 * np.sqrt(expected * (1 - expected) / 20000))
    assert p[0] + p[1] == pytest.approx(1.0)


def test_pessimistic_k_draws_around_the_mean_not_the_bound():
    # performance holds mean - k sigma; the draws are centred on the mean
    k = 2.0
    cols = _columns([10.0 - k * 3.0, 9.0], [3.0, 0.0])
    p = rank_confidence(cols, MASS, 1, seed=1, pessimistic_k=k, h0_g_per_kg=1.0, n_draws=20000)
    assert p[0] == pytest.approx(norm.cdf(1.0 / 3.0), abs=0.015)


def test_equals_brute_force_resampling_and_ignores_row_order():
    rng = np.random.default_rng(5)
    n = 40
    cols = _columns(rng.normal(100, 10, n), rng.uniform(0, 8, n), hree=rng.choice([0.0, 5.0, 20.0], n),
                    risk=rng.uniform(0.3, 0.7, n))
    p = rank_confidence(cols, MASS, 10, seed=11, pessimistic_k=0.0, h0_g_per_kg=1.0, n_draws=64)
    # brute force: the same draws, ranked by the public rank_order, one draw at a time
    z = keyed_normals_kernel(candidate_keys(cols), np.uint64(11), 64)
    counts = np.zeros(n)
    for d in range(64):
        draw = dict(cols)
        draw["performance"] = cols["performance"] + cols["performance_sigma"] * z[:, d]
        draw["perf_per_hree"] = draw["performance"] / (cols["hree_g_per_kg"] + 1.0)
        order, _ = rank_order(draw, MASS)
        counts[order[:10]] += 1
    assert np.array_equal(p, counts / 64)
    perm = rng.permutation(n)
    shuffled = {k: v[perm] for k, v in cols.items()}
    q = rank_confidence(shuffled, MASS, 10, seed=11, pessimistic_k=0.0, h0_g_per_kg=1.0, n_draws=64)
    assert np.array_equal(q, p[perm])
