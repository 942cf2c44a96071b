"""Tree-ensemble inference: magnetscreen's numba kernels vs scikit-learn ``predict`` on the same model.

Two 100-tree random forests (``--trees``) score ``--n`` descriptor rows of 2-14-1 candidates (150
features):

- *shipped-data*: trained on the descriptors of the formulas in the bundled Curie-temperature table
  (about 130 rows, target Tc_K, default ``min_samples_leaf=1``), the shape of the default surrogates;
- *synthetic 2000*: trained on 2000 of the candidates with a synthetic linear target and
  ``min_samples_leaf=2`` (bigger, deeper trees; inference speed does not depend on what the target
  means).

scikit-learn ``predict`` (n_jobs=1) and the flat-ensemble kernels (mean and per-tree spread; 1 thread
and, where available, 2) run interleaved ``--repeats`` times; the best time of each is reported, the
ratios are taken in the same run, and the outputs must be bitwise equal (the script fails otherwise).

Run: ``python benchmarks/bench_inference.py [--n 300000] [--trees 100] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from importlib.metadata import version

import numba
import numpy as np


def _models(X_screen, trees: int):
    from sklearn.ensemble import RandomForestRegressor

    from magnetscreen.datasets import load_curie
    from magnetscreen.descriptors import featurize

    curie = load_curie()
    X_real, _ = featurize(list(curie["formula"]))
    real = RandomForestRegressor(n_estimators=trees, random_state=0, n_jobs=1).fit(X_real, curie["Tc_K"].to_numpy())
    rng = np.random.default_rng(0)
    train = rng.choice(len(X_screen), size=2000, replace=False)
    y = X_screen[train] @ rng.normal(size=X_screen.shape[1]) / X_screen.shape[1]
    synthetic = RandomForestRegressor(n_estimators=trees, min_samples_leaf=2, random_state=0, n_jobs=1)
    synthetic.fit(X_screen[train], y)
    return {f"shipped-data ({len(X_real)} training rows)": real, "synthetic 2000": synthetic}


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from magnetscreen.datasets import builtin_family
    from magnetscreen.descriptors import featurize
    from magnetscreen.descriptors.enumeration import plan_enumeration
    from magnetscreen.models.trees import flatten

    plan = plan_enumeration(builtin_family("2-14-1").with_overrides(step=0.01), chunk_size=args.n)
    X, _ = featurize(plan.chunk(0).batch)
    n = len(X)
    cores = os.cpu_count() or 1
    threads = sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})
    print(f"benchmark: inference of {args.trees}-tree random forests on n = {n} rows x {X.shape[1]} features "
          f"(2-14-1 candidates), best of {args.repeats}")
    print(f"machine: {cores} cores, {platform.machine()}; versions: numpy {np.__version__}, numba {numba.__version__}, "
          f"scikit-learn {version('scikit-learn')}")
    before = numba.get_num_threads()
    try:
        for name, model in _models(X, args.trees).items():
            flat = flatten(model)
            depths = flat.node_table()[1]
            print(f"\nmodel {name}: {flat.n_trees} trees, {np.diff(flat.offset).mean():.0f} nodes per tree on average, "
                  f"depth {depths.mean():.1f} on average (max {depths.max()})")
            for t in threads:  # compile and warm up
                numba.set_num_threads(t)
                flat.predict(X[:100])
            best = {"sklearn": np.inf, **{t: np.inf for t in threads}}
            reference = None
            for _ in range(args.repeats):
                elapsed, reference = _timed(lambda model=model: model.predict(X))
                best["sklearn"] = min(best["sklearn"], elapsed)
                for t in threads:
                    numba.set_num_threads(t)
                    elapsed, (mean, spread) = _timed(lambda flat=flat: flat.predict(X))
                    best[t] = min(best[t], elapsed)
                    assert np.array_equal(mean, reference), f"{name}, {t} thread(s): output differs from sklearn"
            print(f"  scikit-learn predict (n_jobs=1): {n / best['sklearn']:,.0f} rows/s")
            for t in threads:
                print(f"  magnetscreen kernel, {t} thread(s), mean and per-tree spread: {n / best[t]:,.0f} rows/s, "
                      f"ratio {best['sklearn'] / best[t]:.1f}x; identical output: True")
    finally:
        numba.set_num_threads(before)


if __name__ == "__main__":
    main()
