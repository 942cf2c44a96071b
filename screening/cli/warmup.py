"""``magnetscreen warmup``: compile (or load) the screening's numba kernels ahead of a run, and say where
numba's cache lives."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``warmup`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "warmup", help="compile the screening's numba kernels into numba's cache ahead of a run",
        description="Run a tiny screening of the embedded default (every built-in family, 64 Sobol points each) "
        "so that numba compiles every kernel of the screening, or loads it from its cache, and writes the cache "
        "that later runs load in about a second. Prints where the cache lives and how long it took.",
        epilog="examples: magnetscreen warmup | magnetscreen warmup --cache-dir /shared/numba-cache "
        "(then run with NUMBA_CACHE_DIR=/shared/numba-cache, or magnetscreen screen --cache-dir ...)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="numba's cache folder (sets NUMBA_CACHE_DIR; default: NUMBA_CACHE_DIR if set, else numba's "
                   "__pycache__ beside the kernel modules)")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from magnetscreen.screening.engine.numba_cache import use_cache_dir

    if args.cache_dir is not None:
        use_cache_dir(args.cache_dir)  # before numba is imported
    from magnetscreen.screening.engine.warmup import warmup

    result = warmup()
    if not args.quiet:
        what = (f"compiled {len(result.before.missing)} of {result.kernels} kernels" if result.before.cold else
                f"loaded {result.kernels} kernels from the cache")
        print(f"numba cache: {result.after.location}")
        print(f"{what} in {result.seconds:.1f} s (a screening of {result.candidates} candidates)")
    return 0
