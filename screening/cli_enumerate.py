"""``magnetscreen enumerate``: stream the candidates of a run configuration into a file."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from magnetscreen.screening.config import config_for_command
from magnetscreen.screening.enumerate import write_candidates


def run(args: argparse.Namespace) -> int:
    config = config_for_command(args.config, args.chunk_size)
    out = Path(args.out)
    fmt = args.format or ("parquet" if out.suffix.lower() in (".parquet", ".pq") else "text")
    started = time.perf_counter()
    summary = write_candidates(config, out, fmt)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        for family, (grid, kept) in summary.items():
            print(f"{family}: {kept} of {grid} candidates pass the constraints", file=sys.stderr)
        total = sum(k for _, k in summary.values())
        print(f"wrote {total} candidates to {out} ({fmt}) in {elapsed:.1f} s", file=sys.stderr)
    return 0
