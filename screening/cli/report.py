"""``magnetscreen report``: the self-contained HTML report of a run directory."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``report`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "report", help="write the HTML report of a run directory",
        description="Write one self-contained HTML file (no external requests) with the run summary, the "
        "sortable shortlist, plots, disclosures of the top 10, model cards, data provenance and warnings "
        "(docs/report.md).",
        epilog="example: magnetscreen report magnetscreen-run --top 100 --out screening-report.html")
    p.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `magnetscreen screen`")
    p.add_argument("--top", type=_positive, default=50, metavar="N", help="rows of the shortlist table (default 50)")
    p.add_argument("--out", default=None, metavar="FILE", help="output HTML file (default RUN_DIR/report.html)")
    p.add_argument("--quiet", action="store_true", help="do not print the path written")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from magnetscreen.screening.report.render import write_report

    path = write_report(args.run_dir, top_n=args.top, out=args.out)
    if not getattr(args, "quiet", False):
        print(f"wrote {path}")
    return 0
