"""``magnetscreen bench``: the benchmark suite (one JSON record per machine) and ``--compare A.json B.json``.

The same code runs as ``python benchmarks/run_suite.py`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_parser", "run", "main"]


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--size", default="small", metavar="tiny|small|medium|large|N",
                   help="candidates end to end: tiny 2e3, small 1e5 (default), medium 1e6, large 1e7, or a number")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker scaling 1..N and the Dask comparison at N (default: the cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="compare joblib with this Dask scheduler (tcp://host:8786) instead of a LocalCluster")
    p.add_argument("--repeats", type=int, default=None, metavar="N",
                   help="repeats per measurement (default: 1 for tiny and large, 3 otherwise)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N",
                   help="candidates per chunk (default 65536, fewer for sizes under 4 chunks per worker)")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG and HTML plots")
    p.add_argument("--out", default="bench.json", metavar="FILE",
                   help="record to write (default bench.json); plots go beside it as FILE.png and FILE.html")
    p.add_argument("--compare", nargs=2, default=None, metavar=("A.json", "B.json"),
                   help="print per-stage ratios B/A of two records instead of running the suite")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--campaign", action="store_true",
                   help="run the retrospective campaign benchmark instead (docs/campaigns.md): every acquisition "
                   "rule against random selection on a pool of known compositions")
    p.add_argument("--pool", default="curie", metavar="curie|Js_T|K1_MJm3", help="pool of --campaign (default curie)")
    p.add_argument("--seeds", type=int, default=5, metavar="N", help="paired seeds of --campaign (default 5)")
    p.add_argument("--budget", type=int, default=300, metavar="N",
                   help="experiments per run of --campaign (default 300)")
    p.add_argument("--batch", type=int, default=10, metavar="N", help="batch size of --campaign (default 10)")
    p.add_argument("--seed-set", type=int, default=20, metavar="N", help="seed set of --campaign (default 20)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``bench`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "bench", help="run the benchmark suite and write a JSON record of this machine",
        description="Measure every stage (enumerate+encode, featurize, predict with sigma, physics, risk, rank) "
        "and the end-to-end screening on the same candidates; baselines (pymatgen, matminer Magpie, "
        "scikit-learn, a naive pipeline) measured in the same run and printed as ratios; scaling with candidate "
        "count and workers; Dask against joblib. Writes one JSON record (docs/benchmarks.md) and plots.",
        epilog="examples: magnetscreen bench --size medium --out $(hostname).json | "
        "magnetscreen bench --compare old.json new.json")
    _arguments(p)
    p.set_defaults(func=run)
    return p


def _load(path: str) -> dict:
    from magnetscreen.datasets.errors import ConfigError
    from magnetscreen.screening.bench.schema import validate

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--compare: {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--compare: {path}: not valid JSON ({exc})") from None
    validate(record, path)
    return record


def run(args: argparse.Namespace) -> int:
    from magnetscreen.datasets.errors import ConfigError
    from magnetscreen.screening.bench import summary as bench_report

    if args.campaign:
        return _campaign(args)
    if args.compare:
        a, b = (_load(p) for p in args.compare)
        lines, _changed = bench_report.compare(a, b, tuple(args.compare))
        print("\n".join(lines))
        return 0
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ConfigError(f"--chunk-size: expected an integer >= 1, got {args.chunk_size}")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers: expected an integer >= 1, got {args.workers}")
    from magnetscreen.screening.bench.measure import parse_size
    from magnetscreen.screening.bench.schema import validate
    from magnetscreen.screening.bench.suite import run_suite

    parse_size(args.size)  # bad sizes fail before anything runs
    out = Path(args.out)
    if out.suffix != ".json":
        raise ConfigError(f"--out: expected a .json file, got {str(out)!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    record = run_suite(args.size, workers=args.workers, scheduler=args.scheduler, repeats=args.repeats,
                       chunk_size=args.chunk_size, dask=not args.no_dask, log=log)
    record["plots"] = {} if args.no_plot else bench_report.write_plots(record, out.with_suffix(""))
    validate(record, str(out))
    out.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    print("\n".join(bench_report.summary_lines(record)))
    print(f"record: {out}")
    return 0


def _campaign(args: argparse.Namespace) -> int:
    from magnetscreen.datasets.errors import ConfigError
    from magnetscreen.screening.bench.campaign import benchmark, write_plots

    out = Path(args.out if args.out != "bench.json" else "campaign-bench.json")
    if out.suffix != ".json":
        raise ConfigError(f"--out: expected a .json file, got {str(out)!r}")
    for name in ("seeds", "budget", "batch", "seed_set"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')}: expected an integer >= 1, got {getattr(args, name)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    record = benchmark(args.pool, seeds=args.seeds, n_seed=args.seed_set, batch_size=args.batch, budget=args.budget,
                       log=log)
    record["plots"] = {} if args.no_plot else write_plots(record, out.with_suffix(""))
    out.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    for rule, e in record["rules"].items():
        marks = ", ".join(f"{m} {e[m]['mean']:.0f} +- {e[m]['std']:.0f} ({e[m]['acceleration']:.2f}x"
                          f"{'+' if e[m]['acceleration_is_lower_bound'] else ''})"
                          for m in ("first_top", "half_top", "best"))
        print(f"{rule:>9}: {marks}; Pareto set found {100 * e['pareto_found']:.0f} %")
    print(f"record: {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python benchmarks/run_suite.py``): same options, same exit codes."""
    from magnetscreen.datasets.errors import MagnetscreenError

    parser = argparse.ArgumentParser(prog="run_suite.py", description="magnetscreen benchmark suite")
    _arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except MagnetscreenError as exc:
        print(f"run_suite.py: error: {exc}", file=sys.stderr)
        return 2
