"""The screening loop: chunks of every family through the pipeline, on joblib or Dask workers, merged
into a ranked shortlist that does not depend on worker count, chunk size or input order.

Run directory (``config.output_dir`` or ``out``):

- ``manifest.json``: written with ``"status": "running"`` when the run starts and rewritten with
  ``"status": "complete"`` as the very last step; config, seed, versions, model and data hashes, counts,
  timings.
- ``ranked.parquet``: every candidate that met the requirements and is dominated by fewer than
  ``screen.keep`` others, ranked (:mod:`magnetscreen.screening.engine.ranking`); ``shortlist.csv``: its first
  ``screen.shortlist_size`` rows; ``explore.csv``: next experiments; ``references.parquet``: the
  reference magnets scored the same way; ``candidates/`` (with ``screen.write_all``): every scored
  candidate.
- ``.state/<config hash>/``: one file per finished chunk. A run that is killed and restarted with the
  same command skips the finished chunks and ends with byte-identical result files (the manifest's
  timings differ). Result files are written under temporary names and renamed, so a run that has not
  finished never leaves files that look complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.models.risk import element_risk_array, parse_as_of
from magnetscreen.screening.engine.config import RunConfig
from magnetscreen.screening.engine.outputs import atomic_path
from magnetscreen.screening.engine.pipeline import COLUMNS, STRING_COLUMNS, Context, explore_order, score_batch, score_chunk
from magnetscreen.screening.engine.ranking import prune, rank_order

__all__ = ["ScreeningResult", "screen", "REFERENCE_MAGNETS", "config_record"]

#: Reference magnets scored beside every run: label -> formula.
REFERENCE_MAGNETS = {
    "Nd2Fe14B": "Nd2Fe14B",
    "(Nd0.8Dy0.2)2Fe14B": "(Nd0.8Dy0.2)2Fe14B",
    "SmCo5": "SmCo5",
    "Sm2Co17": "Sm2Co17",
    "SrFe12O19": "SrFe12O19",
}
RESULT_FILES = ("ranked.parquet", "shortlist.csv", "explore.csv", "references.parquet")


@dataclass(frozen=True)
class ScreeningResult:
    """What :func:`screen` returns: the ranked table, shortlist, explore list and manifest."""

    run_dir: Path
    ranked: pd.DataFrame
    shortlist: pd.DataFrame
    explore: pd.DataFrame
    references: pd.DataFrame
    manifest: dict


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def config_record(config: RunConfig, as_of: dt.date) -> dict:
    """The parts of ``config`` that determine the results, as JSON (hashed to name the run state)."""
    s = config.screen
    families = []
    for f in config.families:
        families.append({"name": f.name, "source": f.source or "built-in", "family": _jsonable(asdict(replace(f, source="")))})
    return _jsonable({
        "families": families,
        "seed": config.seed,
        "chunk_size": config.chunk_size,
        "operating_temperature_K": config.operating_temperature_K,
        "hree_set": config.hree_set,
        "screen": {k: v for k, v in asdict(s).items() if k not in ("scenario_path", "as_of")},
        "as_of": as_of,
    })


def _hash(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("magnetscreen", "numpy", "numba", "scikit-learn", "pymatgen", "pandas", "pyarrow", "joblib", "dask",
                "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


# ------------------------------------------------------------------------------------------- state files

def _state_path(state: Path, task: tuple[int, int]) -> Path:
    return state / f"f{task[0]:03d}-c{task[1]:06d}"


def _save_task(state: Path, task: tuple[int, int], result: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = _state_path(state, task)
    for part in ("survivors", "explore"):
        with atomic_path(base.with_suffix(f".{part}.parquet")) as tmp:
            pq.write_table(pa.table(result[part]), tmp)
    with atomic_path(base.with_suffix(".json")) as tmp:  # written last: marks the task as done
        tmp.write_text(json.dumps(result["counts"], sort_keys=True), encoding="utf-8")


def _load_task(state: Path, task: tuple[int, int]) -> dict | None:
    import pyarrow.parquet as pq

    base = _state_path(state, task)
    done = base.with_suffix(".json")
    if not done.exists():
        return None
    out = {"counts": json.loads(done.read_text(encoding="utf-8"))}
    for part in ("survivors", "explore"):
        table = pq.read_table(base.with_suffix(f".{part}.parquet"))
        out[part] = {c: _column(table.column(c).to_numpy(zero_copy_only=False), c) for c in COLUMNS}
    return out


def _column(values: np.ndarray, name: str) -> np.ndarray:
    if name in STRING_COLUMNS:
        return np.asarray(values, dtype=str)
    return np.asarray(values)


# ----------------------------------------------------------------------------------------------- merging

def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = [p for p in parts if len(p["formula"])]
    if not parts:
        return {c: np.zeros(0, dtype=str if c in STRING_COLUMNS else float) for c in COLUMNS}
    return {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS}


class _Merger:
    """Keeps, across chunks, the candidates that can still reach the top ``keep`` and the explore pool."""

    def __init__(self, config: RunConfig):
        self.s = config.screen
        self.pool = _concat([])
        self.explore: dict[str, dict[str, np.ndarray]] = {}
        self.counts: dict[str, dict] = {f.name: {"composition_ok": 0, "passed": 0, "in_domain": 0, "removed_by": {}}
                                        for f in config.families}
        self.done = 0

    def add(self, family: str, result: dict) -> None:
        merged = _concat([self.pool, result["survivors"]])
        mask = prune(merged, self.s.keep, self.s.risk)
        self.pool = {c: v[mask] for c, v in merged.items()}
        pool = _concat([self.explore.get(family, _concat([])), result["explore"]])
        order = explore_order(pool)[: self.s.explore_size + self.s.shortlist_size]
        self.explore[family] = {c: v[order] for c, v in pool.items()}
        counts = self.counts[family]
        for key in ("composition_ok", "passed", "in_domain"):
            counts[key] += result["counts"][key]
        for name, n in result["counts"]["removed_by"].items():
            counts["removed_by"][name] = counts["removed_by"].get(name, 0) + n
        self.done += 1


def _frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({c: cols[c] for c in COLUMNS})


def _explore_list(explore: dict[str, dict[str, np.ndarray]], shortlisted: set[tuple[str, int]], size: int) -> pd.DataFrame:
    """Round-robin over families (by name), each family's best remaining candidate by upside in turn."""
    queues = {}
    for family in sorted(explore):
        cols = explore[family]
        rows = [i for i in range(len(cols["formula"]))
                if (family, int(cols["candidate_index"][i])) not in shortlisted]
        queues[family] = rows
    picked = []
    while len(picked) < size and any(queues.values()):
        for family in sorted(queues):
            if queues[family] and len(picked) < size:
                picked.append((family, queues[family].pop(0)))
    records = [{c: explore[f][c][i] for c in COLUMNS} for f, i in picked]
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    frame.insert(0, "explore_rank", np.arange(1, len(frame) + 1))
    return frame


# ---------------------------------------------------------------------------------------------- backends

def _run_tasks(ctx: Context, tasks: list[tuple[int, int]], workers: int, scheduler: str | None,
               dask_workers: int | None):
    """Yield ``(task, result)`` as tasks finish, on the chosen backend."""
    if scheduler is not None or dask_workers is not None:
        yield from _run_dask(ctx, tasks, scheduler, dask_workers)
        return
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, score_chunk(ctx, *task)
        return
    from joblib import Parallel, delayed

    threads = max(1, (os.cpu_count() or 1) // workers)
    parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(_worker_task)(ctx, task, threads) for task in tasks)


def _worker_task(ctx: Context, task: tuple[int, int], threads: int):
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return task, score_chunk(ctx, *task)


def _run_dask(ctx: Context, tasks, scheduler: str | None, dask_workers: int | None):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("the Dask backend needs dask[distributed]: pip install 'magnetscreen[dask]'") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=dask_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler ({exc})") from None
    try:
        shared = client.scatter(ctx, broadcast=True)
        futures = [client.submit(_dask_task, shared, task, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_task(ctx: Context, task: tuple[int, int]):
    return task, score_chunk(ctx, *task)


# -------------------------------------------------------------------------------------------------- main

def _progress(total: int, quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="cand", unit_scale=True, desc="screening", file=sys.stderr)


def screen(config: RunConfig, *, out: str | Path | None = None, workers: int | None = None,
           scheduler: str | None = None, dask_workers: int | None = None, models_dir: str | Path | None = None,
           quiet: bool = True, report: bool = True) -> ScreeningResult:
    """Run a screening and write its run directory.

    Parameters
    ----------
    config : RunConfig
    out : path, optional
        Run directory (default ``config.output_dir``).
    workers : int, optional
        Local worker processes through joblib (default ``config.workers``); 1 runs in this process.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``); chunks run on its workers.
    dask_workers : int, optional
        Start a Dask LocalCluster with this many single-threaded worker processes.
    models_dir : path, optional
        Model folder (default the shipped models).
    quiet : bool, default=True
        No progress bar (it is shown only on a terminal anyway).
    report : bool, default=True
        Also write ``report.html``.

    Returns
    -------
    ScreeningResult
    """
    started = time.perf_counter()
    run_dir = Path(out) if out is not None else Path(config.output_dir)
    workers = config.workers if workers is None else workers
    if workers < 1:
        raise ConfigError(f"--workers: expected an integer >= 1, got {workers}")
    if dask_workers is not None and dask_workers < 1:
        raise ConfigError(f"--dask-workers: expected an integer >= 1, got {dask_workers}")
    s = config.screen
    previous = _read_manifest(run_dir)
    as_of = s.as_of or (parse_as_of(previous["config"]["as_of"]) if previous and previous.get("status") == "running"
                        and previous.get("config", {}).get("as_of") else dt.date.today())
    record = config_record(config, as_of)
    digest = _hash(record)
    from magnetscreen.datasets.supply import load_scenario

    scenario = load_scenario(s.scenario_path or s.scenario)
    ctx = Context(families=config.families, chunk_size=config.chunk_size, seed=config.seed,
                  temperature_K=config.operating_temperature_K, hree_set=config.hree_set, settings=s,
                  element_risk=element_risk_array(as_of, scenario), as_of=as_of,
                  models_dir=str(models_dir) if models_dir is not None else None,
                  all_dir=str(run_dir / "candidates") if s.write_all else None)
    models = ctx.models()
    plans = [ctx.plan(i) for i in range(len(config.families))]
    tasks = [(i, c) for i, p in enumerate(plans) for c in range(p.n_chunks)]
    state = run_dir / ".state" / digest[:16]
    if (run_dir / ".state").is_dir():  # finished chunks of another configuration cannot be reused
        for other in (run_dir / ".state").iterdir():
            if other != state:
                shutil.rmtree(other, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)
    for name in RESULT_FILES + ("report.html",):
        (run_dir / name).unlink(missing_ok=True)
    manifest = {
        "schema": "magnetscreen-run", "schema_version": 1, "status": "running",
        "magnetscreen_version": _versions()["magnetscreen"], "versions": _versions(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "config_sha256": digest,
        "config": _config_summary(config, as_of, scenario),
    }
    _write_json(run_dir / "manifest.json", manifest)

    merger = _Merger(config)
    todo = []
    resumed = 0
    for task in tasks:
        result = _load_task(state, task)
        if result is None:
            todo.append(task)
        else:
            merger.add(config.families[task[0]].name, result)
            resumed += 1
    bar = _progress(sum(p.total for p in plans), quiet)
    def _size(task):
        return min(plans[task[0]].total, (task[1] + 1) * config.chunk_size) - task[1] * config.chunk_size

    if bar is not None:
        waiting = set(todo)
        bar.update(sum(_size(t) for t in tasks if t not in waiting))
    t_loop = time.perf_counter()
    for task, result in _run_tasks(ctx, todo, workers, scheduler, dask_workers):
        _save_task(state, task, result)
        merger.add(config.families[task[0]].name, result)
        if bar is not None:
            bar.update(_size(task))
    if bar is not None:
        bar.close()
    loop_s = time.perf_counter() - t_loop

    order, front = rank_order(merger.pool, s.risk)
    ranked = _frame({c: v[order] for c, v in merger.pool.items()})
    ranked.insert(0, "front", front[order])
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    shortlist = ranked.head(s.shortlist_size)
    shortlisted = set(zip(shortlist["family"], shortlist["candidate_index"].astype(int)))
    explore = _explore_list(merger.explore, shortlisted, s.explore_size)
    references = _references(ctx)
    _write_parquet(run_dir / "ranked.parquet", ranked)
    _write_csv(run_dir / "shortlist.csv", shortlist)
    _write_csv(run_dir / "explore.csv", explore)
    _write_parquet(run_dir / "references.parquet", references)

    counts = _counts(config, plans, merger, ranked)
    manifest.update({
        "counts": counts,
        "models": models.cards,
        "model_files": models.files,
        "data": _data_hashes(),
        "timings": {"total_s": time.perf_counter() - started, "loop_s": loop_s, "chunks": len(tasks),
                    "chunks_resumed": resumed, "candidates_per_s": counts["enumerated"] / loop_s if loop_s > 0 else None,
                    "workers": workers, "backend": "dask" if (scheduler or dask_workers) else "joblib"},
        "warnings": _warnings(counts, s),
        "outputs": {"ranked": "ranked.parquet", "shortlist": "shortlist.csv", "explore": "explore.csv",
                    "references": "references.parquet", **({"candidates": "candidates/"} if s.write_all else {})},
    })
    if report:
        _write_json(run_dir / "manifest.json", {**manifest, "status": "complete"})
        try:
            from magnetscreen.screening.report.render import write_report
        except ImportError:  # pragma: no cover - report module not installed
            pass
        else:
            write_report(run_dir)
            manifest["outputs"]["report"] = "report.html"
    manifest["status"] = "complete"
    _write_json(run_dir / "manifest.json", manifest)
    shutil.rmtree(run_dir / ".state", ignore_errors=True)
    return ScreeningResult(run_dir, ranked, shortlist, explore, references, manifest)


def _read_manifest(run_dir: Path) -> dict | None:
    path = run_dir / "manifest.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise ConfigError(f"{path}: not valid JSON; is {run_dir} a magnetscreen run folder?") from None


def _config_summary(config: RunConfig, as_of: dt.date, scenario) -> dict:
    s = config.screen
    return _jsonable({
        "name": config.name, "source": config.source, "seed": config.seed, "chunk_size": config.chunk_size,
        "workers": config.workers, "families": [f.name for f in config.families],
        "operating_temperature_K": config.operating_temperature_K, "hree_set": config.hree_set,
        "scenario": scenario.name, "as_of": as_of, "risk_threshold": s.risk_threshold,
        "route": {"alpha": s.alpha, "n_eff": s.n_eff, "remanence_factor": s.remanence_factor,
                  "kuzmin_s": s.kuzmin_s, "k1_exponent": s.k1_exponent},
        "metric": s.metric, "risk_objective": s.risk, "pessimistic_k": s.pessimistic_k,
        "h0_g_per_kg": s.h0_g_per_kg, "shortlist_size": s.shortlist_size, "keep": s.keep,
        "explore_size": s.explore_size, "explore_k": s.explore_k,
        "constraints": [{"name": r.name, "column": r.column, "op": r.op, "value": r.value} for r in s.requirements]
        + ([{"name": f"grade {s.grade} at T_op", "column": "grade", "op": "meets", "value": s.grade}] if s.grade else [])
        + ([{"name": "in_domain", "column": "in_domain", "op": "==", "value": True}] if s.require_in_domain else []),
        "composition_constraints": [asdict(c) for c in config.constraints],
    })


def _counts(config: RunConfig, plans, merger: _Merger, ranked: pd.DataFrame) -> dict:
    families = {}
    by_family: dict[str, dict] = {}
    removed: dict[str, int] = {}
    for plan in plans:
        c = merger.counts[plan.family.name]
        families[plan.family.name] = {
            "enumerated": plan.total, "composition_ok": c["composition_ok"], "passed": c["passed"],
            "in_domain": c["in_domain"], "survivors": int((ranked["family"] == plan.family.name).sum()),
        }
        by_family[plan.family.name] = dict(sorted(c["removed_by"].items()))
        removed["composition constraints"] = removed.get("composition constraints", 0) + plan.total - c["composition_ok"]
        for name, n in c["removed_by"].items():
            removed[name] = removed.get(name, 0) + n
    enumerated = sum(f["enumerated"] for f in families.values())
    scored = sum(f["composition_ok"] for f in families.values())
    return {
        "enumerated": enumerated, "scored": scored, "passed": sum(f["passed"] for f in families.values()),
        "survivors": int(len(ranked)), "in_domain_share": (sum(f["in_domain"] for f in families.values()) / scored
                                                           if scored else None),
        "survivors_in_domain_share": float(ranked["in_domain"].mean()) if len(ranked) else None,
        "families": families, "removed_by": dict(sorted(removed.items())), "removed_by_family": by_family,
    }


def _warnings(counts: dict, s) -> list[str]:
    out = []
    share = counts["in_domain_share"]
    if share is not None and share < 0.5:
        out.append(f"{(1 - share) * 100:.0f} % of the scored candidates lie outside the models' domain of "
                   "applicability: their predictions are extrapolations.")
    scored = counts["scored"]
    if scored:
        worst = max(((n, name) for name, n in counts["removed_by"].items() if name != "composition constraints"),
                    default=None)
        if worst and worst[0] > 0.5 * scored:
            out.append(f"The requirement {worst[1]!r} removed {worst[0]} of {scored} scored candidates "
                       f"({worst[0] / scored * 100:.0f} %).")
    if counts["passed"] == 0:
        out.append("No candidate met every requirement: the shortlist is empty.")
    return out


def _data_hashes() -> dict:
    from magnetscreen.datasets.tables import load_curie, load_intrinsic

    out = {}
    for name, frame in (("intrinsic", load_intrinsic()), ("curie", load_curie())):
        text = frame.to_csv(index=False)
        out[name] = {"rows": int(len(frame)), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    return out


def _references(ctx: Context) -> pd.DataFrame:
    from magnetscreen.descriptors.encoding import encode

    batch = encode(list(REFERENCE_MAGNETS.values()))
    cols = score_batch(ctx, batch)
    cols["family"] = np.full(len(batch), "reference")
    cols["candidate_index"] = np.arange(len(batch))
    cols["formula"] = batch.names()
    frame = _frame(cols).drop(columns=["candidate_index"])
    frame.insert(0, "label", list(REFERENCE_MAGNETS))
    return frame


def _write_json(path: Path, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_jsonable(data), indent=2, allow_nan=False, default=_nan_safe) + "\n",
                       encoding="utf-8")


def _nan_safe(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")
