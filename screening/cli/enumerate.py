"""``magnetscreen enumerate``: stream the candidates of a run configuration into a file."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``enumerate`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser("enumerate", help="write the candidates of a run configuration",
                              description="Enumerate the candidates of a run configuration (default: the embedded "
                              "default) and write their canonical formulas, one per line, or a Parquet table.")
    p.add_argument("config", nargs="?", metavar="CONFIG.toml", help="run configuration (default: embedded default)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output file; '.parquet' writes Parquet (family, candidate_index, formula), else text")
    p.add_argument("--format", choices=("text", "parquet"), default=None,
                   help="output format (default: from the file suffix)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="override the config's chunk size")
    p.add_argument("--max-candidates", type=int, default=None, metavar="N",
                   help="refuse a plan of more candidates (default: the config's [run] max_candidates, 10^9)")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from magnetscreen.screening.engine.config import config_for_command
    from magnetscreen.screening.engine.enumerate import write_candidates

    config = config_for_command(args.config, args.chunk_size)
    out = Path(args.out)
    fmt = args.format or ("parquet" if out.suffix.lower() in (".parquet", ".pq") else "text")
    started = time.perf_counter()
    summary = write_candidates(config, out, fmt, max_candidates=args.max_candidates)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        for family, (grid, kept) in summary.items():
            print(f"{family}: {kept} of {grid} candidates pass the constraints", file=sys.stderr)
        total = sum(k for _, k in summary.values())
        print(f"wrote {total} candidates to {out} ({fmt}) in {elapsed:.1f} s", file=sys.stderr)
    return 0
