"""The screening loop: chunks of every family through the pipeline, on local workers or Dask, merged into a
ranked shortlist that does not depend on worker count, chunk size or input order.

What a run writes, and in which order, is the run contract (:mod:`magnetscreen.screening.engine.contract`):
the manifest is written ``running`` first and ``complete`` last, after every other file, the report
included. A run that is killed and restarted with the same command skips the tasks it finished (one or a
few chunks each: :func:`group_tasks`) and ends with byte-identical result files; the resume key is the hash
of every resolved input that can change a score
(:class:`~magnetscreen.screening.engine.contract.ResolvedInputs`), so a changed model file, family file,
scenario file or data table starts a fresh state instead of mixing chunks.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from magnetscreen.datasets.errors import MagnetscreenError
from magnetscreen.datasets.provenance import bytes_sha256, package_version, versions
from magnetscreen.models.temperature_laws import law_for
from magnetscreen.screening.engine import contract as c
from magnetscreen.screening.engine.backends import Usage, check_backend, choose_backend, run_tasks
from magnetscreen.screening.engine.config import RunConfig, with_cluster_options
from magnetscreen.screening.engine.enumerate import plans as checked_plans
from magnetscreen.screening.engine.merge import Merger, explore_list
from magnetscreen.screening.engine.numba_cache import cache_state
from magnetscreen.screening.engine.pipeline import COLUMNS, Context, score_batch, take
from magnetscreen.screening.engine.ranking import Objectives, rank_confidence, rank_order
from magnetscreen.screening.engine.records import to_json
from magnetscreen.screening.engine.state import ChunkState
from magnetscreen.screening.engine.workers import WorkersRequest, check_workers

__all__ = ["ScreeningResult", "screen", "REFERENCE_MAGNETS", "resolve_run_inputs", "DEFAULT_MAX_CANDIDATES",
           "TOP_DISCLOSED", "run_context"]

#: Reference magnets scored beside every run: label -> (formula, built-in family whose temperature law applies).
REFERENCE_MAGNETS = {
    "Nd2Fe14B": ("Nd2Fe14B", "2-14-1"),
    "(Nd0.8Dy0.2)2Fe14B": ("(Nd0.8Dy0.2)2Fe14B", "2-14-1"),
    "SmCo5": ("SmCo5", "SmCo5"),
    "Sm2Co17": ("Sm2Co17", "Sm2Co17"),
    "SrFe12O19": ("SrFe12O19", "M-hexaferrite"),
}
#: Largest plan a run accepts unless told otherwise (``[run] max_candidates`` or ``--max-candidates``).
DEFAULT_MAX_CANDIDATES = 10**9
#: Shortlisted rows whose full heavy-rare-earth and supply disclosure is saved for the report.
TOP_DISCLOSED = 10


@dataclass(frozen=True)
class ScreeningResult:
    """What :func:`screen` returns: the ranked table, shortlist, explore list, references and manifest."""

    run_dir: Path
    ranked: pd.DataFrame
    shortlist: pd.DataFrame
    explore: pd.DataFrame
    references: pd.DataFrame
    manifest: c.Manifest
    supply: c.SupplyRecord


# ------------------------------------------------------------------------------------ resolved inputs

def config_record(config: RunConfig, as_of: dt.date) -> dict:
    """The configuration as parsed (families with their full content), as JSON."""
    s = config.screen
    families = [{"name": f.name, "origin": f.source or "built-in", "family": to_json(asdict(replace(f, source="")))}
                for f in config.families]
    return to_json({
        "families": families,
        "seed": config.seed,
        "chunk_size": config.chunk_size,
        "operating_temperature_K": config.operating_temperature_K,
        "hree_set": config.hree_set,
        "screen": {k: v for k, v in asdict(s).items() if k not in ("scenario_path", "as_of")},
        "as_of": as_of,
    })


def _scenario_record(scenario) -> c.ScenarioRecord:
    from magnetscreen.datasets.supply import scenario_names

    origin = scenario.path or "built-in"
    if scenario.name in scenario_names() and scenario.path.startswith("scenarios/"):
        from importlib import resources

        raw = (resources.files("magnetscreen.datasets") / "data" / scenario.path).read_bytes()
    else:
        raw = Path(scenario.path).read_bytes()
    return c.ScenarioRecord(name=scenario.name, date=scenario.date.isoformat(), description=scenario.description,
                            origin=origin, sha256=bytes_sha256(raw))


def _data_hashes() -> dict[str, str]:
    from magnetscreen.datasets.supply import load_supply_table, supply_table_names
    from magnetscreen.datasets.tables import load_table, table_names

    out = {}
    for name in table_names():
        if name != "elements":
            out[name] = load_table(name).attrs["provenance"]["sha256"]
    for name in supply_table_names():
        out[f"supply/{name}"] = load_supply_table(name).attrs["provenance"]["sha256"]
    from magnetscreen.datasets.prices import load_price_table

    out["supply/prices"] = load_price_table().attrs["provenance"]["sha256"]
    return out


def resolve_run_inputs(config: RunConfig, as_of: dt.date, scenario, element_risk: np.ndarray,
                       model_files: dict[str, str], prices=None) -> c.ResolvedInputs:
    """Everything that can change a score, resolved and hashed (the resume key is its hash)."""
    record = _scenario_record(scenario)
    price_hash = "" if prices is None else bytes_sha256(np.concatenate([prices.mid, prices.low, prices.high]).tobytes())
    return c.ResolvedInputs(
        config=config_record(config, as_of),
        scenario={"name": record.name, "origin": record.origin, "sha256": record.sha256},
        model_files=dict(sorted(model_files.items())),
        data=_data_hashes(),
        element_risk_sha256=bytes_sha256(np.ascontiguousarray(element_risk, dtype=np.float64).tobytes()),
        package_version=package_version(),
        element_price_sha256=price_hash,
    )


def _laws(config: RunConfig) -> dict[str, str]:
    """The temperature law each family of the run is scaled with."""
    s = config.screen
    out = {}
    for family in config.families:
        if s.temperature_law == "uniform":
            out[family.name] = f"s {s.kuzmin_s:.3g}, n {s.k1_exponent:.3g} (run values, uniform)"
        else:
            out[family.name] = law_for(family.name, s.kuzmin_s, s.k1_exponent)[2]
    return out


def _settings(config: RunConfig, as_of: dt.date, scenario) -> c.RunSettings:
    s = config.screen
    constraints = [c.ConstraintRecord(r.name, r.column, r.op, r.value) for r in s.requirements]
    if s.grade:
        constraints.append(c.ConstraintRecord(f"grade {s.grade} at T_op", "grade", "meets", s.grade))
    if s.require_in_domain:
        constraints.append(c.ConstraintRecord("in_domain", "in_domain", "==", True))
    return c.RunSettings(
        name=config.name, source=config.source, seed=config.seed, chunk_size=config.chunk_size,
        families=[f.name for f in config.families], operating_temperature_K=config.operating_temperature_K,
        hree_set=config.hree_set, scenario=scenario.name, as_of=as_of.isoformat(), risk_threshold=s.risk_threshold,
        route=c.RouteRecord(s.alpha, s.n_eff, s.remanence_factor, s.kuzmin_s, s.k1_exponent, s.temperature_law,
                            _laws(config)),
        metric=s.metric, risk_objective=s.risk, pessimistic_k=s.pessimistic_k, h0_g_per_kg=s.h0_g_per_kg,
        shortlist_size=s.shortlist_size, keep=s.keep, explore_size=s.explore_size, explore_k=s.explore_k,
        constraints=constraints,
        composition_constraints=[c.CompositionConstraintRecord(k.kind, list(k.elements), k.value)
                                 for k in config.constraints],
        objectives=list(s.objectives),
    )


def controlled_elements(as_of: dt.date, scenario) -> tuple[str, ...]:
    """Elements under an export control in force at ``as_of`` under ``scenario``, by atomic number."""
    from magnetscreen.datasets.elements import symbol_to_z
    from magnetscreen.datasets.supply import active_controls
    from magnetscreen.models.risk import resolve_inputs

    return tuple(sorted(active_controls(as_of, resolve_inputs(scenario).events), key=symbol_to_z().__getitem__))


def run_context(config: RunConfig, as_of: dt.date, scenario, element_risk: np.ndarray | None = None,
                models_dir: str | Path | None = None, all_dir: Path | None = None, prices=None) -> Context:
    """The :class:`Context` a run of ``config`` scores its chunks with (element risk and prices from ``as_of``
    and ``scenario`` unless given)."""
    from magnetscreen.models.risk import element_price_arrays, element_risk_array

    if element_risk is None:
        element_risk = element_risk_array(as_of, scenario)
    if prices is None:
        prices = element_price_arrays(as_of, scenario)
    return Context(families=config.families, chunk_size=config.chunk_size, seed=config.seed,
                   temperature_K=config.operating_temperature_K, hree_set=config.hree_set, settings=config.screen,
                   element_risk=element_risk, as_of=as_of, prices=prices,
                   controlled=controlled_elements(as_of, scenario),
                   models_dir=str(models_dir) if models_dir is not None else None,
                   all_dir=str(all_dir) if all_dir is not None else None)


# ------------------------------------------------------------------------------------------- results

def _counts(plans, merger: Merger, ranked: pd.DataFrame) -> c.Counts:
    families = {}
    by_family: dict[str, dict[str, int]] = {}
    removed: dict[str, int] = {}
    for plan in plans:
        k = merger.counts[plan.family.name]
        families[plan.family.name] = c.FamilyCounts(
            enumerated=plan.total, composition_ok=k["composition_ok"], passed=k["passed"], in_domain=k["in_domain"],
            survivors=int((ranked["family"] == plan.family.name).sum()))
        by_family[plan.family.name] = dict(sorted(k["removed_by"].items()))
        dropped = plan.total - k["composition_ok"]
        removed["composition constraints"] = removed.get("composition constraints", 0) + dropped
        for name, n in k["removed_by"].items():
            removed[name] = removed.get(name, 0) + n
    scored = sum(f.composition_ok for f in families.values())
    return c.Counts(
        enumerated=sum(f.enumerated for f in families.values()), scored=scored,
        passed=sum(f.passed for f in families.values()), survivors=int(len(ranked)),
        in_domain_share=(sum(f.in_domain for f in families.values()) / scored) if scored else None,
        survivors_in_domain_share=float(ranked["in_domain"].mean()) if len(ranked) else None,
        families=families, removed_by=dict(sorted(removed.items())), removed_by_family=by_family)


def _warnings(counts: c.Counts) -> list[str]:
    out = []
    share = counts.in_domain_share
    if share is not None and share < 0.5:
        out.append(f"{(1 - share) * 100:.0f} % of the scored candidates lie outside the models' domain of "
                   "applicability: their predictions are extrapolations.")
    if counts.scored:
        worst = max(((n, name) for name, n in counts.removed_by.items() if name != "composition constraints"),
                    default=None)
        if worst and worst[0] > 0.5 * counts.scored:
            out.append(f"The requirement {worst[1]!r} removed {worst[0]} of {counts.scored} scored candidates "
                       f"({worst[0] / counts.scored * 100:.0f} %).")
    if counts.passed == 0:
        out.append("No candidate met every requirement: the shortlist is empty.")
    return out


def _references(ctx: Context) -> pd.DataFrame:
    from magnetscreen.datasets.families import builtin_family
    from magnetscreen.descriptors.encoding import encode

    rows = []
    for formula, family in REFERENCE_MAGNETS.values():
        batch = encode([formula])
        cols = score_batch(ctx, batch, family=builtin_family(family))
        cols["family"] = np.full(1, "reference")
        cols["candidate_index"] = np.zeros(1, dtype=np.int64)
        cols["formula"] = batch.names()
        rows.append(pd.DataFrame(take(cols, slice(None))).drop(columns=["candidate_index"]))
    frame = pd.concat(rows, ignore_index=True)
    frame.insert(0, "label", list(REFERENCE_MAGNETS))
    return frame


def control_records(as_of: dt.date, scenario, frames: list[pd.DataFrame]) -> list[c.ControlRecord]:
    """The export controls in force at ``as_of`` on elements that rows of ``frames`` contain (their
    ``controlled_elements``), element by element in atomic-number order, with how many rows contain each."""
    from magnetscreen.datasets.elements import element_symbols
    from magnetscreen.datasets.supply import active_controls
    from magnetscreen.models.risk import resolve_inputs

    symbols = element_symbols()
    in_force = active_controls(as_of, resolve_inputs(scenario).events)
    present = [set(str(text).split()) for frame in frames if len(frame) for text in frame["controlled_elements"]]
    out = []
    for symbol in sorted(in_force, key=symbols.index):
        n = sum(symbol in row for row in present)
        for event in in_force[symbol] if n else ():
            out.append(c.ControlRecord(symbol, event.event_id, event.action, event.country, event.announcement,
                                       event.effective.isoformat() if event.effective else "any date", n))
    return out


def _supply(shortlist: pd.DataFrame, explore: pd.DataFrame, ctx: Context, scenario) -> c.SupplyRecord:
    from magnetscreen.datasets.elements import element_symbols
    from magnetscreen.descriptors.encoding import encode
    from magnetscreen.models.disclosure import disclose
    from magnetscreen.models.risk import data_vintage, risk_contributions, vintage_warning

    risk = ctx.element_risk
    symbols = element_symbols()
    formulas = shortlist["formula"].tolist()
    breakdown = []
    if formulas:
        for (row, (contributions, covered)) in zip(shortlist.itertuples(index=False),
                                                    risk_contributions(encode(formulas), risk, ctx.prices)):
            breakdown.append(c.RiskBreakdown(int(row.rank), str(row.family), int(row.candidate_index), str(row.formula),
                                             contributions, covered))
    top = formulas[:TOP_DISCLOSED]
    records = disclose(top, as_of=ctx.as_of, scenario=scenario) if top else []
    zs = np.unique(encode(formulas).elements) if formulas else np.zeros(0, dtype=np.int16)
    present = [symbols[int(z)] for z in zs if z > 0]
    prices: dict[str, dict] = {}
    table = ctx.prices.table.set_index("element")
    for symbol in present:
        if symbol in table.index:
            row = table.loc[symbol]
            prices[symbol] = {"usd_per_kg": float(row["usd_per_kg"]), "low": float(row["usd_per_kg_low"]),
                              "high": float(row["usd_per_kg_high"]), "scale": float(row["scale"]),
                              "date": str(row["date"]), "conversion": str(row["conversion"]),
                              "source": str(row["source"]), "locator": str(row["locator"])}
    controls = control_records(ctx.as_of, scenario, [shortlist, explore])
    return c.SupplyRecord(
        as_of=ctx.as_of.isoformat(), scenario=_scenario_record(scenario),
        element_risk={s: float(risk[symbols.index(s)]) for s in present if np.isfinite(risk[symbols.index(s)])},
        breakdown=breakdown, disclosures=to_json(records), element_price=prices, controls=controls,
        vintage={k: v.isoformat() for k, v in data_vintage().items()}, vintage_warning=vintage_warning(ctx.as_of))


# ---------------------------------------------------------------------------------------------- main

def _progress(total: int, quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="cand", unit_scale=True, desc="screening", file=sys.stderr)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while a run works, so that workers and locks are cleaned up."""
    if not hasattr(signal, "SIGTERM") or sys.platform == "win32":
        yield
        return
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: Writes further outputs of a finished run (the report) before the manifest is marked complete; returns the
#: outputs it wrote, name -> file name. Called with the run's data as it will be read back.
Finalizer = Callable[[c.RunData], dict[str, str]]


def screen(config: RunConfig, *, out: str | Path | None = None, workers: WorkersRequest | None = None,
           scheduler: str | None = None, dask_workers: int | None = None, models_dir: str | Path | None = None,
           quiet: bool = True, finalize: Finalizer | None = None, max_candidates: int | None = None
           ) -> ScreeningResult:
    """Run a screening and write its run folder (see the run contract).

    This is the engine's loop; :func:`magnetscreen.screening.screen` adds the report (``finalize``).

    Parameters
    ----------
    config : RunConfig
    out : path, optional
        Run folder (default ``config.output_dir``).
    workers : int or "auto", optional
        Local worker processes through joblib (default ``config.workers``, itself ``"auto"`` by default:
        processes and numba threads from the cores and the work left, see
        :mod:`magnetscreen.screening.engine.workers`); 1 runs in this process. Used when the cluster
        (``config.cluster``) is of kind ``local``.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``); chunks run on its workers. Overrides
        ``config.cluster`` (as ``--scheduler`` does).
    dask_workers : int, optional
        Start a Dask LocalCluster with this many single-threaded worker processes. Overrides
        ``config.cluster`` (as ``--dask-workers`` does).
    models_dir : path, optional
        Model folder (default the shipped models).
    quiet : bool, default=True
        No progress bar (it is shown only on a terminal anyway) and no log lines on stderr (what ``auto``
        chose, a cluster waiting for workers).
    finalize : callable, optional
        Writes further outputs from the finished run's data before the manifest is marked complete.
    max_candidates : int, optional
        Refuse a plan of more candidates (default ``config.max_candidates``).

    Returns
    -------
    ScreeningResult

    Raises
    ------
    ConfigError
        Bad options, or a plan larger than ``max_candidates`` (with its exact count).
    RunError
        The run folder is in use by another run.
    """
    started = time.perf_counter()
    folder = c.RunFolder(out if out is not None else config.output_dir)
    workers = check_workers(config.workers if workers is None else workers, "--workers")
    config = with_cluster_options(config, scheduler=scheduler, dask_workers=dask_workers)
    check_backend(config.cluster)
    log = _log(quiet)
    numba_cache = cache_state()
    if numba_cache.cold:  # told before the kernels compile, so that a silent minute is explained
        log(f"numba is compiling the screening's kernels ({len(numba_cache.missing)} not in its cache at "
            f"{numba_cache.location}; about a minute, once per cache); `magnetscreen warmup` does this ahead of time")
    from magnetscreen.datasets.supply import load_scenario
    from magnetscreen.models.risk import element_price_arrays, element_risk_array, parse_as_of, vintage_warning
    from magnetscreen.models.surrogates import load_surrogates

    s = config.screen
    scenario = load_scenario(s.scenario_path or s.scenario)
    checked_plans(config, max_candidates)  # refuse a plan too large before anything is enumerated
    probe = run_context(config, dt.date.today(), scenario, element_risk=np.zeros(0))
    plans = [probe.plan(i) for i in range(len(config.families))]
    models = load_surrogates(models_dir)

    with folder.lock(), _terminate_as_interrupt():
        previous = folder.previous_manifest()
        reuse = previous is not None and previous.status != "complete"
        as_of = s.as_of or (parse_as_of(previous.config.as_of) if reuse and previous is not None else dt.date.today())
        element_risk = element_risk_array(as_of, scenario)
        prices = element_price_arrays(as_of, scenario)
        stale = vintage_warning(as_of)
        if stale and not quiet:
            print(f"warning: {stale}", file=sys.stderr)
        inputs = resolve_run_inputs(config, as_of, scenario, element_risk, models.files, prices)
        key = inputs.key
        ctx = run_context(config, as_of, scenario, element_risk, models_dir,
                          folder.candidates_dir if s.write_all else None, prices)
        state = ChunkState(folder.state_dir(key))
        state.prepare()
        folder.clear_results()
        manifest = c.Manifest(
            status="running", created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            magnetscreen_version=package_version(), versions=versions(), resume_key=key, inputs=inputs,
            config=_settings(config, as_of, scenario), models=models.cards, numba_cache=numba_cache.record())
        folder.write_manifest(manifest)
        try:
            return _run(config, folder, manifest, ctx, plans, state, workers, scenario, started, quiet, finalize)
        except (MagnetscreenError, OSError) as exc:
            try:
                folder.write_manifest(manifest.finish("failed", error=str(exc)))
            except (MagnetscreenError, OSError):
                pass
            raise


#: Most chunks a task holds (see :func:`group_tasks`).
MAX_GROUP = 8


def group_tasks(n_chunks: list[int]) -> list[tuple[int, int, int]]:
    """The tasks of a run: (family index, first chunk, number of chunks), consecutive chunks of one family.

    A worker scores a task's chunks and combines their survivors and explore candidates before it returns
    (:func:`~magnetscreen.screening.engine.merge.score_group`), so the main process merges, and saves as resume
    state, one result per task instead of one per chunk. Runs of fewer than 256 chunks keep one chunk per task (the
    tasks stay small and many, for load balance and resume); larger runs take ``total // 128`` chunks per task, at
    most :data:`MAX_GROUP`: at least 128 tasks in every run. The grouping depends on the chunk counts alone, not on
    the workers, so a run resumed with another worker count finds its finished tasks; the results do not depend on
    it (the pruning lemma).
    """
    size = max(1, min(MAX_GROUP, sum(n_chunks) // 128))
    return [(i, k, min(size, n - k)) for i, n in enumerate(n_chunks) for k in range(0, n, size)]


def _log(quiet: bool) -> Callable[[str], None]:
    def log(line: str) -> None:
        if not quiet:
            print(f"magnetscreen: {line}", file=sys.stderr, flush=True)

    return log


def _run(config: RunConfig, folder: c.RunFolder, manifest: c.Manifest, ctx: Context, plans, state: ChunkState,
         workers: WorkersRequest, scenario, started: float, quiet: bool, finalize: Finalizer | None
         ) -> ScreeningResult:
    s = config.screen
    tasks = group_tasks([p.n_chunks for p in plans])
    merger = Merger(s, [f.name for f in config.families])
    todo = []
    resumed = 0
    for task in tasks:
        result = state.load(task)
        if result is None:
            todo.append(task)
        else:
            merger.add(config.families[task[0]].name, result)
            resumed += task[2]

    def size(task: tuple[int, int, int]) -> int:
        family, first, count = task
        return min(plans[family].total, (first + count) * config.chunk_size) - first * config.chunk_size

    log = _log(quiet)
    backend = choose_backend(workers, config.cluster, chunks=sum(t[2] for t in todo),
                             candidates=sum(size(t) for t in todo))
    log(backend.describe())
    usage = Usage()
    bar = _progress(sum(p.total for p in plans), quiet)

    if bar is not None:
        waiting = set(todo)
        bar.update(sum(size(t) for t in tasks if t not in waiting))
    t_loop = time.perf_counter()
    for task, result in run_tasks(ctx, todo, backend, usage, log):
        state.save(task, result)
        merger.add(config.families[task[0]].name, result)
        if bar is not None:
            bar.update(size(task))
    if bar is not None:
        bar.close()
    loop_s = time.perf_counter() - t_loop

    objectives = Objectives.of(s)
    order, front = rank_order(merger.pool, objectives)
    ranked = pd.DataFrame({k: v[order] for k, v in merger.pool.items()}, columns=list(COLUMNS))
    p_top = rank_confidence(merger.pool, objectives, s.shortlist_size, config.seed, s.pessimistic_k, s.h0_g_per_kg)
    ranked.insert(0, "p_top", p_top[order])
    ranked.insert(0, "front", front[order].astype(np.int64))
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1, dtype=np.int64))
    shortlist = ranked.head(s.shortlist_size)
    shortlisted = set(zip(shortlist["family"], shortlist["candidate_index"].astype(int)))
    explore = explore_list(merger.explore, shortlisted, s.explore_size)
    references = _references(ctx)
    supply = _supply(shortlist, explore, ctx, scenario)
    ranked = folder.write_table("ranked", ranked)  # the frames as a reader of the folder will see them
    shortlist = folder.write_table("shortlist", shortlist)
    explore = folder.write_table("explore", explore)
    references = folder.write_table("references", references)
    folder.write_supply(supply)

    counts = _counts(plans, merger, ranked)
    outputs = {"ranked": "ranked.parquet", "shortlist": "shortlist.csv", "explore": "explore.csv",
               "references": "references.parquet", "supply": "supply.json"}
    if s.write_all:
        outputs["candidates"] = "candidates/"
    timings = c.Timings(total_s=time.perf_counter() - started, loop_s=loop_s, chunks=sum(t[2] for t in tasks),
                        chunks_resumed=resumed,
                        candidates_per_s=counts.enumerated / loop_s if loop_s > 0 else None, backend=backend.kind,
                        workers=usage.workers or backend.workers,
                        threads_per_worker=usage.threads_per_worker or backend.threads_per_worker,
                        workers_requested=str(workers) if backend.kind == "local" else None,
                        workers_note=backend.describe(), scheduler=usage.scheduler)
    warnings = _warnings(counts) + ([supply.vintage_warning] if supply.vintage_warning else [])
    final = manifest.finish("complete", counts=counts, timings=timings, warnings=warnings, outputs=outputs)
    if finalize is not None:
        extra = finalize(c.RunData(folder.path, final, ranked, references, explore, supply))
        final = replace(final, outputs={**outputs, **extra})
    folder.write_manifest(final)  # the last write: the run is complete only now
    state.remove()
    return ScreeningResult(folder.path, ranked, shortlist, explore, references, final, supply)

