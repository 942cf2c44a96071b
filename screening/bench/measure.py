"""Measurement code of the benchmark suite (``magnetscreen bench`` and the scripts in ``benchmarks/``).

Candidates: the 2-14-1 family with every site sampled by scrambled Sobol points, ``n_samples = n``, so a
size of ``n`` gives exactly ``n`` candidates (the grid families have fixed sizes). The same candidates go
through every stage and through the end-to-end run.

Stages (timed chunk by chunk, summed over the chunks, on the first ``stage_n`` candidates):

- ``enumerate_encode``: ``plan.chunk(i)`` (numba unranking, Sobol points, encoding, mass fractions);
- ``featurize``: :func:`magnetscreen.descriptors.featurize`;
- ``predict``: :meth:`SurrogateSet.predict_descriptors` (three tree ensembles with their per-tree spread,
  calibrated sigma, domain distances);
- ``physics``: :func:`magnetscreen.models.predictions.score` given those predictions (so it times only the
  temperature scaling, coercivity, (BH)max and their sigma propagation);
- ``risk``: HREE intensity and :func:`composition_risk_arrays`;
- ``rank``: requirement masks, per-chunk pruning, the streaming merge and the final :func:`rank_order`;
- ``end_to_end``: :func:`magnetscreen.screening.engine.screen` (``report=False``) in a fresh process.

Peak memory: for a stage, the ``tracemalloc`` peak of the stage on one chunk (Python and numpy
allocations; memory allocated inside numba kernels is not traced); for an end-to-end run, the
``ru_maxrss`` of a fresh Python process that ran only that size (its main process: joblib or Dask
workers are separate processes and not included).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine.pipeline import STAGES as PIPELINE_STAGES

__all__ = ["SIZES", "parse_size", "bench_config", "machine_info", "library_versions", "memory_bandwidth",
           "summarize", "measure_stages", "stage_traffic", "run_end_to_end", "scaling_counts", "SCHEMA_NAME",
           "SCHEMA_VERSION",
           "STAGES", "DEFAULT_REPEATS", "stage_pass", "StageTimer"]

SCHEMA_NAME = "magnetscreen-bench"
SCHEMA_VERSION = 1
#: Named sizes: candidates of the end-to-end run.
SIZES = {"tiny": 2_000, "small": 100_000, "medium": 1_000_000, "large": 10_000_000}
#: Repeats per measurement when not given.
DEFAULT_REPEATS = {"tiny": 1, "small": 3, "medium": 3, "large": 1}
#: Stage names of a record, in pipeline order.
STAGES = PIPELINE_STAGES + ("end_to_end",)
#: Stages are timed on at most this many candidates (time per candidate is flat beyond a few chunks).
STAGE_CAP = 1_000_000
FAMILY = "2-14-1"
VERSION_PACKAGES = ("magnetscreen", "numpy", "numba", "scikit-learn", "scipy", "pymatgen", "matminer", "dask",
                    "distributed", "joblib", "pandas", "pyarrow", "plotly", "matplotlib")


def parse_size(size: str | int) -> tuple[str, int]:
    """``(label, n)`` for a size name of :data:`SIZES` or a whole number of candidates (>= 100)."""
    if isinstance(size, int) or str(size).replace("_", "").isdigit():
        n = int(str(size).replace("_", ""))
        if n < 100:
            raise ConfigError(f"--size: expected at least 100 candidates, got {n}")
        return str(n), n
    if size not in SIZES:
        raise ConfigError(f"--size: expected one of {', '.join(SIZES)} or a number of candidates, got {size!r}")
    return size, SIZES[size]


def bench_config(n: int, chunk_size: int = 65536, seed: int = 0):
    """The run configuration of ``n`` benchmark candidates (2-14-1, Sobol sampling, default settings)."""
    from magnetscreen.screening.engine.config import parse_config

    return parse_config({"families": [{"name": FAMILY, "sampling": "sobol", "n_samples": int(n)}],
                         "run": {"name": f"bench-{n}", "chunk_size": int(chunk_size), "seed": int(seed)},
                         "supply": {"as_of": "2026-01-01"}}, source="<bench>")


# ------------------------------------------------------------------------------------------- machine

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def machine_info() -> dict:
    """CPU model, logical cores, memory, OS, Python and numba's thread count of this machine."""
    import numba

    return {"cpu_model": _cpu_model(), "cores": os.cpu_count() or 1, "memory_bytes": _memory_bytes(),
            "os": platform.platform(), "arch": platform.machine(), "python": platform.python_version(),
            "numba_threads": int(numba.get_num_threads()), "hostname": platform.node()}


def library_versions() -> dict:
    """Installed version of each package of :data:`VERSION_PACKAGES` (None: not installed)."""
    from magnetscreen.datasets.provenance import versions

    out = versions(VERSION_PACKAGES)
    out.pop("python")
    return out


def memory_bandwidth(nbytes: int = 512 * 2**20, repeats: int = 5) -> dict:
    """Memory-bandwidth bounds of this machine in bytes/s, best of ``repeats`` on an ``nbytes`` array.

    Returns
    -------
    dict
        ``fill_bytes_per_s``: writing the array (the bound for writing a feature matrix);
        ``copy_bytes_per_s``: reading one array and writing another, both counted (stream copy);
        ``nbytes``; ``threads`` (1: numpy).
    """
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    dst.fill(0.0)
    fill = copy = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        dst.fill(1.5)
        fill = min(fill, time.perf_counter() - start)
        start = time.perf_counter()
        np.copyto(dst, src)
        copy = min(copy, time.perf_counter() - start)
    return {"fill_bytes_per_s": nbytes / fill, "copy_bytes_per_s": 2 * nbytes / copy, "nbytes": nbytes, "threads": 1}


def summarize(seconds: list[float], n: int) -> dict:
    """min/median/max of the seconds of ``n`` candidates, and the candidates/s and s/candidate they give."""
    s = np.asarray(seconds, dtype=float)
    lo, med, hi = float(s.min()), float(np.median(s)), float(s.max())
    return {"n": int(n), "repeats": len(s), "seconds": {"min": lo, "median": med, "max": hi},
            "candidates_per_s": {"min": n / hi, "median": n / med, "max": n / lo},
            "seconds_per_candidate": {"min": lo / n, "median": med / n, "max": hi / n}}


# -------------------------------------------------------------------------------------------- stages

def _context(config):
    """The :class:`~magnetscreen.screening.engine.pipeline.Context` that :func:`screen` builds for ``config``."""
    from magnetscreen.datasets.supply import load_scenario
    from magnetscreen.screening.engine.loop import run_context

    s = config.screen
    return run_context(config, s.as_of or dt.date.today(), load_scenario(s.scenario_path or s.scenario))


def stage_pass(config, ctx, plan, n: int, timer) -> tuple[int, int, object]:
    """One pass of the real pipeline over the first ``n`` candidates of ``plan``, timed through its hook.

    Chunks go through :func:`~magnetscreen.screening.engine.pipeline.score_chunk` with ``timer`` and are
    merged by the engine's :class:`~magnetscreen.screening.engine.merge.Merger` (timed as ``rank``), then
    ranked by :func:`~magnetscreen.screening.engine.ranking.rank_order`: the code a run executes.
    """
    from magnetscreen.screening.engine.merge import Merger
    from magnetscreen.screening.engine.pipeline import score_chunk
    from magnetscreen.screening.engine.ranking import Objectives, rank_order

    s = ctx.settings
    merger = Merger(s, [plan.family.name])
    done = 0
    for i in range(plan.n_chunks):
        size = min(plan.chunk_size, plan.total - i * plan.chunk_size, n - done)
        result = score_chunk(ctx, 0, i, timer=timer, limit=size)
        with timer("rank"):
            merger.add(plan.family.name, result)
        done += result.counts["composition_ok"]
        if done >= n:
            break
    with timer("rank"):
        rank_order(merger.pool, Objectives.of(s))
    from magnetscreen.descriptors.featurize import feature_names

    return done, len(feature_names()), merger


class StageTimer:
    """The timer hook of a benchmark: seconds (and, with ``trace``, tracemalloc peaks) summed per stage."""

    def __init__(self, trace: bool = False):
        self.seconds: dict[str, float] = {}
        self.peak: dict[str, int] = {}
        self.trace = trace
        self._stage = ""

    def __call__(self, stage: str):
        self._stage = stage
        return self

    def __enter__(self):
        if self.trace:
            tracemalloc.reset_peak()
            self._base = tracemalloc.get_traced_memory()[0]
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self._start
        self.seconds[self._stage] = self.seconds.get(self._stage, 0.0) + elapsed
        if self.trace:
            peak = tracemalloc.get_traced_memory()[1] - self._base
            self.peak[self._stage] = max(self.peak.get(self._stage, 0), int(peak))
        return False


def _numeric_bytes(arrays) -> int:
    """Bytes of the numeric and boolean arrays among ``arrays`` (strings and objects are not streamed data)."""
    return int(sum(a.nbytes for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind in "biuf"))


def stage_traffic(ctx, plan, size: int) -> dict[str, int]:
    """Bytes each stage must read and write for the first ``size`` candidates of ``plan``: its inputs read once
    and its outputs written once (numeric arrays of the real pipeline functions on one chunk).

    The memory-traffic bound of a stage is these bytes over the machine's copy bandwidth: no implementation of
    the stage can be faster without reading or writing less. ``rank`` reads the scored columns.
    """
    from magnetscreen.descriptors.featurize import featurize
    from magnetscreen.models.predictions import derive
    from magnetscreen.screening.engine.pipeline import score_batch

    chunk = plan.chunk(0)
    batch = chunk.batch.take(slice(0, size))
    batch_bytes = _numeric_bytes((batch.elements, batch.fractions, batch.mass_fractions))
    descriptors, _ = featurize(batch)
    pred = ctx.models().predict_descriptors(descriptors, batch)
    derived = derive(pred, ctx.conditions.for_family(plan.family.name))
    new_derived = [v for k, v in derived.items() if k not in pred]
    cols = score_batch(ctx, batch, family=plan.family)
    risk_cols = [v for k, v in cols.items() if k not in derived]
    return {
        "enumerate_encode": batch_bytes + 8 * size,  # the batch and the candidate indexes, written
        "featurize": batch_bytes + descriptors.nbytes,
        "predict": descriptors.nbytes + _numeric_bytes(pred.values()),
        "physics": _numeric_bytes(pred.values()) + _numeric_bytes(new_derived),
        "risk": batch_bytes + _numeric_bytes(risk_cols),
        "rank": _numeric_bytes(cols.values()),
    }


def measure_stages(n: int, repeats: int, chunk_size: int = 65536, log=None) -> dict:
    """Time every stage (except end to end) over the first ``n`` benchmark candidates, ``repeats`` times.

    Returns
    -------
    dict
        ``stages``: stage -> :func:`summarize` record plus ``peak_memory_bytes`` and ``memory_method``;
        ``feature_width``: features per candidate; ``n``.
    """
    config = bench_config(n, chunk_size)
    ctx = _context(config)
    ctx.models()
    plan = ctx.plan(0)
    stage_pass(config, ctx, plan, min(n, 2048), StageTimer())  # load the numba caches outside the timing
    runs = []
    for r in range(repeats):
        timer = StageTimer()
        done, width, _ = stage_pass(config, ctx, plan, n, timer)
        runs.append(timer.seconds)
        if log:
            log(f"stages, repeat {r + 1}/{repeats}: " + ", ".join(f"{k} {v:.2f} s" for k, v in timer.seconds.items()))
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    memory = StageTimer(trace=True)
    stage_pass(config, ctx, plan, min(n, chunk_size), memory)
    if not tracing:
        tracemalloc.stop()
    stages = {}
    for stage in STAGES[:-1]:
        rec = summarize([run[stage] for run in runs], done)
        rec["peak_memory_bytes"] = memory.peak[stage]
        rec["memory_method"] = f"tracemalloc peak on one chunk of {min(n, chunk_size)} candidates"
        stages[stage] = rec
    traffic = stage_traffic(ctx, plan, min(done, chunk_size))
    copy_rate = memory_bandwidth(256 * 2**20, 3)["copy_bytes_per_s"]
    for stage, nbytes in traffic.items():
        per_candidate = nbytes / min(done, chunk_size) / copy_rate
        rec = stages[stage]
        rec["bound"] = {"seconds_per_candidate": per_candidate, "bytes_per_candidate": nbytes / min(done, chunk_size),
                        "fraction": per_candidate / rec["seconds_per_candidate"]["median"],
                        "method": "memory traffic: inputs read and outputs written once (numeric arrays of one "
                        "chunk) at the copy bandwidth measured in the same run"}
    stages["physics"]["note"] = "derive() given the predictions: temperature scaling, coercivity, (BH)max, sigma"
    stages["risk"]["note"] = "HREE intensity and composition supply risk"
    stages["rank"]["note"] = "requirements, per-chunk pruning, streaming merge, final Pareto ranking"
    return {"stages": stages, "feature_width": width, "n": done}


# ------------------------------------------------------------------------------------------ end to end

def _child(spec: dict) -> dict:
    """Run in a fresh process: warm up, then ``spec["repeats"]`` end-to-end screenings."""
    import resource

    from magnetscreen.screening.engine.loop import screen

    workers = int(spec.get("workers", 1))
    dask_workers = spec.get("dask_workers")
    scheduler = spec.get("scheduler")
    warm = max(workers, dask_workers or 1)
    with tempfile.TemporaryDirectory() as tmp:
        # the warm-up goes through the backend being measured: a scheduler's workers load the models and the
        # numba caches before the timing, as the joblib pool does (a LocalCluster is new in every run anyway);
        # eight small chunks per worker, so that every worker gets some
        screen(bench_config(warm * 8 * 1024, 1024), out=Path(tmp) / "warm", workers=warm, scheduler=scheduler)
        runs = []
        for r in range(int(spec["repeats"])):
            out = Path(tmp) / f"run{r}"
            start = time.perf_counter()
            result = screen(bench_config(spec["n"], spec["chunk_size"]), out=out, workers=workers,
                            dask_workers=dask_workers, scheduler=scheduler)
            timings, counts = result.manifest.timings, result.manifest.counts
            assert timings is not None and counts is not None
            runs.append({"seconds": time.perf_counter() - start, "loop_s": timings.loop_s,
                         "enumerated": counts.enumerated, "survivors": counts.survivors})
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss *= 1 if sys.platform == "darwin" else 1024
    return {"runs": runs, "peak_rss_bytes": int(rss)}


def run_end_to_end(n: int, repeats: int, *, workers: int = 1, dask_workers: int | None = None,
                   scheduler: str | None = None, chunk_size: int = 65536, timeout_s: float | None = None) -> dict:
    """End-to-end screenings of ``n`` benchmark candidates in a fresh Python process.

    The process first runs a small warm-up screening through the same backend (numba caches, worker pool or the
    scheduler's workers), then ``repeats`` runs of :func:`screen` (``report=False``, results in a temporary folder).

    Returns
    -------
    dict
        :func:`summarize` of the wall times, plus ``workers``, ``backend``, ``loop_s`` (median),
        ``peak_rss_bytes`` and ``memory_method``.
    """
    spec = {"n": int(n), "repeats": int(repeats), "workers": int(workers), "dask_workers": dask_workers,
            "scheduler": scheduler, "chunk_size": int(chunk_size)}
    cmd = [sys.executable, "-c", "import json, sys; from magnetscreen.screening.bench.measure import _child; "
           "print('BENCH-RESULT ' + json.dumps(_child(json.loads(sys.argv[1]))))", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"benchmark process for n={n}, workers={workers}, dask_workers={dask_workers} failed "
                           f"(exit {proc.returncode}): " + " | ".join(tail))
    child = json.loads(lines[-1][len("BENCH-RESULT "):])
    runs = child["runs"]
    rec = summarize([r["seconds"] for r in runs], runs[0]["enumerated"])
    backend = "dask" if (dask_workers or scheduler) else "joblib"
    rec.update({"workers": int(dask_workers or workers), "backend": backend,
                "scheduler": scheduler if scheduler else ("LocalCluster" if dask_workers else None),
                "loop_s": float(np.median([r["loop_s"] for r in runs])), "survivors": runs[0]["survivors"],
                "peak_rss_bytes": child["peak_rss_bytes"],
                "memory_method": "ru_maxrss of a fresh process that ran only this size (main process; workers "
                "are separate processes)"})
    return rec


def scaling_counts(n: int) -> list[int]:
    """Candidate counts of the scaling series: powers of ten from 10^4 below ``n``, then ``n`` (for sizes
    under 10^4: n/4 and n)."""
    if n < 10_000:
        return sorted({max(100, n // 4), n})
    out = [10**k for k in range(4, 12) if 10**k < n]
    return out + [n]
