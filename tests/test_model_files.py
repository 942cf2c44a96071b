"""Model folders are checked before any array reaches a kernel: tampered folders (checksum, shape, dtype,
NaN, truncation, zip bomb, pickle, inconsistent arrays) are refused with a ModelFileError that names the
file, the array and the problem, and the command line exits 2 for them, never 1 or a crash."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from magnetscreen.datasets.provenance import file_sha256
from magnetscreen.descriptors.featurize import feature_names
from magnetscreen.models.modelfile import ModelFileError
from magnetscreen.models.surrogates import default_model_dir, load_surrogates


@pytest.fixture()
def folder(tmp_path) -> Path:
    out = tmp_path / "models"
    shutil.copytree(default_model_dir(), out)
    return out


def _reseal(folder: Path, name: str) -> None:
    """Update the manifest entry of ``name`` so that only the semantic checks can catch a change."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"][name] = {"bytes": (folder / name).stat().st_size, "sha256": file_sha256(folder / name)}
    path.write_text(json.dumps(manifest))


def _edit(folder: Path, name: str, reseal: bool = True, **changes) -> None:
    path = folder / name
    arrays = load_file(path)
    with safe_open(path, framework="numpy") as handle:
        meta = handle.metadata()
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    save_file(arrays, path, metadata=meta)
    if reseal:
        _reseal(folder, name)


def _refused(folder: Path, pattern: str) -> None:
    with pytest.raises(ModelFileError, match=pattern):
        load_surrogates(folder)


def test_the_shipped_folder_loads(folder):
    models = load_surrogates(folder)
    assert set(models.files) == {"manifest.json", "domain.safetensors", "Js_T.safetensors", "K1_MJm3.safetensors",
                                 "Tc_K.safetensors", "Js_T.card.json", "K1_MJm3.card.json", "Tc_K.card.json"}


def test_an_edited_file_fails_its_checksum_before_it_is_read(folder):
    raw = bytearray((folder / "Tc_K.safetensors").read_bytes())
    raw[-5] ^= 0xFF
    (folder / "Tc_K.safetensors").write_bytes(bytes(raw))
    _refused(folder, r"Tc_K\.safetensors: checksum differs from the manifest")


def test_a_missing_or_unlisted_file_or_manifest_is_named(folder):
    (folder / "K1_MJm3.card.json").unlink()
    _refused(folder, r"K1_MJm3\.card\.json: no such model file")
    (folder / "manifest.json").unlink()
    _refused(folder, r"manifest\.json: missing")


def test_truncated_file(folder):
    path = folder / "Js_T.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    _refused(folder, r"Js_T\.safetensors: 1000 bytes, the manifest says")
    _reseal(folder, "Js_T.safetensors")
    _refused(folder, r"Js_T\.safetensors: (header of \d+ bytes does not fit|not a valid safetensors)")


def test_domain_train_mask_of_the_wrong_shape(folder):
    """The case that made `predict` segfault: a train_mask with one row more than the training rows."""
    mask = load_file(folder / "domain.safetensors")["train_mask"]
    _edit(folder, "domain.safetensors", train_mask=np.vstack([mask, mask[:1]]))
    _refused(folder, r"domain\.safetensors: array 'train_mask' has shape \[\d+, 3\], expected \[\d+, 3\]")


def test_wrong_dtype(folder):
    mask = load_file(folder / "domain.safetensors")["train_mask"]
    _edit(folder, "domain.safetensors", train_mask=mask.astype(np.int8))
    _refused(folder, r"array 'train_mask' has dtype int8, expected bool")


def test_short_mean(folder):
    mean = load_file(folder / "domain.safetensors")["mean"]
    _edit(folder, "domain.safetensors", mean=mean[:-1])
    n = len(mean)
    _refused(folder, rf"arrays 'mean'/'scale' have shapes \[{n - 1}\]/\[{n}\], expected \[{n}\]")


def test_nan_values(folder):
    arrays = load_file(folder / "Tc_K.safetensors")
    threshold = arrays["threshold"].copy()
    threshold[int(np.flatnonzero(arrays["left"] != -1)[3])] = np.nan
    _edit(folder, "Tc_K.safetensors", threshold=threshold)
    _refused(folder, r"Tc_K\.safetensors: array 'threshold': non-finite split threshold")
    shutil.copy(default_model_dir() / "Tc_K.safetensors", folder / "Tc_K.safetensors")
    _reseal(folder, "Tc_K.safetensors")
    thresholds = load_file(folder / "domain.safetensors")["thresholds"].copy()
    thresholds[1] = np.nan
    _edit(folder, "domain.safetensors", thresholds=thresholds)
    _refused(folder, r"domain\.safetensors: array 'thresholds' has a non-finite value at flat index 1")


def test_out_of_range_indices(folder):
    arrays = load_file(folder / "Js_T.safetensors")
    feature = arrays["feature"].copy()
    feature[int(np.flatnonzero(arrays["left"] != -1)[0])] = 10_000
    _edit(folder, "Js_T.safetensors", feature=feature)
    n = len(feature_names()) + 2 - 1  # descriptors and the two context columns
    _refused(folder, rf"Js_T\.safetensors: array 'feature': split feature out of range 0\.\.{n}")
    shutil.copy(default_model_dir() / "Js_T.safetensors", folder / "Js_T.safetensors")
    left = arrays["left"].copy()
    left[int(np.flatnonzero(arrays["left"] != -1)[0])] = 10**9
    _edit(folder, "Js_T.safetensors", left=left)
    _refused(folder, r"child index out of its tree")


def test_a_missing_array_and_an_extra_array(folder):
    _edit(folder, "K1_MJm3.safetensors", value=None)
    _refused(folder, r"K1_MJm3\.safetensors: array 'value' missing")
    shutil.copy(default_model_dir() / "K1_MJm3.safetensors", folder / "K1_MJm3.safetensors")
    _edit(folder, "K1_MJm3.safetensors", payload=np.zeros(3))
    _refused(folder, r"unexpected array 'payload'")


def test_manifest_settings_are_checked(folder):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["models"]["Tc_K"]["sigma_scale"] = float("nan")
    path.write_text(json.dumps(manifest))
    _refused(folder, r"models\.Tc_K\.sigma_scale: expected a list of 3 numbers \(one per route")
    manifest["models"]["Tc_K"]["sigma_scale"] = [1.0, float("nan"), 1.0]
    path.write_text(json.dumps(manifest))
    _refused(folder, r"models\.Tc_K\.sigma_scale\[1\]: expected a finite number >= 0, got nan")
    manifest["models"]["Tc_K"]["sigma_scale"] = [1.0, 1.0, 1.0]
    manifest["models"]["Tc_K"]["n_features"] = 151
    path.write_text(json.dumps(manifest))
    _refused(folder, r"Tc_K\.safetensors: (the trees use 151 features|array 'feature': split feature out of range)")
    manifest["models"]["Tc_K"]["n_features"] = 152
    manifest["format_version"] = 1
    path.write_text(json.dumps(manifest))
    _refused(folder, r"expected format 'magnetscreen-models' version 3")


def test_zip_bomb_is_refused_without_inflating_it(folder, tmp_path):
    """A deflated member that would inflate to 1 GiB, in place of a model file: refused by its header, and
    nothing near that size is allocated."""
    import tracemalloc

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("mean.npy", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(1024):
                member.write(block)
    assert bomb.stat().st_size < 5 * 2**20
    shutil.copy(bomb, folder / "domain.safetensors")
    _reseal(folder, "domain.safetensors")
    tracemalloc.start()
    try:
        _refused(folder, r"domain\.safetensors: (header of \d+ bytes does not fit|header is not valid JSON|not a)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20


def test_a_header_declaring_a_huge_array_is_refused(folder):
    header = json.dumps({"mean": {"dtype": "F64", "shape": [10**12], "data_offsets": [0, 8 * 10**12]}}).encode()
    payload = len(header).to_bytes(8, "little") + header + b"\0" * 64
    (folder / "domain.safetensors").write_bytes(payload)
    _reseal(folder, "domain.safetensors")
    _refused(folder, r"domain\.safetensors: not a valid safetensors file")


class _Payload:
    """Unpickling this writes a marker file: if loading ever unpickled, the marker would appear."""

    marker = ""

    def __reduce__(self):
        return (Path(self.marker).write_text, ("unpickled!",))


def test_a_pickle_is_never_unpickled(folder, tmp_path):
    marker = tmp_path / "marker.txt"
    _Payload.marker = str(marker)
    (folder / "Tc_K.safetensors").write_bytes(pickle.dumps({"value": _Payload()}))
    _reseal(folder, "Tc_K.safetensors")
    _refused(folder, r"Tc_K\.safetensors: (header of \d+ bytes does not fit|not a)")
    np.save(folder / "Tc_K.safetensors.npy", np.array([_Payload()], dtype=object), allow_pickle=True)
    shutil.move(folder / "Tc_K.safetensors.npy", folder / "Tc_K.safetensors")
    _reseal(folder, "Tc_K.safetensors")
    _refused(folder, r"Tc_K\.safetensors: (header of \d+ bytes does not fit|not a)")
    assert not marker.exists()


def test_random_byte_flips_never_crash(folder):
    """Flip random bytes of random files (and reseal the manifest): loading and predicting either work or raise
    ModelFileError. A crash (segfault) or another exception fails the test."""
    rng = np.random.default_rng(7)
    names = ["domain.safetensors", "Js_T.safetensors", "K1_MJm3.safetensors", "Tc_K.safetensors"]
    outcomes = {"loaded": 0, "refused": 0}
    for trial in range(40):
        name = names[trial % len(names)]
        shutil.copy(default_model_dir() / name, folder / name)
        raw = bytearray((folder / name).read_bytes())
        header = int.from_bytes(raw[:8], "little")
        for pos in rng.integers(0, min(len(raw), header + 8 + 4096), size=3):
            raw[pos] = int(rng.integers(0, 256))
        (folder / name).write_bytes(bytes(raw))
        _reseal(folder, name)
        try:
            models = load_surrogates(folder)
        except ModelFileError:
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
            models.predict(["Nd2Fe14B", "SmCo5", "Fe16N2"])
        shutil.copy(default_model_dir() / name, folder / name)
        _reseal(folder, name)
    assert outcomes["refused"] > 0


def test_predict_exits_2_naming_the_file(folder):
    mask = load_file(folder / "domain.safetensors")["train_mask"]
    _edit(folder, "domain.safetensors", train_mask=np.vstack([mask, mask[:1]]))
    result = subprocess.run([sys.executable, "-m", "magnetscreen.screening.cli", "predict", "Nd2Fe14B", "--models",
                             str(folder)], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "domain.safetensors: array 'train_mask'" in lines[0]


def test_prior_route_and_domain_offset_arrays_are_checked(folder):
    arrays = load_file(folder / "Tc_K.safetensors")
    assert "routes" in arrays and arrays["routes"].max() > 0  # the shipped Tc model has hybrid routes
    routes = arrays["routes"].copy()
    routes[0] = 7
    _edit(folder, "Tc_K.safetensors", routes=routes)
    _refused(folder, r"Tc_K\.safetensors: array 'routes' must hold one route index in 0\.\.2 per prototype")
    _edit(folder, "Tc_K.safetensors", routes=arrays["routes"])
    values = arrays["prior_values"].copy()
    values[2, 0, 0, 0] = np.inf
    _edit(folder, "Tc_K.safetensors", prior_values=values)
    _refused(folder, r"array 'prior_values' holds an infinite value")
    _edit(folder, "Tc_K.safetensors", prior_values=arrays["prior_values"])
    slots = arrays["prior_a_slot"].copy()
    slots[0, 1] = 99
    _edit(folder, "Tc_K.safetensors", prior_a_slot=slots)
    _refused(folder, r"array 'prior_a_slot' must have shape")
    _edit(folder, "Tc_K.safetensors", prior_a_slot=arrays["prior_a_slot"])
    load_surrogates(folder)  # restored
    start = load_file(folder / "domain.safetensors")["proto_start"].copy()
    start[3], start[4] = start[4] + 1, start[3]
    _edit(folder, "domain.safetensors", proto_start=start)
    _refused(folder, r"array 'proto_start' must hold 13 non-decreasing row offsets")
