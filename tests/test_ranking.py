"""The Pareto ranking on any objectives of ``[screen] objectives``: pruning and fronts against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from magnetscreen.screening.engine.ranking import Objectives, objective_matrix, prune, rank_order


def _columns(n: int, seed: int, levels: int) -> dict[str, np.ndarray]:
    """Random objectives drawn from ``levels`` values each, so that ties are common; one missing risk and cost."""
    rng = np.random.default_rng(seed)
    perf = rng.integers(0, levels, n).astype(float)
    hree = rng.integers(0, levels, n).astype(float)
    risk = rng.integers(0, levels, n) / levels
    mass_risk = rng.integers(0, levels, n) / levels
    cost = rng.integers(0, levels, n).astype(float) * 3.0
    risk[0], mass_risk[0], cost[1] = np.nan, np.nan, np.nan
    return {"performance": perf, "hree_g_per_kg": hree, "risk_value": risk, "risk_weighted": mass_risk,
            "risk_weakest": risk, "cost_usd_per_kg": cost, "perf_per_hree": perf / (hree + 1.0),
            "family": np.array(["a", "b"] * (n // 2)), "formula": np.array([f"F{i % 7}" for i in range(n)]),
            "candidate_index": np.arange(n, dtype=np.int64)}


def _brute(obj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dominator counts and fronts (repeated peeling of the non-dominated set) of a minimization matrix."""
    n = len(obj)
    dominated_by = [[j for j in range(n) if np.all(obj[j] <= obj[i]) and np.any(obj[j] < obj[i])] for i in range(n)]
    front = np.zeros(n, dtype=np.int64)
    left, level = set(range(n)), 0
    while left:
        level += 1
        current = {i for i in left if not any(j in left for j in dominated_by[i])}
        for i in current:
            front[i] = level
        left -= current
    return np.array([len(d) for d in dominated_by]), front


CASES = [Objectives(("performance", "hree", "risk"), "value_weighted"),
         Objectives(("performance", "hree", "risk"), "mass_weighted"),
         Objectives(("performance", "cost"), "value_weighted"),
         Objectives(("performance", "hree", "risk", "cost"), "weakest_link")]


@pytest.mark.parametrize("objectives", CASES, ids=lambda o: "+".join(o.names) + "/" + o.risk)
@pytest.mark.parametrize("keep", [1, 100, 10000])
def test_prune_and_fronts_equal_brute_force_with_ties(objectives, keep):
    cols = _columns(240, seed=len(objectives.names) + keep, levels=5)
    obj = objective_matrix(cols, objectives)
    # missing data rank last: a NaN risk counts as 1, a NaN cost as infinite
    names = list(objectives.names)
    if "risk" in names:
        assert obj[0, names.index("risk")] == 1.0
    if "cost" in names:
        assert np.isinf(obj[1, names.index("cost")])
    counts, front = _brute(obj)
    np.testing.assert_array_equal(prune(cols, keep, objectives), counts < keep)
    order, got = rank_order(cols, objectives)
    np.testing.assert_array_equal(got, front)
    # the order: front, then perf/(h + h0) down, performance down, the other objectives up, then formula,
    # family, candidate index
    keyed = sorted(range(len(front)), key=lambda i: (
        front[i], -cols["perf_per_hree"][i], -cols["performance"][i],
        *[obj[i, k] for k, name in enumerate(objectives.names) if name not in ("performance", "hree")],
        cols["formula"][i], cols["family"][i], cols["candidate_index"][i]))
    np.testing.assert_array_equal(order, keyed)


def test_order_of_rows_does_not_change_the_ranking():
    cols = _columns(200, seed=3, levels=4)
    objectives = CASES[3]
    order, _ = rank_order(cols, objectives)
    perm = np.random.default_rng(5).permutation(200)
    shuffled = {k: v[perm] for k, v in cols.items()}
    order2, _ = rank_order(shuffled, objectives)
    np.testing.assert_array_equal(cols["candidate_index"][order], shuffled["candidate_index"][order2])


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("n, levels", [(0, 3), (1, 3), (7, 2), (300, 4), (3000, 12), (3000, 1000)])
def test_divide_and_conquer_dominance_equals_the_quadratic_kernels(k, n, levels):
    """Counts and fronts of the O(n log^2 n) path equal brute-force counting and the one-pass front kernel,
    ties and duplicates included (few levels: many equal values and identical rows)."""
    from magnetscreen.screening.engine import ranking_kernels as kernels
    from magnetscreen.screening.engine.ranking import dominance, objective_order

    rng = np.random.default_rng(n + levels + k)
    obj = np.ascontiguousarray(rng.integers(0, levels, (n, k)).astype(float))
    if n > 10:
        obj[: n // 10] = obj[n // 10: 2 * (n // 10)]  # exact duplicates
        obj[0, 0] = np.inf  # a missing cost ranks last
        obj[1, 0], obj[2, 0] = -0.0, 0.0  # equal values with different bits share a rank
    counts, fronts = dominance(obj)
    if n == 0:
        assert len(counts) == len(fronts) == 0
        return
    le = (obj[:, None, :] <= obj[None, :, :]).all(axis=2)  # le[j, i]: j <= i everywhere
    lt = (obj[:, None, :] < obj[None, :, :]).any(axis=2)
    np.testing.assert_array_equal(counts, (le & lt).sum(axis=0))
    np.testing.assert_array_equal(fronts, kernels.pareto_front_kernel(obj, objective_order(obj)))


def test_tie_positions_give_the_same_order_as_the_string_keys():
    """rank_order with precomputed tie positions (what the rank confidence draws use) equals the order from the
    formula, family and candidate-index keys, with repeated formulas and families and equal objectives."""
    from magnetscreen.screening.engine.ranking import tie_positions

    cols = _columns(300, seed=11, levels=3)
    cols["candidate_index"] = cols["candidate_index"] % 40  # equal rows in all three tie-break keys
    for objectives in CASES:
        order, front = rank_order(cols, objectives)
        order2, front2 = rank_order(cols, objectives, tie_positions(cols))
        np.testing.assert_array_equal(order, order2)
        np.testing.assert_array_equal(front, front2)
