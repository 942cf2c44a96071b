"""The benchmark suite: every stage, the baselines, scaling with candidates and workers, Dask against
joblib, assembled into one JSON record (schema: :mod:`magnetscreen.screening.bench.schema`).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import numpy as np

from magnetscreen.screening.bench import baselines as baselines
from magnetscreen.screening.bench import measure as bench

__all__ = ["run_suite", "BASELINE_N"]

#: Sample sizes of the slow baselines (pymatgen / matminer run per candidate in Python).
BASELINE_N = {"encode": 5000, "featurize": 2000, "predict": 65536, "end_to_end": 2000}


def _ratio(ours_rate: float, base: dict) -> float | None:
    if base.get("status") != "measured":
        return None
    return float(ours_rate / base["candidates_per_s"])


def run_suite(size: str | int = "small", *, workers: int | None = None, scheduler: str | None = None,
              repeats: int | None = None, chunk_size: int | None = None, dask: bool = True, log=print) -> dict:
    """Run the benchmark suite and return its record (see ``docs/benchmarks.md``).

    Parameters
    ----------
    size : {"tiny", "small", "medium", "large"} or int, default="small"
        Candidates of the end-to-end run (:data:`bench.SIZES`).
    workers : int, optional
        Highest worker count of the worker scaling and of the Dask comparison (default: the cores).
    scheduler : str, optional
        Dask scheduler address: the Dask comparison runs there instead of on a LocalCluster.
    repeats : int, optional
        Repeats of each measurement (default :data:`bench.DEFAULT_REPEATS` of the size, 3 for numbers).
    chunk_size : int, optional
        Default 65536, smaller for small sizes so that every worker gets chunks:
        ``min(65536, max(1024, n // (4 * workers)))``.
    dask : bool, default=True
        Run the Dask comparison (skipped with a reason when distributed is not installed).
    log : callable, optional
        Progress lines (None: silent).
    """
    log = log or (lambda *_: None)
    label, n = bench.parse_size(size)
    repeats = repeats or bench.DEFAULT_REPEATS.get(label, 3)
    if repeats < 1:
        from magnetscreen.datasets.errors import ConfigError

        raise ConfigError(f"--repeats: expected an integer >= 1, got {repeats}")
    cores = os.cpu_count() or 1
    max_workers = workers or cores
    if max_workers < 1:
        from magnetscreen.datasets.errors import ConfigError

        raise ConfigError(f"--workers: expected an integer >= 1, got {max_workers}")
    if chunk_size is None:
        chunk_size = min(65536, max(1024, n // (4 * max_workers)))
    stage_n = min(n, bench.STAGE_CAP)
    samples = {k: min(v, max(200, n // 4)) for k, v in BASELINE_N.items()}
    record: dict[str, Any] = {"schema": bench.SCHEMA_NAME, "schema_version": bench.SCHEMA_VERSION,
              "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": bench.machine_info(), "versions": bench.library_versions(),
              "config": {"size": label, "n": n, "stage_n": stage_n, "chunk_size": chunk_size, "repeats": repeats,
                         "workers": max_workers, "scheduler": scheduler, "family": bench.FAMILY,
                         "sampling": "sobol", "baseline_n": samples}}

    log(f"bench: {n} candidates ({label}), stages on {stage_n}, {repeats} repeat(s), up to {max_workers} workers")
    measured = bench.measure_stages(stage_n, repeats, chunk_size, log=log)
    stages = measured["stages"]

    log("bench: baselines")
    from magnetscreen.descriptors.featurize import featurize
    from magnetscreen.models.surrogates import load_surrogates

    models = load_surrogates()
    first = bench._context(bench.bench_config(n, chunk_size)).plan(0).chunk(0).batch  # the same candidates
    names = first.names().tolist()
    descriptors, _ = featurize(first.take(slice(0, min(len(first), samples["predict"]))))
    base = {"encode": baselines.encode_baseline(names[:samples["encode"]]),
            "featurize": baselines.featurize_baseline(names[:samples["featurize"]]),
            "predict": baselines.inference_baseline(descriptors, models)}
    del descriptors

    log("bench: end to end and scaling with candidate count (workers=1, one fresh process per count)")
    counts = []
    for count in bench.scaling_counts(n):
        rec = bench.run_end_to_end(count, repeats if count == n else 1, workers=1, chunk_size=chunk_size)
        counts.append(rec)
        log(f"  n={count}: {rec['candidates_per_s']['median']:,.0f} candidates/s, peak RSS "
            f"{rec['peak_rss_bytes'] / 2**20:.0f} MiB")
    one = counts[-1]
    log("bench: worker scaling (joblib)")
    by_workers = [one]
    for w in range(2, max_workers + 1):
        rec = bench.run_end_to_end(n, repeats, workers=w, chunk_size=chunk_size)
        by_workers.append(rec)
        log(f"  workers={w}: {rec['candidates_per_s']['median']:,.0f} candidates/s")
    t1 = one["seconds"]["median"]
    for rec in by_workers:
        rec["speedup"] = t1 / rec["seconds"]["median"]
        rec["efficiency"] = rec["speedup"] / rec["workers"]
    best = max(by_workers, key=lambda r: r["candidates_per_s"]["median"])
    e2e = {k: v for k, v in best.items() if k not in ("speedup", "efficiency")}
    e2e["note"] = f"screen(), report=False, {best['workers']} worker(s) ({best['backend']}), fresh process"
    stages["end_to_end"] = e2e

    base["end_to_end"] = baselines.naive_pipeline(names[:samples["end_to_end"]], models)
    record["stages"] = stages
    record["baselines"] = {}
    ours = {"encode": stages["enumerate_encode"], "featurize": stages["featurize"], "end_to_end": stages["end_to_end"]}
    for key, b in base.items():
        if key == "predict":
            if b.get("status") == "measured":
                b["ours_stage"] = "predict (tree inference of the same trees)"
        else:
            rate = ours[key]["candidates_per_s"]["median"]
            b["ours_stage"] = {"encode": "enumerate_encode", "featurize": "featurize", "end_to_end": "end_to_end"}[key]
            b["ratio"] = _ratio(rate, b)
            if key == "end_to_end" and b.get("status") == "measured":
                b["ratio_per_worker"] = _ratio(one["candidates_per_s"]["median"], b)
        record["baselines"][key] = b

    bw = bench.memory_bandwidth()
    written = stages["featurize"]["candidates_per_s"]["median"] * measured["feature_width"] * 8
    bw.update({"featurizer_bytes_per_s": written, "featurizer_share_of_fill": written / bw["fill_bytes_per_s"],
               "feature_width": measured["feature_width"],
               "note": "featurizer: float64 feature matrix written per second at numba's default threads"})
    record["bandwidth"] = bw

    dask_rec = _dask(n, repeats, max_workers, scheduler, chunk_size, by_workers, dask, log)
    record["scaling"] = {
        "counts": [{"n": r["n"], "seconds": r["seconds"], "candidates_per_s": r["candidates_per_s"],
                    "seconds_per_candidate": r["seconds_per_candidate"], "peak_rss_bytes": r["peak_rss_bytes"],
                    "repeats": r["repeats"]} for r in counts],
        "workers": [{"workers": r["workers"], "backend": r["backend"], "seconds": r["seconds"],
                     "candidates_per_s": r["candidates_per_s"], "speedup": r["speedup"], "efficiency": r["efficiency"],
                     "repeats": r["repeats"]} for r in by_workers],
        "dask": dask_rec,
    }
    flat = [r["seconds_per_candidate"]["median"] for r in counts if r["n"] >= 10_000]
    record["scaling"]["time_per_candidate_spread"] = (float(max(flat) / min(flat)) if len(flat) >= 2 else None)
    _check_finite(record)
    return record


def _dask(n, repeats, max_workers, scheduler, chunk_size, by_workers, enabled, log) -> dict:
    if not enabled:
        return {"status": "skipped", "reason": "--no-dask"}
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        return {"status": "skipped", "reason": "dask.distributed not installed (pip install 'magnetscreen[dask]')"}
    log("bench: Dask " + (f"scheduler {scheduler}" if scheduler else f"LocalCluster with {max_workers} workers")
        + " against joblib")
    if scheduler:
        rec = bench.run_end_to_end(n, repeats, scheduler=scheduler, chunk_size=chunk_size)
        joblib = by_workers[-1]
    else:
        rec = bench.run_end_to_end(n, repeats, dask_workers=max_workers, chunk_size=chunk_size)
        joblib = next(r for r in by_workers if r["workers"] == max_workers)
    out = {"status": "measured", "backend": "dask", "scheduler": rec["scheduler"], "workers": rec["workers"],
           "seconds": rec["seconds"], "candidates_per_s": rec["candidates_per_s"], "repeats": rec["repeats"],
           "joblib_workers": joblib["workers"], "joblib_seconds": joblib["seconds"],
           "overhead_ratio": rec["seconds"]["median"] / joblib["seconds"]["median"],
           "note": "wall time of screen() with a new Dask client per run (LocalCluster start-up included) over "
           "joblib at the same worker count"}
    log(f"  dask: {rec['candidates_per_s']['median']:,.0f} candidates/s, {out['overhead_ratio']:.2f}x the joblib time")
    return out


def _check_finite(record: dict, path: str = "") -> None:
    """Every number of the record is finite (a NaN or infinity is a measurement bug)."""
    if isinstance(record, dict):
        for k, v in record.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(record, list):
        for i, v in enumerate(record):
            _check_finite(v, f"{path}[{i}]")
    elif isinstance(record, float) and not np.isfinite(record):
        raise RuntimeError(f"benchmark record: {path} is {record}, not a finite number")
