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
    "input_error",
]


class MagnetscreenError(ValueError):
    """Base class of every error caused by bad input (exit code 2 on the command line)."""


class CompositionError(MagnetscreenError):
    """A formula or an ``{element: amount}`` mapping that is not a valid composition.

    ``index`` is the position of the composition in a batch input (None for a single one) and ``detail`` the
    message about the composition itself, so that a caller can name the line of a file.
    """

    def __init__(self, message: str, *, index: int | None = None, detail: str | None = None):
        super().__init__(message)
        self.index = index
        self.detail = detail if detail is not None else message


class FamilyError(MagnetscreenError):
    """A candidate-family definition that does not follow the family schema."""


class ConfigError(MagnetscreenError):
    """A run configuration that does not follow the configuration schema."""


class DataError(MagnetscreenError):
    """A data table (shipped or user-supplied) that fails validation."""


def input_error(exc: BaseException) -> str | None:
    """The one-line message of an operating-system or resource error caused by the user's input, else None.

    The command line turns such errors into exit code 2 instead of reporting a bug: a file that cannot be
    read or written (named with its path: missing, permission denied, disk full, a directory where a file
    was expected) and memory exhausted by an input too large for this machine. Any other exception is a bug.
    """
    if isinstance(exc, OSError) and not isinstance(exc, (ConnectionError, TimeoutError)):
        reason = exc.strerror or str(exc) or type(exc).__name__
        path = exc.filename if exc.filename is not None else None
        if path is None:
            return None if not exc.strerror else f"{reason} ({type(exc).__name__})"
        target = f" -> {exc.filename2}" if exc.filename2 is not None else ""
        return f"{path}{target}: {reason}"
    if isinstance(exc, MemoryError):
        return ("ran out of memory: the input asks for more than this machine has (reduce the chunk size, the "
                "candidate count or the data size)")
    return None
