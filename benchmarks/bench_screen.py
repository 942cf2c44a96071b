"""End-to-end screening rate (issue 8): candidates/s of ``screen()`` against the naive pipeline.

Ours: :func:`magnetscreen.screening.engine.screen` (``report=False``) on ``--n`` candidates of the
2-14-1 family sampled with Sobol points, in a fresh process per run (numba caches and worker pool
warmed up first), with 1 .. ``--workers`` joblib workers, and optionally a Dask LocalCluster with the
same worker count. Scaling: time per candidate and peak RSS (fresh process, workers=1) for
10^4 .. ``--n`` candidates. Baseline, same run: the naive pipeline a script would run without
magnetscreen (per chunk: a pymatgen ``Composition`` per candidate, matminer Magpie, scikit-learn
``predict``) on ``--baseline-n`` of the same candidates, extrapolated per candidate.

Run: ``python benchmarks/bench_screen.py [--n 1000000] [--workers 2] [--baseline-n 2000] [--dask]``
"""

from __future__ import annotations

import argparse
import os

from magnetscreen.screening.bench import baselines as baselines
from magnetscreen.screening.bench import measure as bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline-n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=65536)
    parser.add_argument("--dask", action="store_true", help="also a Dask LocalCluster with --workers workers")
    parser.add_argument("--no-scaling", action="store_true", help="skip the candidate-count series")
    args = parser.parse_args()

    machine, versions = bench.machine_info(), bench.library_versions()
    print(f"benchmark: end-to-end screening, {args.n:,} candidates of {bench.FAMILY} (Sobol)")
    print(f"machine: {machine['cpu_model']}, {machine['cores']} cores, {machine['os']}")
    print("versions: " + ", ".join(f"{k} {versions[k] or 'not installed'}" for k in
                                   ("magnetscreen", "numpy", "numba", "scikit-learn", "pymatgen", "matminer", "dask")))
    runs = {}
    for w in range(1, args.workers + 1):
        rec = bench.run_end_to_end(args.n, args.repeats, workers=w, chunk_size=args.chunk_size)
        runs[w] = rec
        t = rec["seconds"]["median"]
        print(f"magnetscreen, {w} worker(s): n={args.n:,}, {t:.1f} s, {rec['candidates_per_s']['median']:,.0f} "
              f"candidates/s, speedup {runs[1]['seconds']['median'] / t:.2f}x")
    if args.dask:
        rec = bench.run_end_to_end(args.n, args.repeats, dask_workers=args.workers, chunk_size=args.chunk_size)
        print(f"Dask LocalCluster, {args.workers} workers: {rec['candidates_per_s']['median']:,.0f} candidates/s, "
              f"time {rec['seconds']['median'] / runs[args.workers]['seconds']['median']:.2f}x joblib")
    if not args.no_scaling:
        for count in bench.scaling_counts(args.n)[:-1]:
            rec = bench.run_end_to_end(count, 1, workers=1, chunk_size=args.chunk_size)
            print(f"scaling: n={count:,}: {rec['seconds_per_candidate']['median'] * 1e6:.3g} us/candidate, "
                  f"peak RSS {rec['peak_rss_bytes'] / 2**20:.0f} MiB")
        r = runs[1]
        print(f"scaling: n={args.n:,}: {r['seconds_per_candidate']['median'] * 1e6:.3g} us/candidate, "
              f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB")

    from magnetscreen.models.surrogates import load_surrogates

    config = bench.bench_config(args.n, args.chunk_size)
    names = bench._context(config).plan(0).chunk(0).batch.names().tolist()[: args.baseline_n]
    naive = baselines.naive_pipeline(names, load_surrogates())
    if naive["status"] != "measured":
        print(f"baseline: {naive['reason']}, ratio skipped")
        return
    best = max(runs.values(), key=lambda r: r["candidates_per_s"]["median"])
    print(f"baseline (naive: {naive['library']}): n={naive['n']} (sample, extrapolated per candidate), "
          f"{naive['candidates_per_s']:,.0f} candidates/s")
    print(f"ratio: {best['candidates_per_s']['median'] / naive['candidates_per_s']:.1f}x with {best['workers']} "
          f"worker(s), {runs[1]['candidates_per_s']['median'] / naive['candidates_per_s']:.1f}x with 1")


if __name__ == "__main__":
    main()
