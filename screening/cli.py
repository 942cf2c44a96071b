"""The ``magnetscreen`` command: argparse subcommands, each bound to a handler in its own module.

Exit codes: 0 success, 2 bad input (one line naming the problem), 1 internal error (a bug: please
report it with the traceback printed by ``--debug``). Heavy imports happen inside the handlers so that
``magnetscreen --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata

__all__ = ["main", "build_parser"]


def _version() -> str:
    try:
        return metadata.version("magnetscreen")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magnetscreen",
        description="Screen permanent-magnet compositions for performance per heavy-rare-earth intensity "
        "and supply risk.",
    )
    parser.add_argument("--version", action="version", version=f"magnetscreen {_version()}")
    parser.add_argument("--debug", action="store_true", help="print the full traceback of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("families", help="list the built-in candidate families",
                       description="List the built-in candidate families: prototype, sites and grid size at the "
                       "default step.")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    p.add_argument("--family", metavar="FILE", action="append", default=[],
                   help="also describe a user family TOML file (repeatable)")
    p.set_defaults(func="magnetscreen.screening.cli_families:run")

    p = sub.add_parser("enumerate", help="write the candidates of a run configuration",
                       description="Enumerate the candidates of a run configuration (default: the embedded "
                       "default) and write their canonical formulas, one per line, or a Parquet table.")
    p.add_argument("config", nargs="?", metavar="CONFIG.toml", help="run configuration (default: embedded default)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output file; '.parquet' writes Parquet (family, candidate_index, formula), else text")
    p.add_argument("--format", choices=("text", "parquet"), default=None,
                   help="output format (default: from the file suffix)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="override the config's chunk size")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func="magnetscreen.screening.cli_enumerate:run")

    p = sub.add_parser("featurize", help="compute composition descriptors for a file of formulas",
                       description="Compute the magnetscreen composition descriptors (numba kernels) for a file of "
                       "formulas: text (one per line), CSV or Parquet. Output: Parquet (default) or CSV with "
                       "formula, canonical_formula and one column per feature.")
    p.add_argument("file", metavar="FILE", help="formulas: .txt (one per line), .csv or .parquet")
    p.add_argument("--out", required=True, metavar="FILE", help="output .parquet or .csv")
    p.add_argument("--format", choices=("parquet", "csv"), default=None, help="default: from the suffix of --out")
    p.add_argument("--formula-column", default="formula", help="formula column of a CSV/Parquet input")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func="magnetscreen.screening.cli_featurize:run")

    p = sub.add_parser("data", help="list, show and check datasets",
                       description="List the shipped datasets (rows, columns, methods, sources), print the rows "
                       "of one, or validate a user dataset (CSV or Parquet).",
                       epilog="examples: magnetscreen data | magnetscreen data show intrinsic | "
                       "magnetscreen data check my_measurements.csv")
    p.add_argument("action", nargs="?", choices=("list", "show", "check"), help="default: list")
    p.add_argument("name", nargs="?", metavar="NAME|FILE", help="dataset name (show) or file (check)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="print at most N rows")
    p.add_argument("--formula-column", default="formula", help="formula column of a user file (check)")
    p.set_defaults(func="magnetscreen.screening.cli_data:run")

    from magnetscreen.screening import (cli_bench, cli_disclose, cli_predict, cli_report, cli_risk, cli_screen,
                                        cli_train)

    cli_screen.add_parser(sub)
    cli_report.add_parser(sub)
    cli_bench.add_parser(sub)
    cli_risk.add_parser(sub)
    cli_disclose.add_parser(sub)
    cli_train.add_parser(sub)
    cli_predict.add_parser(sub)
    return parser


def _handler(path: str):
    from importlib import import_module

    module, name = path.split(":")
    return getattr(import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``magnetscreen`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from magnetscreen.datasets.errors import MagnetscreenError
    except Exception as exc:  # pragma: no cover - broken installation
        print(f"magnetscreen: internal error: cannot import magnetscreen ({exc})", file=sys.stderr)
        return 1
    try:
        return int(_handler(args.func)(args) or 0)
    except MagnetscreenError as exc:
        print(f"magnetscreen {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("magnetscreen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.debug:
            import traceback

            traceback.print_exc()
        print(
            f"magnetscreen {args.command}: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in magnetscreen; please report it with the output of the same command run with --debug.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
