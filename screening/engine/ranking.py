"""Ranking of screened candidates: Pareto fronts, then a documented tie-break, then the formula.

Order of the ranked table (``rank`` 1 = best):

1. only candidates that met every requirement are ranked;
2. Pareto front on the run's objectives (``[screen] objectives``; default performance up, heavy-rare-earth
   intensity down, supply risk down; ``cost``, the raw-material cost per kg, down), front 1 first;
3. within a front: performance per heavy-rare-earth intensity ``P / (h + h0)`` descending, then
   performance descending, then the other objectives (risk, cost) ascending in the order named;
4. then the canonical formula, the family and the candidate index (ascending), so the order is total and
   never depends on worker count, chunk size or input order.

A missing supply risk counts as the worst risk (1) and a missing cost as an infinite one, so that a
candidate without data is ranked, behind those with data, rather than dropped.

Streaming: a candidate dominated by at least ``keep`` others is behind at least ``keep`` candidates of
better fronts, so it can never be in the top ``keep``; such candidates are dropped chunk by chunk
(:func:`prune`), and the set that is left is the same whatever the chunking or order.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from magnetscreen.screening.engine import ranking_kernels as _k

__all__ = ["Objectives", "RISK_COLUMNS", "objective_matrix", "objective_order", "dominance", "prune", "rank_order",
           "rank_confidence", "candidate_keys", "MC_DRAWS"]

#: Monte Carlo draws of the rank confidence.
MC_DRAWS = 256
#: Scored column of each way of combining element risks.
RISK_COLUMNS = {"value_weighted": "risk_value", "mass_weighted": "risk_weighted", "weakest_link": "risk_weakest"}


@dataclass(frozen=True)
class Objectives:
    """The objectives of a ranking: names (``performance`` first; ``hree``, ``risk``, ``cost``) and the risk
    combination the ``risk`` objective reads."""

    names: tuple[str, ...] = ("performance", "hree", "risk")
    risk: str = "value_weighted"

    @classmethod
    def of(cls, settings) -> Objectives:
        """The objectives of a run's :class:`~magnetscreen.screening.engine.settings.ScreenSettings`."""
        return cls(tuple(settings.objectives), settings.risk)

    def column(self, name: str, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Objective ``name`` as float64, to be minimized."""
        if name == "performance":
            return -np.asarray(columns["performance"], dtype=np.float64)
        if name == "hree":
            return np.asarray(columns["hree_g_per_kg"], dtype=np.float64)
        if name == "risk":
            r = np.asarray(columns[RISK_COLUMNS[self.risk]], dtype=np.float64)
            return np.where(np.isfinite(r), r, 1.0)
        if name == "cost":
            c = np.asarray(columns["cost_usd_per_kg"], dtype=np.float64)
            return np.where(np.isfinite(c), c, np.inf)
        raise ValueError(f"unknown objective {name!r}")


def objective_matrix(columns: dict[str, np.ndarray], objectives: Objectives) -> np.ndarray:
    """The objectives as a C-contiguous float64 (n, k) matrix, every column minimized."""
    return np.ascontiguousarray(np.stack([objectives.column(name, columns) for name in objectives.names], axis=1))


def objective_order(obj: np.ndarray) -> np.ndarray:
    """Row indices sorted lexicographically by the columns of ``obj`` (first column first), ties in index
    order (stable)."""
    return np.lexsort(obj.T[::-1]).astype(np.int64)


#: Blocks of the divide and conquer at or below this size compare every pair.
_BLOCK = 48


def dominance(obj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dominators of every row (how many rows dominate it) and its Pareto front, for at most three objectives
    (minimized), in O(n log^2 n): equal to counting and to :func:`ranking_kernels.pareto_front_kernel`.

    Each column is replaced by its rank, equal rows are merged (they never dominate each other) with their
    multiplicity as a weight, and the distinct rows are solved by divide and conquer in lexicographic order,
    all in one kernel (:func:`magnetscreen.screening.engine.ranking_kernels.dominance_kernel`).

    Returns
    -------
    counts, fronts : int64 (n,)
    """
    n, k = obj.shape
    if k > 3:
        raise ValueError(f"dominance() takes at most 3 objectives, got {k}")
    return _k.dominance_kernel(np.ascontiguousarray(obj, dtype=np.float64), _BLOCK)


def prune(columns: dict[str, np.ndarray], keep: int, objectives: Objectives) -> np.ndarray:
    """Boolean mask of the rows dominated by fewer than ``keep`` other rows."""
    if len(columns["performance"]) == 0:
        return np.zeros(0, dtype=bool)
    obj = objective_matrix(columns, objectives)
    if obj.shape[1] <= 3 and not np.isnan(obj).any():
        return dominance(obj)[0] < keep
    return _k.prune_dominated_kernel(obj, objective_order(obj), int(keep))


def tie_positions(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Each row's position in the order of the last tie-breaks of :func:`rank_order` (formula, then family, then
    candidate index; equal rows in row order): distinct integers that sort as those three keys do."""
    base = np.lexsort((columns["candidate_index"], columns["family"], columns["formula"]))
    positions = np.empty(len(base), dtype=np.int64)
    positions[base] = np.arange(len(base), dtype=np.int64)
    return positions


def rank_order(columns: dict[str, np.ndarray], objectives: Objectives,
               ties: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ranking of the rows (see the module docstring).

    ``ties``, optional, is :func:`tie_positions` of the same rows, for callers that rank the same rows many
    times with other objective values (the order is the same with it or without it).

    Returns
    -------
    order : int64 (n,)
        Row indices from rank 1 to rank n.
    front : int64 (n,)
        Pareto front of each row (in row order).
    """
    if len(columns["performance"]) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    obj = objective_matrix(columns, objectives)
    fast = obj.shape[1] <= 3 and not np.isnan(obj).any()  # NaN compares false: the one-pass kernel's semantics
    front = dominance(obj)[1] if fast else _k.pareto_front_kernel(obj, objective_order(obj))
    others = [objectives.column(name, columns) for name in objectives.names[1:] if name != "hree"]
    last = (columns["candidate_index"], columns["family"], columns["formula"]) if ties is None else (ties,)
    keys = (*last, *others[::-1], -np.asarray(columns["performance"], dtype=np.float64), -columns["perf_per_hree"],
            front)
    return np.lexsort(keys).astype(np.int64), front


def candidate_keys(columns: dict[str, np.ndarray]) -> np.ndarray:
    """A 64-bit key per candidate from its family name and candidate index (the same in every run)."""
    families = np.asarray(columns["family"]).astype(str)
    codes = {f: zlib.crc32(f.encode("utf-8")) for f in sorted(set(families.tolist()))}
    family_code = np.array([codes[f] for f in families.tolist()], dtype=np.uint64) if len(families) else \
        np.zeros(0, dtype=np.uint64)
    index = np.asarray(columns["candidate_index"]).astype(np.uint64)
    return (family_code << np.uint64(32)) ^ index


def rank_confidence(columns: dict[str, np.ndarray], objectives: Objectives, top_n: int, seed: int, pessimistic_k: float,
                    h0_g_per_kg: float, n_draws: int = MC_DRAWS) -> np.ndarray:
    """Probability that each ranked candidate belongs in the top ``top_n`` under its predictive distribution.

    The ranking metric of every candidate is drawn ``n_draws`` times from a normal distribution with its
    mean and sigma (``performance + pessimistic_k * sigma`` and ``performance_sigma``; draws are independent
    between candidates, each keyed by the seed, the family and the candidate index, so the result does not
    depend on worker count, chunk size or order), the candidates are ranked again on each draw exactly as in
    :func:`rank_order` (Pareto fronts, then performance per HREE intensity), and the share of draws in which
    a candidate is in the first ``top_n`` is returned. Requirements are not drawn again: the probability is
    among the candidates that met them on their means.

    Returns
    -------
    float64 (n,), in row order
    """
    n = len(columns["performance"])
    if n == 0:
        return np.zeros(0)
    sigma = np.nan_to_num(np.asarray(columns["performance_sigma"], dtype=np.float64), nan=0.0)
    mean = np.asarray(columns["performance"], dtype=np.float64) + pessimistic_k * sigma
    z = _k.keyed_normals_kernel(candidate_keys(columns), np.uint64(seed), int(n_draws))
    hree = np.asarray(columns["hree_g_per_kg"], dtype=np.float64)
    counts = np.zeros(n, dtype=np.int64)
    draw = dict(columns)
    ties = tie_positions(columns)
    for d in range(n_draws):
        p = mean + sigma * z[:, d]
        draw["performance"] = p
        draw["perf_per_hree"] = p / (hree + h0_g_per_kg)
        order, _ = rank_order(draw, objectives, ties)
        counts[order[:top_n]] += 1
    return counts / n_draws
