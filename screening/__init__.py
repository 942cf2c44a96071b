"""Run configuration, the screening loop, ranking, backends, outputs and the command line."""

from magnetscreen.screening.config import RunConfig, default_config, load_config, parse_config

__all__ = ["RunConfig", "ScreeningResult", "default_config", "load_config", "parse_config", "screen"]


def __getattr__(name):
    # the engine imports the models and pandas: loaded on first use so that `magnetscreen --help` stays fast
    if name in ("screen", "ScreeningResult"):
        from magnetscreen.screening import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'magnetscreen.screening' has no attribute {name!r}")
