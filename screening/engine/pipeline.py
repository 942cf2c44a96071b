"""One chunk through the screening pipeline: enumerate, featurize, predict, physics, HREE, risk,
requirements, pruning. Everything here runs on whole arrays (numba kernels and numpy); the only Python
loops are over requirements and columns, never over candidates.

A :class:`Context` is everything a worker needs to score any chunk of a run. It is small and picklable
(the models are loaded, once per process, from their folder), so it travels to joblib and Dask workers.

Every stage runs under ``timer(stage)``, a context-manager factory (default: no timing). This is the hook
through which ``magnetscreen bench`` times the real pipeline; the stages are :data:`STAGES`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from magnetscreen.datasets.elements import element_symbols, symbol_to_z
from magnetscreen.datasets.families import Family
from magnetscreen.descriptors.encoding import CompositionBatch
from magnetscreen.descriptors.enumeration import EnumerationPlan, plan_enumeration
from magnetscreen.descriptors.featurize import feature_names, featurize
from magnetscreen.descriptors.hree import hree_intensity
from magnetscreen.descriptors.stability import BEYOND, REPORTED, stability_codes, unknown_stability
from magnetscreen.models.physics import GRADES, ProcessingRoute
from magnetscreen.models.predictions import Conditions, derive
from magnetscreen.models.risk import PriceArrays, composition_risk_arrays
from magnetscreen.models.risk_kernels import element_set_code_kernel
from magnetscreen.models.surrogates import SurrogateSet, load_surrogates
from magnetscreen.screening.engine.contract import SCORED_COLUMNS, column_names
from magnetscreen.screening.engine.ranking import Objectives, prune
from magnetscreen.screening.engine.settings import ScreenSettings

__all__ = ["Context", "ChunkResult", "Timer", "STAGES", "COLUMNS", "score_batch", "score_chunk", "requirement_masks",
           "explore_order", "take", "empty_columns", "element_names"]

#: Columns of a scored candidate (the run contract's scored columns).
COLUMNS = column_names(SCORED_COLUMNS)
#: The numeric columns any ranking objective reads (pruning needs nothing else).
_OBJECTIVE_COLUMNS = ("performance", "hree_g_per_kg", "risk_value", "risk_weighted", "risk_weakest", "cost_usd_per_kg")
#: Stages of the pipeline, in order, as the timer hook names them ("risk" covers HREE intensity, supply risk and
#: the phase-stability flag).
STAGES = ("enumerate_encode", "featurize", "predict", "physics", "risk", "rank")

#: ``timer(stage)`` returns a context manager that times the block.
Timer = Callable[[str], AbstractContextManager]

_MODELS: dict[str, SurrogateSet] = {}
_PLANS: dict[tuple, EnumerationPlan] = {}


def _no_timer(stage: str) -> AbstractContextManager:
    return nullcontext()


#: Per thread: the descriptor matrix of the last chunk, reused by the next (see :func:`_descriptor_buffer`).
_SCRATCH = threading.local()


def _descriptor_buffer(n: int) -> np.ndarray:
    """A C-contiguous float64 (n, n_features) array for this thread's chunk descriptors, reused from chunk to
    chunk. Allocating 80 MB per chunk costs its page faults every time: on the 2-core development machine,
    featurizing 65,536 candidates took a median 108 ms with a new array and 14 ms with a reused one on two
    numba threads (30 and 28 ms on one). One per thread, so chunks scored at once in threads never share it; the
    descriptors never leave :func:`score_batch`."""
    width = len(feature_names())
    buf = getattr(_SCRATCH, "descriptors", None)
    if buf is None or buf.shape[0] < n or buf.shape[1] != width:
        buf = np.empty((n, width), dtype=np.float64)
        _SCRATCH.descriptors = buf
    return buf[:n]


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
    prices: PriceArrays
    controlled: tuple[str, ...] = ()  # elements under export control at as_of, in atomic-number order
    models_dir: str | None = None
    all_dir: str | None = None  # folder of the every-candidate Parquet parts, when written

    @property
    def conditions(self) -> Conditions:
        s = self.settings
        return Conditions(temperature_K=self.temperature_K,
                          route=ProcessingRoute(alpha=s.alpha, n_eff=s.n_eff, remanence_factor=s.remanence_factor),
                          kuzmin_s=s.kuzmin_s, k1_exponent=s.k1_exponent, temperature_law=s.temperature_law)

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


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk leaves for the merge: survivors and explore candidates (column dicts), and counts.

    ``counts``: ``composition_ok`` (candidates scored), ``passed`` (met every requirement), ``in_domain``
    and ``removed_by`` (candidates failing each requirement).
    """

    survivors: dict[str, np.ndarray]
    explore: dict[str, np.ndarray]
    counts: dict = field(default_factory=dict)


def element_names(z: np.ndarray) -> np.ndarray:
    """Element symbols of atomic numbers (0 gives the empty string)."""
    return _symbol_table()[z]


@lru_cache(maxsize=1)
def _symbol_table() -> np.ndarray:
    """Fixed-width symbols indexed by atomic number ("" at 0): indexing it copies fixed-width strings."""
    return np.array(("",) + tuple(element_symbols()[1:]), dtype=str)


def _controlled_names(codes: np.ndarray, controlled: tuple[str, ...]) -> np.ndarray:
    """Space-separated symbols of the controlled elements set in each bit code (bit b = ``controlled[b]``)."""
    names = []
    for code in codes.tolist():
        names.append(" ".join(s for b, s in enumerate(controlled) if code >> b & 1))
    return np.array(names, dtype=str) if names else np.zeros(0, dtype=str)


def take(cols: dict[str, np.ndarray], rows: np.ndarray | slice) -> dict[str, np.ndarray]:
    """The scored columns of ``rows`` (``formula``, ``stability_source``, ``domain_note`` and
    ``controlled_elements`` built for those rows only, from the batch and the codes, where a whole batch carries
    only those)."""
    out = {}
    for c in COLUMNS:
        if c == "formula" and c not in cols:
            batch: CompositionBatch = cols["_batch"]  # type: ignore[assignment]  # the chunk's batch, see score_chunk
            out[c] = batch.take(rows).names()
        elif c == "stability_source" and c not in cols:
            out[c] = cols["stability_sources"][cols["stability_row"][rows]]
        elif c == "domain_note" and c not in cols:
            out[c] = cols["domain_note_table"][cols["domain_note_code"][rows]]
        elif c == "controlled_elements" and c not in cols:
            out[c] = _controlled_names(cols["controlled_code"][rows], tuple(cols["controlled_symbols"]))
        else:
            out[c] = cols[c][rows]
    return out


def empty_columns() -> dict[str, np.ndarray]:
    """Scored columns with no row, each of its contract dtype."""
    dtypes = {"float64": np.float64, "int64": np.int64, "bool": bool, "str": str}
    return {c.name: np.zeros(0, dtype=dtypes[c.dtype]) for c in SCORED_COLUMNS}


def score_batch(ctx: Context, batch: CompositionBatch, timer: Timer = _no_timer,
                family: Family | None = None) -> dict[str, np.ndarray]:
    """Every column of :data:`COLUMNS` except family, candidate_index and formula, for a batch of ``family``'s
    candidates, plus ``muHc_room_T`` (for the grade requirement) and ``stability_code`` (for the stability
    requirement). ``family`` selects the temperature law (a built-in family's fitted law under the run's
    "family" setting) and the formation ranges; without it every candidate's stability is unknown."""
    with timer("featurize"):
        descriptors, _ = featurize(batch, out=_descriptor_buffer(len(batch)))
    with timer("predict"):
        pred = ctx.models().predict_descriptors(descriptors, batch, note_codes=True)
    del descriptors
    with timer("physics"):
        out = derive(pred, ctx.conditions.for_family(family.name if family is not None else None))
        cols: dict[str, np.ndarray] = {c: out[c] for c in COLUMNS if c in out}
        cols["muHc_room_T"] = out["muHc_room_T"]
        cols["domain_note_code"], cols["domain_note_table"] = out["domain_note_code"], out["domain_note_table"]
        s = ctx.settings
        metric, sigma = out[s.metric], out[f"{s.metric}_sigma"]
        cols["performance"] = metric - s.pessimistic_k * sigma
        cols["performance_sigma"] = sigma
        cols["upside"] = metric + s.explore_k * sigma
    with timer("risk"):
        cols["hree_g_per_kg"] = hree_intensity(batch, ctx.hree_set)
        cols["perf_per_hree"] = cols["performance"] / (cols["hree_g_per_kg"] + s.h0_g_per_kg)
        risk = composition_risk_arrays(batch, ctx.element_risk, s.risk_threshold, ctx.prices)
        cols["risk_value"] = risk["risk_value_weighted"]
        cols["risk_value_driver"] = element_names(risk["driver_value_weighted_Z"])
        cost = risk["cost_usd_per_kg"]
        cols["cost_usd_per_kg"] = cost
        cols["cost_usd_per_kg_low"] = risk["cost_usd_per_kg_low"]
        cols["cost_usd_per_kg_high"] = risk["cost_usd_per_kg_high"]
        cols["cost_priced_fraction"] = risk["priced_mass_fraction"]
        bhmax = cols["BHmax_kJm3"]
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["cost_per_BHmax"] = np.where(bhmax > 0, cost / np.where(bhmax > 0, bhmax, 1.0), np.nan)
        controlled_z = np.array([symbol_to_z()[e] for e in ctx.controlled], dtype=np.int64)
        cols["controlled_code"] = element_set_code_kernel(batch.elements, controlled_z)
        cols["controlled_symbols"] = np.array(ctx.controlled, dtype=object)
        cols["risk_weighted"] = risk["risk_mass_weighted"]
        cols["risk_weighted_driver"] = element_names(risk["driver_mass_weighted_Z"])
        cols["risk_weakest"] = risk["risk_weakest_link"]
        cols["risk_weakest_driver"] = element_names(risk["driver_weakest_link_Z"])
        if family is not None:
            stability = stability_codes(batch, family, ctx.temperature_K, s.synthesis)
        else:
            stability = unknown_stability(len(batch), "no family")
        cols.update(stability)
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
    if s.phase_stability == "reported":
        masks["phase_stability reported"] = cols["stability_code"] == REPORTED
    elif s.phase_stability == "not_beyond":
        masks["phase_stability not_beyond"] = cols["stability_code"] != BEYOND
    finite = np.isfinite(cols["performance"]) & np.isfinite(cols["hree_g_per_kg"])
    masks["finite predictions"] = finite
    return masks


def score_chunk(ctx: Context, family_index: int, chunk_index: int, timer: Timer = _no_timer,
                limit: int | None = None) -> ChunkResult:
    """Score one chunk and keep what can still reach the shortlist and the explore list.

    ``limit`` scores only the chunk's first ``limit`` candidates (benchmarks on a part of a plan).
    """
    plan = ctx.plan(family_index)
    with timer("enumerate_encode"):
        chunk = plan.chunk(chunk_index)
        batch, candidate_index = chunk.batch, chunk.candidate_index
        if limit is not None and limit < len(chunk):
            batch, candidate_index = batch.take(slice(0, limit)), candidate_index[:limit]
    n = len(batch)
    s = ctx.settings
    cols = score_batch(ctx, batch, timer, plan.family)
    with timer("rank"):
        cols["family"] = np.full(n, plan.family.name, dtype=f"<U{max(1, len(plan.family.name))}")
        cols["candidate_index"] = np.asarray(candidate_index, dtype=np.int64)
        cols["_batch"] = batch  # type: ignore[assignment]  # formulas are built only for the rows kept (take)
        masks = requirement_masks(ctx, cols, s.pessimistic_k)
        passed = np.ones(n, dtype=bool)
        for m in masks.values():
            passed &= m
        if ctx.all_dir is not None:
            _write_all(ctx, cols, passed, family_index, chunk_index)
        rows = np.where(passed)[0]
        numbers = {c: cols[c][rows] for c in _OBJECTIVE_COLUMNS}  # pruning reads numbers only
        kept = take(cols, rows[prune(numbers, s.keep, Objectives.of(s))])
        explore = _explore_candidates(ctx, cols, passed)
    return ChunkResult(kept, explore, {
        "composition_ok": n,
        "passed": int(passed.sum()),
        "in_domain": int(cols["in_domain"].sum()),
        "removed_by": {name: int(n - m.sum()) for name, m in masks.items()},
    })


def explore_order(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Explore ranking: upside descending, then performance sigma descending, then formula, candidate."""
    return np.lexsort((cols["candidate_index"], cols["formula"], -cols["performance_sigma"], -cols["upside"]))


def _explore_candidates(ctx: Context, cols: dict[str, np.ndarray], passed: np.ndarray) -> dict[str, np.ndarray]:
    """The chunk's best ``explore_size + shortlist_size`` candidates by upside among those that meet every
    requirement at the optimistic bound (mean + explore_k sigma for minimums) except the domain and phase-
    stability requirements (their ``domain_note`` says what data they lack, ``phase_stability`` whether they lie
    beyond a reported formation range: finding new phase space is what exploration is for); ties broken as in
    :func:`explore_order`. Enough are kept to fill the explore list after shortlisted ones are removed."""
    s = ctx.settings
    if s.explore_size == 0:
        return take(cols, np.zeros(0, dtype=np.int64))
    optimistic = np.ones(len(passed), dtype=bool)
    for name, m in requirement_masks(ctx, cols, -s.explore_k).items():
        if name == "in_domain" or name.startswith("phase_stability"):  # explore keeps them, labelled
            continue
        optimistic &= m
    sigma_ok = np.isfinite(cols["upside"]) & (cols["performance_sigma"] > 0)
    rows = np.where(optimistic & sigma_ok)[0]
    size = s.explore_size + s.shortlist_size
    if len(rows) > size:
        # the first `size` rows of explore_order all have an upside at least the size-th largest; keeping every
        # row at or above it (ties included) leaves the order of the first `size` rows as it was, and the
        # formulas are built for those rows only
        upside = cols["upside"][rows]
        cut = np.partition(-upside, size - 1)[size - 1]
        rows = rows[-upside <= cut]
    sub = take(cols, rows)
    order = explore_order(sub)[:size]
    return take(sub, order)


def _write_all(ctx: Context, cols: dict[str, np.ndarray], passed: np.ndarray, family_index: int,
               chunk_index: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from magnetscreen.screening.engine.outputs import atomic_path

    assert ctx.all_dir is not None
    table = pa.table({**take(cols, slice(None)), "passed": passed})
    path = Path(ctx.all_dir) / f"part-f{family_index:03d}-c{chunk_index:06d}.parquet"
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
