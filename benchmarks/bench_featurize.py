"""Featurization rate of 2-14-1 candidates, single- and multi-threaded, against matminer's Magpie.

Ours: :func:`magnetscreen.descriptors.featurize` on encoded chunks of the first ``--n`` candidates of the
2-14-1 family at step 0.01 (enumeration is done before the timing). Baseline, same run: matminer
``ElementProperty.from_preset("magpie")`` on ``--baseline-n`` of the same compositions (pymatgen
``Composition`` objects built outside the timing), extrapolated per candidate. Also printed: the
machine's memory-bandwidth bound measured as a large array copy, and the share of it our featurizer
reaches when writing the feature matrix; and peak memory for two total sizes streamed in chunks, to
show it does not grow with the total.

Run: ``python benchmarks/bench_featurize.py [--n 1000000] [--baseline-n 2000] [--chunk-size 65536]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from importlib.metadata import PackageNotFoundError, version

import numba
import numpy as np


def chunks(n, chunk_size):
    from magnetscreen.datasets import builtin_family
    from magnetscreen.descriptors.enumeration import plan_enumeration

    plan = plan_enumeration(builtin_family("2-14-1").with_overrides(step=0.01), chunk_size=chunk_size)
    done = 0
    for chunk in plan.chunks():
        take = min(len(chunk), n - done)
        yield chunk.batch.take(slice(0, take))
        done += take
        if done >= n:
            return


def time_ours(batches, threads):
    from magnetscreen.descriptors import featurize

    numba.set_num_threads(threads)
    matrix, _ = featurize(batches[0])  # compile / load the cache outside the timing
    buffer = np.empty_like(matrix)  # one output buffer reused for every chunk, as the screening loop does
    start = time.perf_counter()
    for batch in batches:
        out = buffer if len(batch) == len(buffer) else None
        featurize(batch, out=out)
    return time.perf_counter() - start, matrix.shape[1]


def write_bandwidth():
    """(fill, copy) bandwidth bounds of this machine in bytes/s: see
    :func:`magnetscreen.screening.bench.memory_bandwidth` (shared with ``magnetscreen bench``)."""
    from magnetscreen.screening.bench.measure import memory_bandwidth

    bw = memory_bandwidth()
    return bw["fill_bytes_per_s"], bw["copy_bytes_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--baseline-n", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=65536)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print("benchmark: featurization of 2-14-1 candidates (step 0.01)")
    print(f"machine: {platform.machine()} {platform.system()}, {cores} cores")
    versions = []
    for package in ("magnetscreen", "numpy", "numba", "pymatgen", "matminer"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} not installed")
    print("versions: " + ", ".join(versions))

    batches = list(chunks(args.n, args.chunk_size))
    n = sum(len(b) for b in batches)
    results = {}
    for threads in sorted({1, cores}):
        seconds, width = time_ours(batches, threads)
        results[threads] = seconds
        print(f"magnetscreen, {threads} thread(s): n={n}, {n / seconds:,.0f} candidates/s, {width} features")
    numba.set_num_threads(cores)

    fill, copy = write_bandwidth()
    written = n * width * 8 / results[cores]
    print(f"memory bandwidth (1 thread, numpy): write (fill) {fill / 1e9:.1f} GB/s, copy (read+write) "
          f"{copy / 1e9:.1f} GB/s")
    print(f"feature matrix written at {written / 1e9:.2f} GB/s = {100 * written / fill:.0f}% of the write bound")

    from magnetscreen.screening.bench.baselines import featurize_baseline

    names = batches[0].take(slice(0, args.baseline_n)).names().tolist()
    baseline = featurize_baseline(names)
    if baseline["status"] != "measured":
        print(f"baseline: {baseline.get('reason', 'not measured')}, ratio skipped")
    else:
        base_rate = baseline["candidates_per_s"]
        print(f"baseline matminer Magpie (1 process): n={baseline['n']} (sample, extrapolated per candidate), "
              f"{base_rate:,.0f} candidates/s")
        print(f"ratio per core (1 thread vs 1 process): {n / results[1] / base_rate:,.0f}x")
        print(f"ratio with {cores} threads: {n / results[cores] / base_rate:,.0f}x")

    for total in (args.n // 4, args.n):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        from magnetscreen.descriptors import featurize

        for batch in chunks(total, args.chunk_size):
            featurize(batch)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"streamed {total} candidates in chunks of {args.chunk_size}: peak RSS {after / 1024:.0f} MiB "
              f"(grew by {(after - before) / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
