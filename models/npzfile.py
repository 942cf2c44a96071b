"""Safe array files: flat numeric arrays in ``.npz`` with a JSON manifest of their SHA-256 checksums.

Files are written with :func:`numpy.savez` under a temporary name and renamed, and read with
``allow_pickle=False``, so loading never executes code. The manifest (a JSON document stored as a
uint8 array named ``manifest``) records a format name and version, free metadata and, for every
array, its dtype, shape and SHA-256; a file that does not match is refused with
:class:`ModelFileError` naming the file and the check that failed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from magnetscreen.datasets.errors import MagnetscreenError

__all__ = ["ModelFileError", "array_digest", "file_digest", "save_arrays", "load_arrays"]


class ModelFileError(MagnetscreenError):
    """A model file that is missing, corrupted, or not of the expected magnetscreen format."""


def array_digest(array: np.ndarray) -> str:
    """SHA-256 of the bytes of a C-contiguous copy of ``array``."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], *, format_name: str, format_version: int,
                metadata: dict | None = None) -> None:
    """Write ``arrays`` (numeric or bool, no objects) and their manifest to ``path`` atomically."""
    for name, array in arrays.items():
        if name == "manifest" or array.dtype.kind not in "biuf":
            raise ValueError(f"array {name!r}: only numeric or bool arrays can be stored, got {array.dtype}")
    manifest = {
        "format": format_name,
        "format_version": format_version,
        "metadata": metadata or {},
        "arrays": {name: {"dtype": str(a.dtype), "shape": list(a.shape), "sha256": array_digest(a)}
                   for name, a in sorted(arrays.items())},
    }
    payload = np.frombuffer(json.dumps(manifest, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as handle:
        np.savez(handle, manifest=payload, **{name: arrays[name] for name in sorted(arrays)})
    tmp.replace(path)


def load_arrays(path: str | Path, *, format_name: str, format_version: int,
                required: tuple[str, ...] = ()) -> tuple[dict[str, np.ndarray], dict]:
    """Read and verify a file written by :func:`save_arrays`.

    Returns
    -------
    arrays : dict of ndarray
    metadata : dict

    Raises
    ------
    ModelFileError
        Missing file, not an npz, missing or unreadable manifest, wrong format or version, an array
        missing, or a dtype, shape or checksum mismatch.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path}: not a readable .npz model file ({exc})") from None
    if "manifest" not in contents:
        raise ModelFileError(f"{path}: no manifest (not a magnetscreen model file)")
    try:
        manifest = json.loads(contents.pop("manifest").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: manifest is not valid JSON ({exc})") from None
    if manifest.get("format") != format_name or manifest.get("format_version") != format_version:
        raise ModelFileError(f"{path}: expected format {format_name!r} version {format_version}, found "
                             f"{manifest.get('format')!r} version {manifest.get('format_version')!r}")
    specs = manifest.get("arrays", {})
    for name in required:
        if name not in contents or name not in specs:
            raise ModelFileError(f"{path}: array {name!r} missing")
    for name, array in contents.items():
        spec = specs.get(name)
        if spec is None:
            raise ModelFileError(f"{path}: array {name!r} is not in the manifest")
        if str(array.dtype) != spec.get("dtype") or list(array.shape) != spec.get("shape"):
            raise ModelFileError(f"{path}: array {name!r} has {array.dtype} {list(array.shape)}, manifest says "
                                 f"{spec.get('dtype')} {spec.get('shape')}")
        if array_digest(array) != spec.get("sha256"):
            raise ModelFileError(f"{path}: checksum mismatch for array {name!r} (file corrupted or edited)")
    missing = sorted(set(specs) - set(contents))
    if missing:
        raise ModelFileError(f"{path}: array {missing[0]!r} listed in the manifest is missing")
    return contents, manifest.get("metadata", {})
