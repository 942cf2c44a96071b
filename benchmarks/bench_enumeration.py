"""Enumeration + encoding rate of the 2-14-1 family at step 0.01, against a naive pymatgen baseline.

Ours: ``plan_enumeration(...).chunk(i)`` (numba unranking, compaction, mass fractions) over the first
``--n`` candidates of the (Nd,Pr,Ce,La,Y,Dy,Tb)2(Fe,Co)14B grid at step 0.01 (about 1.6e11 candidates).
Baseline, measured in the same run: the same candidates built the way a script would without
magnetscreen: a Python loop over the site grids and one pymatgen ``Composition`` per candidate, from
which atomic and mass fractions are read. The baseline runs on ``--baseline-n`` candidates and its rate
is reported per candidate.

Run: ``python benchmarks/bench_enumeration.py [--n 2000000] [--baseline-n 5000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time

import numpy as np


def baseline(n: int) -> float:
    """Seconds to build and encode the first ``n`` grid candidates with pymatgen, one at a time."""
    from pymatgen.core import Composition

    r_elements = ["Nd", "Pr", "Ce", "La", "Y", "Dy", "Tb"]
    start = time.perf_counter()
    done = 0
    for r_parts in itertools.product(range(101), repeat=6):
        last = 100 - sum(r_parts)
        if last < 0:
            continue
        for co in range(101):
            amounts = {e: 2 * p / 100 for e, p in zip(r_elements, (*r_parts, last)) if p}
            if co < 100:
                amounts["Fe"] = 14 * (100 - co) / 100
            if co:
                amounts["Co"] = 14 * co / 100
            amounts["B"] = 1.0
            comp = Composition(amounts)
            _ = np.array([comp.get_atomic_fraction(e) for e in comp.elements])
            _ = np.array([comp.get_wt_fraction(e) for e in comp.elements])
            done += 1
            if done == n:
                return time.perf_counter() - start
    return time.perf_counter() - start


def ours(n: int, chunk_size: int) -> float:
    from magnetscreen.datasets import builtin_family
    from magnetscreen.descriptors.enumeration import plan_enumeration

    plan = plan_enumeration(builtin_family("2-14-1").with_overrides(step=0.01), chunk_size=chunk_size)
    start = time.perf_counter()
    done = 0
    for chunk in plan.chunks():
        done += len(chunk)
        if done >= n:
            break
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="candidates for magnetscreen")
    parser.add_argument("--baseline-n", type=int, default=5_000, help="candidates for the pymatgen baseline")
    parser.add_argument("--chunk-size", type=int, default=65536)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from importlib.metadata import version

    import numba

    ours(args.chunk_size, args.chunk_size)  # compile / load the numba cache outside the timing
    ours_times = [ours(args.n, args.chunk_size) for _ in range(args.repeats)]
    base_times = [baseline(args.baseline_n) for _ in range(args.repeats)]
    ours_rate = args.n / min(ours_times)
    base_rate = args.baseline_n / min(base_times)
    print("benchmark: enumeration + encoding, 2-14-1 family at step 0.01")
    print(f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} cores, numba threads "
          f"{numba.get_num_threads()}")
    print(f"versions: magnetscreen {version('magnetscreen')}, numpy {np.__version__}, numba {numba.__version__}, "
          f"pymatgen {version('pymatgen')}")
    print(f"magnetscreen: n={args.n}, best of {args.repeats}: {ours_rate:,.0f} candidates/s")
    print(f"baseline (pymatgen Composition per candidate): n={args.baseline_n}, best of {args.repeats}: "
          f"{base_rate:,.0f} candidates/s")
    print(f"ratio: {ours_rate / base_rate:.1f}x")


if __name__ == "__main__":
    main()
