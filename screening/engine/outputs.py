"""Atomic output files: write under a temporary name in the same folder, then rename.

An interrupted run therefore never leaves a file that looks complete: either the final name holds the
whole output, or it does not exist (and the ``.partial`` file is removed on error). A write that fails on
the operating system's side (disk full, permission denied, a read-only folder) raises :class:`OutputError`
naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from magnetscreen.datasets.errors import MagnetscreenError

__all__ = ["OutputError", "atomic_path"]


class OutputError(MagnetscreenError):
    """An output file that could not be written (the message names the file and the reason)."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on error delete it."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot create the folder ({exc.strerror or exc})") from exc
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
