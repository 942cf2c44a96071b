"""Provenance helpers shared by every room: the package version, library versions and checksums.

One place collects versions (run manifests, model cards, benchmark records and the report all call
:func:`versions`), and one place hashes files and JSON records, so that a checksum written by one
module is computed the same way when another module checks it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["LIBRARIES", "package_version", "versions", "file_sha256", "bytes_sha256", "json_sha256"]

#: Libraries whose versions a record carries (``None`` when not installed).
LIBRARIES = ("magnetscreen", "numpy", "numba", "scipy", "scikit-learn", "pymatgen", "pandas", "pyarrow", "joblib",
             "dask", "distributed", "plotly")


def package_version() -> str:
    """Version of the installed magnetscreen distribution (``"unknown"`` from an uninstalled source tree)."""
    try:
        return metadata.version("magnetscreen")
    except metadata.PackageNotFoundError:
        return "unknown"


def versions(libraries: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Python's version and the installed version of each library (None when it is not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in libraries:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def bytes_sha256(data: bytes) -> str:
    """SHA-256 of bytes, as hex."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def json_sha256(record: Any) -> str:
    """SHA-256 of a JSON-ready record in canonical form (sorted keys, no whitespace, no NaN)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return bytes_sha256(text.encode("utf-8"))
