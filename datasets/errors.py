"""Error types shared by every room of magnetscreen.

All user-facing errors derive from :class:`MagnetscreenError`, itself a :class:`ValueError`, so a
caller can catch "bad input" in one place while bugs (any other exception) stay visible. Each message
names the offending value and, where useful, the expected form.
"""

from __future__ import annotations

__all__ = [
    "MagnetscreenError",
    "CompositionError",
    "FamilyError",
    "ConfigError",
    "DataError",
]


class MagnetscreenError(ValueError):
    """Base class of every error caused by bad input (exit code 2 on the command line)."""


class CompositionError(MagnetscreenError):
    """A formula or an ``{element: amount}`` mapping that is not a valid composition."""


class FamilyError(MagnetscreenError):
    """A candidate-family definition that does not follow the family schema."""


class ConfigError(MagnetscreenError):
    """A run configuration that does not follow the configuration schema."""


class DataError(MagnetscreenError):
    """A data table (shipped or user-supplied) that fails validation."""
