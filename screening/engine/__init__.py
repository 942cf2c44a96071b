"""The screening engine: run configuration, the per-chunk pipeline, the streaming loop, ranking and the
run folder's contract (:mod:`~magnetscreen.screening.engine.contract`)."""

from magnetscreen.screening.engine.config import RunConfig, default_config, load_config, parse_config
from magnetscreen.screening.engine.loop import ScreeningResult, screen

__all__ = ["RunConfig", "ScreeningResult", "default_config", "load_config", "parse_config", "screen"]
