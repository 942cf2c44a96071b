"""The ``magnetscreen`` command line: :func:`main` and one module per subcommand."""

from magnetscreen.screening.cli.app import SUBCOMMANDS, build_parser, main

__all__ = ["SUBCOMMANDS", "build_parser", "main"]
