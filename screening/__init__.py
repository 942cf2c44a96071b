"""The screening room: run configuration, the streaming loop, ranking, the run contract, the report,
benchmarks and the command line.

Subpackages: :mod:`~magnetscreen.screening.engine` (configuration, pipeline, loop, ranking, run folder),
:mod:`~magnetscreen.screening.report` (the HTML report, which reads what a run saved),
:mod:`~magnetscreen.screening.bench` (benchmarks that time the real pipeline through a timer hook) and
:mod:`~magnetscreen.screening.cli` (one module per subcommand). The public API below is loaded on first
use, so that ``magnetscreen --help`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["RunConfig", "ScreeningResult", "default_config", "load_config", "parse_config", "screen"]

_LAZY = {
    "RunConfig": "magnetscreen.screening.engine.config",
    "default_config": "magnetscreen.screening.engine.config",
    "load_config": "magnetscreen.screening.engine.config",
    "parse_config": "magnetscreen.screening.engine.config",
    "screen": "magnetscreen.screening.runner",
    "ScreeningResult": "magnetscreen.screening.engine.loop",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'magnetscreen.screening' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
