"""Safe model files: flat arrays in safetensors files, checked against a detached manifest before reading.

Why safetensors (https://github.com/huggingface/safetensors) rather than our own ``.npz``: a
safetensors file is an 8-byte header length, a JSON header (dtype, shape and byte range of every array,
free string metadata) and the raw bytes. Loading runs no code (no pickle), nothing is compressed (so there
is no zip bomb to defuse), the library checks that every byte range lies inside the file and matches its
dtype and shape, and the header size is bounded. An ``.npz`` is a zip archive: bounding member sizes,
refusing compressed or pickled members and checking shapes against a manifest was format code we would
have had to write and maintain ourselves.

On top of the format, a model folder carries a detached ``manifest.json`` that lists every file with its
size and SHA-256 (:func:`write_folder_manifest`); :func:`verify_folder` checks the manifest, then each
file's size (bounded) and checksum, before any array is read. :func:`read_tensors` then checks each array's
name, dtype, number of dimensions and, where asked, finiteness; the semantic cross-checks (node indices in
range, domain arrays matching the training rows) belong to the modules that own those arrays
(:mod:`magnetscreen.models.trees`, :mod:`magnetscreen.models.surrogates`). Every failure is a
:class:`ModelFileError` naming the file, the array and the problem.
"""

from __future__ import annotations

import json
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from magnetscreen.datasets.errors import MagnetscreenError
from magnetscreen.datasets.provenance import file_sha256

__all__ = ["ModelFileError", "ArraySpec", "save_tensors", "read_tensors", "write_folder_manifest", "verify_folder",
           "MAX_FILE_BYTES", "MAX_MANIFEST_BYTES", "FOLDER_MANIFEST"]

#: Largest model file accepted (the shipped ones are a few MB).
MAX_FILE_BYTES = 512 * 2**20
#: Largest manifest or card accepted.
MAX_MANIFEST_BYTES = 4 * 2**20
#: Largest safetensors header accepted.
_MAX_HEADER_BYTES = 4 * 2**20
#: Name of the detached manifest of a model folder.
FOLDER_MANIFEST = "manifest.json"


class ModelFileError(MagnetscreenError):
    """A model file or folder that is missing, corrupted, tampered with, or not of the expected format."""


@dataclass(frozen=True)
class ArraySpec:
    """What an array must be: numpy dtype name, number of dimensions, and whether every value must be finite."""

    dtype: str
    ndim: int
    finite: bool = False


def save_tensors(path: str | Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any] | None = None) -> None:
    """Write ``arrays`` (numeric or bool) and JSON ``metadata`` to a safetensors file, atomically."""
    from safetensors.numpy import save

    for name, array in arrays.items():
        if array.dtype.kind not in "biuf":
            raise ValueError(f"array {name!r}: only numeric or bool arrays can be stored, got {array.dtype}")
    payload = save({name: np.ascontiguousarray(arrays[name]) for name in sorted(arrays)},
                   metadata={"magnetscreen": json.dumps(metadata or {}, sort_keys=True)})
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _regular_file(path: Path, limit: int) -> int:
    """Size of ``path``; ModelFileError unless it is a regular file of at most ``limit`` bytes."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(f"{path}: not a regular file")
    if info.st_size > limit:
        raise ModelFileError(f"{path}: {info.st_size} bytes, larger than the {limit} bytes a model file may have")
    return info.st_size


def read_tensors(path: str | Path, specs: dict[str, ArraySpec]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a safetensors model file and check every array against ``specs``.

    Returns
    -------
    arrays : dict of ndarray
    metadata : dict
        The JSON metadata written by :func:`save_tensors`.

    Raises
    ------
    ModelFileError
        Not a safetensors file, a header too large or malformed, an array missing or unexpected, or of
        the wrong dtype, number of dimensions, or with non-finite values where finite ones are required.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    size = _regular_file(path, MAX_FILE_BYTES)
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{path}: truncated ({size} bytes): not a safetensors model file")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > min(_MAX_HEADER_BYTES, size - 8):
            raise ModelFileError(f"{path}: header of {header_len} bytes does not fit the file ({size} bytes): "
                                 "not a safetensors model file, or truncated")
        data = head + handle.read()
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
        meta = json.loads(header.get("__metadata__", {}).get("magnetscreen", "{}"))
    except (UnicodeDecodeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: header is not valid JSON ({exc}): not a safetensors model file") from None
    try:
        arrays = load(data)
    except (SafetensorError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: not a valid safetensors file ({exc})") from None
    missing = sorted(set(specs) - set(arrays))
    if missing:
        raise ModelFileError(f"{path}: array {missing[0]!r} missing")
    extra = sorted(set(arrays) - set(specs))
    if extra:
        raise ModelFileError(f"{path}: unexpected array {extra[0]!r}")
    for name, spec in specs.items():
        array = arrays[name]
        if str(array.dtype) != spec.dtype:
            raise ModelFileError(f"{path}: array {name!r} has dtype {array.dtype}, expected {spec.dtype}")
        if array.ndim != spec.ndim:
            raise ModelFileError(f"{path}: array {name!r} has {array.ndim} dimensions (shape {list(array.shape)}), "
                                 f"expected {spec.ndim}")
        if spec.finite and array.size and not np.all(np.isfinite(array)):
            bad = int(np.flatnonzero(~np.isfinite(array.ravel()))[0])
            raise ModelFileError(f"{path}: array {name!r} has a non-finite value at flat index {bad}")
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata is not a JSON object")
    return arrays, meta


def write_folder_manifest(directory: str | Path, files: list[str], info: dict[str, Any]) -> dict[str, str]:
    """Write ``manifest.json`` listing ``files`` (size and SHA-256 each) and ``info``; returns name -> SHA-256."""
    directory = Path(directory)
    entries: dict[str, dict[str, Any]] = {}
    for name in sorted(files):
        path = directory / name
        entries[name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    document = {**info, "files": entries}
    path = directory / FOLDER_MANIFEST
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return {name: e["sha256"] for name, e in entries.items()} | {FOLDER_MANIFEST: file_sha256(path)}


def read_json_file(path: Path, what: str) -> Any:
    """A size-bounded JSON file of a model folder; ModelFileError naming it otherwise."""
    _regular_file(path, MAX_MANIFEST_BYTES)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: {what} is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: {what} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: {what} is nested too deeply") from None


def verify_folder(directory: str | Path, format_name: str, format_version: int
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a model folder's detached manifest and every file it lists (size, SHA-256) before any is read.

    Returns
    -------
    manifest : dict
        The manifest (without ``files``).
    digests : dict
        File name -> SHA-256 of every listed file and of the manifest itself.

    Raises
    ------
    ModelFileError
        No folder, no or malformed manifest, wrong format or version, a listed file missing, of another
        size, larger than :data:`MAX_FILE_BYTES`, or failing its checksum.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelFileError(f"{directory}: no such model folder (train one with `magnetscreen train --out DIR`)")
    path = directory / FOLDER_MANIFEST
    if not path.exists():
        raise ModelFileError(f"{path}: missing: a model folder lists its files and checksums in {FOLDER_MANIFEST} "
                             "(a folder of an older magnetscreen: retrain it with `magnetscreen train`)")
    manifest = read_json_file(path, "the manifest")
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{path}: expected a JSON object")
    if manifest.get("format") != format_name or manifest.get("format_version") != format_version:
        raise ModelFileError(f"{path}: expected format {format_name!r} version {format_version}, found "
                             f"{manifest.get('format')!r} version {manifest.get('format_version')!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise ModelFileError(f"{path}: 'files' must list the folder's files with their size and sha256")
    digests = {}
    for name, entry in sorted(files.items()):
        if not isinstance(name, str) or "/" in name or name.startswith(".") or name == FOLDER_MANIFEST:
            raise ModelFileError(f"{path}: files: {name!r} is not a file name of the folder")
        if not (isinstance(entry, dict) and isinstance(entry.get("bytes"), int)
                and isinstance(entry.get("sha256"), str)):
            raise ModelFileError(f"{path}: files.{name}: expected {{'bytes': int, 'sha256': str}}, got {entry!r}")
        file = directory / name
        size = _regular_file(file, MAX_FILE_BYTES)
        if size != entry["bytes"]:
            raise ModelFileError(f"{file}: {size} bytes, the manifest says {entry['bytes']} (file truncated or edited)")
        digest = file_sha256(file)
        if digest != entry["sha256"]:
            raise ModelFileError(f"{file}: checksum differs from the manifest (file corrupted or edited)")
        digests[name] = digest
    digests[FOLDER_MANIFEST] = file_sha256(path)
    return {k: v for k, v in manifest.items() if k != "files"}, digests
