"""The benchmark suite as a plain script: the same measurements as ``magnetscreen bench``.

Every stage on the same candidates, baselines (pymatgen, matminer Magpie, scikit-learn, a naive
pipeline) measured in the same run and printed as "N.Nx" ratios, scaling with candidate count and
workers, Dask against joblib; one JSON record (schema in docs/benchmarks.md) and plots beside it.

Run: ``python benchmarks/run_suite.py [--size tiny|small|medium|large|N] [--workers N]
[--scheduler ADDRESS] [--out FILE] [--compare A.json B.json]``
"""

from __future__ import annotations

from magnetscreen.screening.cli.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
