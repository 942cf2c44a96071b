"""One chunk through the screening pipeline: enumerate, featurize, predict, physics, HREE, risk,
requirements, pruning. Everything here runs on whole arrays (numba kernels and numpy); the only Python
loops are over requirements and columns, never over candidates.

A :class:`Context` is everything a worker needs to score any chunk of a run. It is small and picklable
(the models are loaded, once per process, from their folder), so it travels to joblib and Dask workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magnetscreen.datasets.elements import element_symbols
from magnetscreen.datasets.families import Family
from magnetscreen.descriptors.encoding import CompositionBatch
from magnetscreen.descriptors.enumeration import EnumerationPlan, plan_enumeration
from magnetscreen.descriptors.featurize import featurize
from magnetscreen.descriptors.hree import hree_intensity
from magnetscreen.models.physics import GRADES, ProcessingRoute
from magnetscreen.models.predictions import Conditions, score
from magnetscreen.models.risk import composition_risk_arrays
from magnetscreen.models.surrogates import SurrogateSet, load_surrogates
from magnetscreen.screening.engine.ranking import prune
from magnetscreen.screening.engine.settings import ScreenSettings

__all__ = ["Context", "score_batch", "score_chunk", "COLUMNS", "STRING_COLUMNS"]

#: Columns of a scored candidate, in the order of ranked.parquet (after ``rank`` and ``front``).
COLUMNS = ("family", "candidate_index", "formula", "Js_T", "Js_T_sigma", "K1_MJm3", "K1_MJm3_sigma", "Tc_K",
           "Tc_K_sigma", "in_domain", "Js_op_T", "Js_op_T_sigma", "K1_op_MJm3", "muHA_T", "muHA_T_sigma", "kappa",
           "kappa_sigma", "muHc_T", "muHc_T_sigma", "Br_T", "BHmax_kJm3", "BHmax_kJm3_sigma", "BHmax_branch",
           "BHmax_bound_kJm3", "grade", "hree_g_per_kg", "performance", "performance_sigma", "perf_per_hree",
           "upside", "risk_weighted", "risk_weighted_driver", "risk_weakest", "risk_weakest_driver")
STRING_COLUMNS = ("family", "formula", "BHmax_branch", "grade", "risk_weighted_driver", "risk_weakest_driver")

_MODELS: dict[str, SurrogateSet] = {}
_PLANS: dict[tuple, EnumerationPlan] = {}


@dataclass(frozen=True)
class Context:
    """What a worker needs to score chunks of a run."""

    families: tuple[Family, ...]
    chunk_size: int
    seed: int
    temperature_K: float
    hree_set: str
    settings: ScreenSettings
    element_risk: np.ndarray
    as_of: dt.date
    models_dir: str | None = None
    all_dir: str | None = None  # folder of the every-candidate Parquet parts, when written

    @property
    def conditions(self) -> Conditions:
        s = self.settings
        return Conditions(temperature_K=self.temperature_K,
                          route=ProcessingRoute(alpha=s.alpha, n_eff=s.n_eff, remanence_factor=s.remanence_factor),
                          kuzmin_s=s.kuzmin_s, k1_exponent=s.k1_exponent)

    def models(self) -> SurrogateSet:
        key = self.models_dir or ""
        if key not in _MODELS:
            _MODELS[key] = load_surrogates(self.models_dir)
        return _MODELS[key]

    def plan(self, family_index: int) -> EnumerationPlan:
        family = self.families[family_index]
        key = (family, self.chunk_size, self.seed)
        if key not in _PLANS:
            _PLANS[key] = plan_enumeration(family, chunk_size=self.chunk_size, seed=self.seed)
        return _PLANS[key]


def _symbols(z: np.ndarray) -> np.ndarray:
    table = np.array(("",) + tuple(element_symbols()[1:]), dtype=object)
    return table[z].astype(str)


def score_batch(ctx: Context, batch: CompositionBatch) -> dict[str, np.ndarray]:
    """Every column of :data:`COLUMNS` except family, candidate_index and formula, for a batch."""
    descriptors, _ = featurize(batch)
    out = score(batch, ctx.models(), ctx.conditions, descriptors)
    cols: dict[str, np.ndarray] = {c: out[c] for c in COLUMNS if c in out}
    cols["muHc_room_T"] = out["muHc_room_T"]
    cols["hree_g_per_kg"] = hree_intensity(batch, ctx.hree_set)
    risk = composition_risk_arrays(batch, ctx.element_risk, ctx.settings.risk_threshold)
    cols["risk_weighted"] = risk["risk_mass_weighted"]
    cols["risk_weighted_driver"] = _symbols(risk["driver_mass_weighted_Z"])
    cols["risk_weakest"] = risk["risk_weakest_link"]
    cols["risk_weakest_driver"] = _symbols(risk["driver_weakest_link_Z"])
    s = ctx.settings
    metric, sigma = out[s.metric], out[f"{s.metric}_sigma"]
    cols["performance"] = metric - s.pessimistic_k * sigma
    cols["performance_sigma"] = sigma
    cols["perf_per_hree"] = cols["performance"] / (cols["hree_g_per_kg"] + s.h0_g_per_kg)
    cols["upside"] = metric + s.explore_k * sigma
    return cols


def requirement_masks(ctx: Context, cols: dict[str, np.ndarray], k: float) -> dict[str, np.ndarray]:
    """Pass mask of every requirement, testing ``value - k sigma`` against minimums and ``value + k sigma``
    against maximums (k = pessimistic_k for ranking, -explore_k for the optimistic test of explore)."""
    s = ctx.settings
    masks = {}
    for req in s.requirements:
        value = cols[req.column]
        sigma = cols.get(f"{req.column}_sigma")
        if sigma is not None and k:
            value = value - k * sigma if req.op == ">=" else value + k * sigma
        with np.errstate(invalid="ignore"):
            masks[req.name] = value >= req.value if req.op == ">=" else value <= req.value
    if s.grade:
        threshold, t_max = {g: (lo, t) for g, lo, t in GRADES}[s.grade]
        room = cols["muHc_room_T"]
        masks[f"grade {s.grade} at T_op"] = (room >= threshold) & (ctx.temperature_K <= t_max + 1e-9)
    if s.require_in_domain:
        masks["in_domain"] = cols["in_domain"].astype(bool)
    finite = np.isfinite(cols["performance"]) & np.isfinite(cols["hree_g_per_kg"])
    masks["finite predictions"] = finite
    return masks


def _take(cols: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {c: cols[c][rows] for c in COLUMNS}


def score_chunk(ctx: Context, family_index: int, chunk_index: int) -> dict:
    """Score one chunk and keep what can still reach the shortlist and the explore list.

    Returns
    -------
    dict with ``survivors`` and ``explore`` (column dicts), and ``counts``: ``composition_ok``,
    ``passed``, ``in_domain`` and ``removed_by`` (candidates failing each requirement).
    """
    plan = ctx.plan(family_index)
    chunk = plan.chunk(chunk_index)
    n = len(chunk)
    s = ctx.settings
    cols = score_batch(ctx, chunk.batch)
    cols["family"] = np.full(n, plan.family.name, dtype=f"<U{max(1, len(plan.family.name))}")
    cols["candidate_index"] = chunk.candidate_index
    cols["formula"] = chunk.batch.names()
    masks = requirement_masks(ctx, cols, s.pessimistic_k)
    passed = np.ones(n, dtype=bool)
    for m in masks.values():
        passed &= m
    if ctx.all_dir is not None:
        _write_all(ctx, cols, passed, family_index, chunk_index)
    rows = np.where(passed)[0]
    kept = _take(cols, rows)
    kept = _take(kept, np.where(prune(kept, s.keep, s.risk))[0])
    explore = _explore_candidates(ctx, cols, passed)
    return {
        "survivors": kept,
        "explore": explore,
        "counts": {
            "composition_ok": n,
            "passed": int(passed.sum()),
            "in_domain": int(cols["in_domain"].sum()),
            "removed_by": {name: int(n - m.sum()) for name, m in masks.items()},
        },
    }


def explore_order(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Explore ranking: upside descending, then performance sigma descending, then formula, candidate."""
    return np.lexsort((cols["candidate_index"], cols["formula"], -cols["performance_sigma"], -cols["upside"]))


def _explore_candidates(ctx: Context, cols: dict[str, np.ndarray], passed: np.ndarray) -> dict[str, np.ndarray]:
    """The chunk's best ``explore_size + shortlist_size`` candidates by upside among those that meet every
    requirement at the optimistic bound (mean + explore_k sigma for minimums); ties broken as in
    :func:`explore_order`. Enough are kept to fill the explore list after shortlisted ones are removed."""
    s = ctx.settings
    if s.explore_size == 0:
        return _take(cols, np.zeros(0, dtype=np.int64))
    optimistic = np.ones(len(passed), dtype=bool)
    for name, m in requirement_masks(ctx, cols, -s.explore_k).items():
        optimistic &= m
    sigma_ok = np.isfinite(cols["upside"]) & (cols["performance_sigma"] > 0)
    rows = np.where(optimistic & sigma_ok)[0]
    sub = _take(cols, rows)
    order = explore_order(sub)[: s.explore_size + s.shortlist_size]
    return _take(sub, order)


def _write_all(ctx: Context, cols: dict[str, np.ndarray], passed: np.ndarray, family_index: int,
               chunk_index: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from magnetscreen.screening.engine.outputs import atomic_path

    table = pa.table({**{c: cols[c] for c in COLUMNS}, "passed": passed})
    path = Path(ctx.all_dir) / f"part-f{family_index:03d}-c{chunk_index:06d}.parquet"
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
