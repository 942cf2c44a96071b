"""Tree-ensemble inference: magnetscreen's numba kernel vs scikit-learn ``predict`` on the same model.

A random forest (``--trees`` trees) is trained on descriptors of a sample of 2-14-1 candidates with a
synthetic target (inference speed does not depend on what the target means); then ``--n`` feature rows
are scored by scikit-learn ``predict`` (n_jobs=1) and by the flat-ensemble kernel (1 thread and all
threads), and the outputs are checked for bitwise equality in the same run.

Run: ``python benchmarks/bench_inference.py [--n 1000000] [--trees 100]``
"""

from __future__ import annotations

import argparse
import os
import time
from importlib.metadata import version

import numba
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()
    from sklearn.ensemble import RandomForestRegressor

    from magnetscreen.datasets import builtin_family
    from magnetscreen.descriptors import featurize
    from magnetscreen.descriptors.enumeration import plan_enumeration
    from magnetscreen.models.trees import flatten

    plan = plan_enumeration(builtin_family("2-14-1").with_overrides(step=0.01), chunk_size=args.n)
    X, names = featurize(plan.chunk(0).batch)
    rng = np.random.default_rng(0)
    train = rng.choice(len(X), size=2000, replace=False)
    y = X[train] @ rng.normal(size=X.shape[1]) / X.shape[1]
    model = RandomForestRegressor(n_estimators=args.trees, min_samples_leaf=2, random_state=0, n_jobs=1)
    model.fit(X[train], y)
    flat = flatten(model)
    cores = os.cpu_count() or 1
    print(f"benchmark: inference of a {args.trees}-tree random forest on {len(X)} rows x {X.shape[1]} features")
    print(f"machine: {cores} cores; versions: scikit-learn {version('scikit-learn')}, numba {numba.__version__}")
    start = time.perf_counter()
    reference = model.predict(X)
    t_sklearn = time.perf_counter() - start
    print(f"scikit-learn predict (n_jobs=1): {len(X) / t_sklearn:,.0f} rows/s")
    for threads in sorted({1, cores}):
        numba.set_num_threads(threads)
        flat.predict(X[:10])
        start = time.perf_counter()
        mean, spread = flat.predict(X)
        t_ours = time.perf_counter() - start
        same = np.array_equal(mean, reference)
        print(f"magnetscreen kernel, {threads} thread(s), mean and per-tree spread: {len(X) / t_ours:,.0f} rows/s, "
              f"ratio {t_sklearn / t_ours:.1f}x, identical output: {same}")


if __name__ == "__main__":
    main()
