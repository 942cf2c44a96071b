"""``magnetscreen screen``: the main job, a streaming screening run with a ranked shortlist and report."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``screen`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "screen", help="run a screening: rank candidates, write the shortlist and report",
        description="Enumerate, featurize, predict, apply the physics at the operating temperature, HREE "
        "intensity and supply risk, the requirements and the Pareto ranking, chunk by chunk; write "
        "ranked.parquet, shortlist.csv, explore.csv, references.parquet, manifest.json and report.html. "
        "A killed run restarted with the same command resumes.",
        epilog="examples: magnetscreen screen | magnetscreen screen examples/low-dy-2-14-1.toml --workers 2 | "
        "magnetscreen screen my.toml --dask-workers 4 | magnetscreen screen my.toml --scheduler tcp://host:8786")
    p.add_argument("config", nargs="?", metavar="CONFIG.toml", help="run configuration (default: embedded default)")
    p.add_argument("--out", default=None, metavar="DIR", help="run directory (default: the config's output_dir)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="local worker processes (joblib)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="override the config's chunk size")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address (multi-node)")
    p.add_argument("--dask-workers", type=int, default=None, metavar="N",
                   help="start a Dask LocalCluster with N worker processes")
    p.add_argument("--models", default=None, metavar="DIR", help="model folder (default: the shipped models)")
    p.add_argument("--max-candidates", type=int, default=None, metavar="N",
                   help="refuse a plan of more candidates (default: the config's [run] max_candidates, 10^9)")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from magnetscreen.screening.engine.config import config_for_command
    from magnetscreen.screening.runner import screen

    config = config_for_command(args.config, args.chunk_size)
    result = screen(config, out=Path(args.out) if args.out else None, workers=args.workers, scheduler=args.scheduler,
                    dask_workers=args.dask_workers, models_dir=args.models, quiet=args.quiet,
                    report=not args.no_report, max_candidates=args.max_candidates)
    if not args.quiet:
        counts, timings = result.manifest.counts, result.manifest.timings
        assert counts is not None and timings is not None
        print(f"screened {counts.enumerated} candidates in {timings.total_s:.1f} s "
              f"({timings.candidates_per_s or 0:,.0f}/s in the loop); {counts.passed} met the requirements; "
              f"{counts.survivors} ranked", file=sys.stderr)
        show = ["rank", "front", "formula", "family", result.manifest.config.metric, "hree_g_per_kg",
                "risk_value", "risk_value_driver", "cost_usd_per_kg", "controlled_elements", "in_domain"]
        head = result.shortlist.head(10)
        if len(head):
            import pandas as pd

            with pd.option_context("display.width", 200, "display.max_columns", None,
                                   "display.float_format", "{:.4g}".format):
                print(head[show].to_string(index=False))
        else:
            print("no candidate met every requirement; see manifest.json counts.removed_by", file=sys.stderr)
        print(f"results in {result.run_dir}/ (shortlist.csv, ranked.parquet, explore.csv, manifest.json"
              + (", report.html)" if "report" in result.manifest.outputs else ")"), file=sys.stderr)
    return 0
