"""Flat, safe tree ensembles: export from scikit-learn, ``.npz`` files with a checksum manifest, numba
inference.

A :class:`FlatEnsemble` holds the trees of a fitted ``RandomForestRegressor``,
``ExtraTreesRegressor`` or ``GradientBoostingRegressor`` (single output) as parallel arrays in
scikit-learn's layout (see :mod:`magnetscreen.models.tree_kernels`). Files are written with
``numpy.savez`` and read with ``allow_pickle=False``: loading never executes code. A JSON manifest
stored in the file records the kind, the number of features, metadata and the SHA-256 of every array;
a file whose arrays do not match it, or whose trees are not well formed, is refused with
:class:`ModelFileError`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from magnetscreen.datasets.errors import MagnetscreenError
from magnetscreen.models import tree_kernels as _k

__all__ = ["FlatEnsemble", "ModelFileError", "flatten", "save_ensemble", "load_ensemble", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_ARRAYS = ("offset", "left", "right", "feature", "threshold", "value")


class ModelFileError(MagnetscreenError):
    """A model file that is missing, corrupted, or not a magnetscreen flat ensemble."""


@dataclass(frozen=True)
class FlatEnsemble:
    """A tree ensemble as flat arrays.

    Attributes
    ----------
    kind : {"average", "boosting"}
        "average": prediction = mean over trees (forests), with the per-tree spread;
        "boosting": prediction = init + learning_rate * sum over trees.
    n_features : int
    offset : int64 (T + 1,); left, right, feature : int64 (N,); threshold, value : float64 (N,)
    init, learning_rate : float (boosting only)
    metadata : dict (JSON-serializable)
    """

    kind: str
    n_features: int
    offset: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    init: float = 0.0
    learning_rate: float = 1.0
    metadata: dict = field(default_factory=dict, compare=False)

    @property
    def n_trees(self) -> int:
        return int(self.offset.shape[0] - 1)

    def predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and per-tree spread (zeros for boosting) for a feature matrix.

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Cast to float32 first, as scikit-learn does.

        Returns
        -------
        mean : ndarray of float64, shape (n,)
        spread : ndarray of float64, shape (n,)
        """
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected a 2-D feature matrix with {self.n_features} columns, got shape {X.shape}")
        links, numbers = self.packed()
        if self.kind == "average":
            return _k.forest_predict_kernel(X, self.offset, links, numbers)
        mean = _k.boosting_predict_kernel(X, self.offset, links, numbers, self.init, self.learning_rate)
        return mean, np.zeros_like(mean)

    def packed(self) -> tuple[np.ndarray, np.ndarray]:
        """Node arrays for the kernels: links int64 (3, N) = left, right (global node ids, -1 at leaves),
        feature; numbers float64 (2, N) = threshold, value. Built once and cached."""
        cached = self.__dict__.get("_packed")
        if cached is None:
            start = np.repeat(self.offset[:-1], np.diff(self.offset))
            leaf = self.left == -1
            links = np.ascontiguousarray(np.stack([np.where(leaf, -1, self.left + start),
                                                   np.where(leaf, -1, self.right + start), self.feature]),
                                         dtype=np.int64)
            numbers = np.ascontiguousarray(np.stack([self.threshold, self.value]), dtype=np.float64)
            cached = (links, numbers)
            object.__setattr__(self, "_packed", cached)
        return cached


def flatten(estimator, metadata: dict | None = None) -> FlatEnsemble:
    """Export a fitted scikit-learn tree ensemble (single-output regression) to a :class:`FlatEnsemble`."""
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor

    if isinstance(estimator, (RandomForestRegressor, ExtraTreesRegressor)):
        trees = [e.tree_ for e in estimator.estimators_]
        kind, init, rate = "average", 0.0, 1.0
    elif isinstance(estimator, GradientBoostingRegressor):
        if estimator.loss != "squared_error" or not isinstance(estimator.init_, DummyRegressor):
            raise ValueError("only GradientBoostingRegressor(loss='squared_error') with the default init is supported")
        trees = [e[0].tree_ for e in estimator.estimators_]
        kind, rate = "boosting", float(estimator.learning_rate)
        init = float(np.asarray(estimator.init_.constant_).ravel()[0])
    else:
        raise ValueError(f"cannot flatten {type(estimator).__name__}: expected a random forest, extra trees or "
                         "gradient boosting regressor")
    if any(t.n_outputs != 1 for t in trees):
        raise ValueError("only single-output regressors can be flattened")
    sizes = [t.node_count for t in trees]
    offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return FlatEnsemble(
        kind=kind,
        n_features=int(estimator.n_features_in_),
        offset=offset,
        left=np.concatenate([t.children_left for t in trees]).astype(np.int64),
        right=np.concatenate([t.children_right for t in trees]).astype(np.int64),
        feature=np.concatenate([np.where(t.children_left == -1, 0, t.feature) for t in trees]).astype(np.int64),
        threshold=np.concatenate([t.threshold for t in trees]).astype(np.float64),
        value=np.concatenate([t.value[:, 0, 0] for t in trees]).astype(np.float64),
        init=init,
        learning_rate=rate,
        metadata=dict(metadata or {}),
    )


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def save_ensemble(ensemble: FlatEnsemble, path: str | Path) -> None:
    """Write ``ensemble`` to ``path`` (.npz) with its manifest; no pickles."""
    arrays = {name: getattr(ensemble, name) for name in _ARRAYS}
    manifest = {
        "format": "magnetscreen-flat-ensemble",
        "format_version": FORMAT_VERSION,
        "kind": ensemble.kind,
        "n_features": ensemble.n_features,
        "n_trees": ensemble.n_trees,
        "init": ensemble.init,
        "learning_rate": ensemble.learning_rate,
        "metadata": ensemble.metadata,
        "arrays": {name: {"dtype": str(a.dtype), "shape": list(a.shape), "sha256": _digest(a)}
                   for name, a in arrays.items()},
    }
    payload = np.frombuffer(json.dumps(manifest, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as handle:
        np.savez(handle, manifest=payload, **arrays)
    tmp.replace(path)


def load_ensemble(path: str | Path) -> FlatEnsemble:
    """Read and verify a flat ensemble.

    Raises
    ------
    ModelFileError
        Missing file, not an npz, missing or unreadable manifest, checksum or shape mismatch, or
        malformed trees; the message names the file and the check that failed.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a readable .npz model file ({exc})") from None
    if "manifest" not in contents:
        raise ModelFileError(f"{path}: no manifest (not a magnetscreen model file)")
    try:
        manifest = json.loads(contents["manifest"].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: manifest is not valid JSON ({exc})") from None
    if manifest.get("format") != "magnetscreen-flat-ensemble" or manifest.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: unsupported format {manifest.get('format')!r} "
                             f"version {manifest.get('format_version')!r}")
    for name in _ARRAYS:
        if name not in contents:
            raise ModelFileError(f"{path}: array {name!r} missing")
        spec = manifest["arrays"].get(name, {})
        array = contents[name]
        if str(array.dtype) != spec.get("dtype") or list(array.shape) != spec.get("shape"):
            raise ModelFileError(f"{path}: array {name!r} has {array.dtype} {list(array.shape)}, manifest says "
                                 f"{spec.get('dtype')} {spec.get('shape')}")
        if _digest(array) != spec.get("sha256"):
            raise ModelFileError(f"{path}: checksum mismatch for array {name!r} (file corrupted or edited)")
    ensemble = FlatEnsemble(
        kind=manifest["kind"], n_features=int(manifest["n_features"]),
        **{name: contents[name] for name in _ARRAYS},
        init=float(manifest["init"]), learning_rate=float(manifest["learning_rate"]),
        metadata=manifest.get("metadata", {}),
    )
    _check_structure(ensemble, path)
    return ensemble


def _check_structure(e: FlatEnsemble, path: Path) -> None:
    n_nodes = e.left.shape[0]
    if e.kind not in ("average", "boosting"):
        raise ModelFileError(f"{path}: unknown ensemble kind {e.kind!r}")
    if e.n_trees < 1 or e.offset[0] != 0 or e.offset[-1] != n_nodes or np.any(np.diff(e.offset) < 1):
        raise ModelFileError(f"{path}: tree offsets do not partition the {n_nodes} nodes")
    for name in ("right", "feature", "threshold", "value"):
        if getattr(e, name).shape != (n_nodes,):
            raise ModelFileError(f"{path}: array {name!r} does not have one entry per node ({n_nodes})")
    sizes = np.diff(e.offset)
    tree_size = np.repeat(sizes, sizes)
    leaf = e.left == -1
    if np.any(leaf != (e.right == -1)):
        raise ModelFileError(f"{path}: a node has exactly one child")
    inner = ~leaf
    if np.any((e.left[inner] < 1) | (e.left[inner] >= tree_size[inner]) | (e.right[inner] < 1)
              | (e.right[inner] >= tree_size[inner])):
        raise ModelFileError(f"{path}: child index out of its tree")
    if np.any((e.feature[inner] < 0) | (e.feature[inner] >= e.n_features)):
        raise ModelFileError(f"{path}: split feature out of range 0..{e.n_features - 1}")
    if not np.all(np.isfinite(e.value)):
        raise ModelFileError(f"{path}: non-finite leaf value")
