"""The ``magnetscreen`` command: argparse subcommands, one module each under :mod:`magnetscreen.screening.cli`.

Every subcommand module has the same two functions: ``add_parser(subparsers)`` registers its parser (and
binds ``func`` to its own ``run``), and ``run(args) -> int`` does the work. Registration imports nothing
heavy, so ``magnetscreen --help`` stays fast; each ``run`` imports what it needs.

Exit codes: 0 success, 2 bad input (one line naming the problem), 1 internal error (a bug: please
report it with the traceback printed by ``--debug``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

__all__ = ["main", "build_parser", "SUBCOMMANDS"]

#: Subcommand modules of :mod:`magnetscreen.screening.cli`, in the order ``--help`` lists them.
SUBCOMMANDS = ("screen", "warmup", "report", "families", "enumerate", "featurize", "data", "train", "validate",
               "predict", "risk", "disclose", "campaign", "bench")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from magnetscreen.datasets.provenance import package_version

    parser = argparse.ArgumentParser(
        prog="magnetscreen",
        description="Screen permanent-magnet compositions for performance per heavy-rare-earth intensity "
        "and supply risk.",
    )
    parser.add_argument("--version", action="version", version=f"magnetscreen {package_version()}")
    parser.add_argument("--debug", action="store_true", help="print the full traceback of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        import_module(f"magnetscreen.screening.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``magnetscreen`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from magnetscreen.datasets.errors import MagnetscreenError, input_error

    try:
        return int(args.func(args) or 0)
    except MagnetscreenError as exc:
        print(f"magnetscreen {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("magnetscreen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        message = input_error(exc)
        if message is not None:  # an operating-system or resource error on the user's input
            print(f"magnetscreen {args.command}: error: {message}", file=sys.stderr)
            return 2
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
