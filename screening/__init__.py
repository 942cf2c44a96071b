"""Run configuration, the screening loop, outputs and the command line."""

from magnetscreen.screening.config import RunConfig, default_config, load_config, parse_config

__all__ = ["RunConfig", "default_config", "load_config", "parse_config"]
