"""Ranking of screened candidates: Pareto fronts, then a documented tie-break, then the formula.

Order of the ranked table (``rank`` 1 = best):

1. only candidates that met every requirement are ranked;
2. Pareto front on (performance up, heavy-rare-earth intensity down, supply risk down), front 1 first;
3. within a front: performance per heavy-rare-earth intensity ``P / (h + h0)`` descending, then
   performance descending, then supply risk ascending;
4. then the canonical formula, the family and the candidate index (ascending), so the order is total and
   never depends on worker count, chunk size or input order.

Streaming: a candidate dominated by at least ``keep`` others is behind at least ``keep`` candidates of
better fronts, so it can never be in the top ``keep``; such candidates are dropped chunk by chunk
(:func:`prune`), and the set that is left is the same whatever the chunking or order.
"""

from __future__ import annotations

import numpy as np

from magnetscreen.screening.engine import ranking_kernels as _k

__all__ = ["objectives", "objective_order", "prune", "rank_order"]


def objectives(columns: dict[str, np.ndarray], risk: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three objectives (performance, HREE intensity, supply risk) as float64 arrays."""
    r = columns["risk_weighted"] if risk == "mass_weighted" else columns["risk_weakest"]
    # missing risk data ranks as the worst risk rather than disappearing
    r = np.where(np.isfinite(r), r, 1.0)
    return (np.ascontiguousarray(columns["performance"], dtype=np.float64),
            np.ascontiguousarray(columns["hree_g_per_kg"], dtype=np.float64), np.ascontiguousarray(r, dtype=np.float64))


def objective_order(p: np.ndarray, h: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Indices sorted lexicographically by (-p, h, r), ties in index order (stable)."""
    return np.lexsort((r, h, -p)).astype(np.int64)


def prune(columns: dict[str, np.ndarray], keep: int, risk: str) -> np.ndarray:
    """Boolean mask of the rows dominated by fewer than ``keep`` other rows."""
    p, h, r = objectives(columns, risk)
    if len(p) == 0:
        return np.zeros(0, dtype=bool)
    return _k.prune_dominated_kernel(p, h, r, objective_order(p, h, r), int(keep))


def rank_order(columns: dict[str, np.ndarray], risk: str) -> tuple[np.ndarray, np.ndarray]:
    """Ranking of the rows (see the module docstring).

    Returns
    -------
    order : int64 (n,)
        Row indices from rank 1 to rank n.
    front : int64 (n,)
        Pareto front of each row (in row order).
    """
    p, h, r = objectives(columns, risk)
    if len(p) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    front = _k.pareto_front_kernel(p, h, r, objective_order(p, h, r))
    keys = (columns["candidate_index"], columns["family"], columns["formula"], r, -p, -columns["perf_per_hree"],
            front)
    return np.lexsort(keys).astype(np.int64), front
