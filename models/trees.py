"""Flat, safe tree ensembles: export from scikit-learn, safetensors files, numba inference.

A :class:`FlatEnsemble` holds the trees of a fitted ``RandomForestRegressor``,
``ExtraTreesRegressor`` or ``GradientBoostingRegressor`` (single output) as parallel arrays in
scikit-learn's layout; for inference it derives (in memory only) a compact node table walked by the
kernels of :mod:`magnetscreen.models.tree_kernels`. Files are safetensors (:mod:`magnetscreen.models.modelfile`):
loading never executes code. Every array is checked for dtype and finiteness, and the trees for structure
(:func:`check_structure`: offsets, child indices inside their tree, features in range, no cycle), before a
kernel sees them; a file that fails is refused with :class:`ModelFileError` naming the file and the array.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from magnetscreen.models import tree_kernels as _k
from magnetscreen.models.modelfile import ArraySpec, ModelFileError, read_tensors, save_tensors

__all__ = ["FlatEnsemble", "ModelFileError", "flatten", "float32_floor", "save_ensemble", "load_ensemble",
           "ensemble_from_arrays", "check_structure", "ARRAY_SPECS",
           "FORMAT_VERSION"]

FORMAT_VERSION = 2
_FORMAT = "magnetscreen-flat-ensemble"
_ARRAYS = ("offset", "left", "right", "feature", "threshold", "value")


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

    def predict(self, X, tail=None) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and per-tree spread (zeros for boosting) for a feature matrix.

        Parameters
        ----------
        X : array_like of shape (n, n_features), or (n, n_features - len(tail)) with ``tail``
            Rounded to float32, as scikit-learn does (float64 input is rounded on the fly, not copied).
        tail : array_like of float, optional
            Values of the last features, the same for every row (so constant columns need not be copied
            into X).

        Returns
        -------
        mean : ndarray of float64, shape (n,)
        spread : ndarray of float64, shape (n,)
        """
        X = np.asarray(X)
        # float64 is rounded to float32 inside the kernels (same rounding, no copy); anything else is cast
        # straight to float32 here, as scikit-learn does.
        X = np.ascontiguousarray(X, dtype=X.dtype if X.dtype in (np.float32, np.float64) else np.float32)
        tail = np.zeros(0) if tail is None else np.ascontiguousarray(tail, dtype=np.float64).reshape(-1)
        if X.ndim != 2 or X.shape[1] + len(tail) != self.n_features:
            given = f"shape {X.shape}" + (f" and {len(tail)} tail values" if len(tail) else "")
            raise ValueError(f"expected a 2-D feature matrix with {self.n_features} columns, got {given}")
        tables = (*self.node_table(), *self.leaf_masks())
        if self.kind == "average":
            return _k.forest_predict_kernel(X, tail, *tables)
        mean = _k.boosting_predict_kernel(X, tail, *tables, self.init, self.learning_rate)
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


    def node_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Arrays walked by the inference kernels (derived from the node arrays; built once and cached).

        Returns
        -------
        roots : ndarray of uint32, shape (T,)
            Global node id of each tree's root.
        depths : ndarray of int64, shape (T,)
            Depth of each tree.
        nodes : ndarray of :data:`~magnetscreen.models.tree_kernels.NODE_DTYPE`, shape (N,)
            One 8-byte record per node, the nodes of each tree in depth-first pre-order (left child next):
            ``threshold``, the largest float32 not above the float64 threshold (NaN at leaves); ``link``,
            the feature and the distance to the right child (0 at a leaf). See
            :mod:`magnetscreen.models.tree_kernels` for the layout and why this takes scikit-learn's
            branch for every float32 input.
        value : ndarray of float64, shape (N,)

        Raises
        ------
        ValueError
            If the node arrays do not form trees (a child outside its tree, a cycle or a shared child) or
            a split feature is out of range.
        """
        cached = self.__dict__.get("_node_table")
        if cached is None:
            n_nodes = self.left.shape[0]
            if n_nodes >= 2**32:
                raise ValueError(f"{n_nodes} nodes: the node table indexes nodes with uint32")
            sizes = np.diff(self.offset)
            tree_size = np.repeat(sizes, sizes)
            inner = self.left != -1
            for name in ("left", "right"):
                child = getattr(self, name)[inner]
                if np.any((child < 1) | (child >= tree_size[inner])):
                    raise ValueError(f"{name} child index out of its tree")
            if np.any((self.feature[inner] < 0) | (self.feature[inner] >= self.n_features)):
                raise ValueError(f"split feature out of range 0..{self.n_features - 1}")
            depths = _k.tree_depths_kernel(np.ascontiguousarray(self.offset, dtype=np.int64),
                                           np.ascontiguousarray(self.left, dtype=np.int64),
                                           np.ascontiguousarray(self.right, dtype=np.int64))
            if np.any(depths < 0):
                raise ValueError(f"tree {int(np.argmax(depths < 0))} is not a tree (a node has one child, or "
                                 "a node is reached twice)")
            if self.n_features > _k.MAX_FEATURES:
                raise ValueError(f"{self.n_features} features: the node table addresses at most {_k.MAX_FEATURES}")
            if sizes.max(initial=0) > _k.MAX_OFFSET:
                raise ValueError(f"a tree of {sizes.max()} nodes: the node table links at most {_k.MAX_OFFSET} "
                                 "nodes within a tree")
            links, numbers = self.packed()
            order = _k.preorder_kernel(np.ascontiguousarray(self.offset, dtype=np.int64),
                                       np.ascontiguousarray(self.left, dtype=np.int64),
                                       np.ascontiguousarray(self.right, dtype=np.int64))
            position = np.empty(n_nodes, dtype=np.int64)
            position[order] = np.arange(n_nodes)
            inner = links[0][order] != -1
            right = np.where(inner, position[np.where(inner, links[1][order], 0)], np.arange(n_nodes))
            feature = np.where(inner, links[2][order], 0).astype(np.uint32)
            nodes = np.zeros(n_nodes, dtype=_k.NODE_DTYPE)
            nodes["threshold"] = np.where(inner, float32_floor(numbers[0][order]), np.float32(np.nan))
            nodes["link"] = (feature << np.uint32(_k.OFFSET_BITS)) | (right - np.arange(n_nodes)).astype(np.uint32)
            roots = np.ascontiguousarray(self.offset[:-1], dtype=np.uint32)
            cached = (roots, depths, nodes, np.ascontiguousarray(numbers[1][order]))
            object.__setattr__(self, "_node_table", cached)
        return cached


    def leaf_masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Leaf-mask tables of the trees with at most :data:`~magnetscreen.models.tree_kernels.MASK_LEAVES`
        leaves, which the kernels evaluate one inner node at a time over a block of rows instead of walking
        them (see :mod:`magnetscreen.models.tree_kernels`); derived from :meth:`node_table`, built once and
        cached.

        Returns
        -------
        mask_start, masks, leaf_start, leaf_nodes
            See :func:`~magnetscreen.models.tree_kernels.leaf_mask_kernel`.
        """
        cached = self.__dict__.get("_leaf_masks")
        if cached is None:
            roots, _, nodes, _ = self.node_table()
            cached = _k.leaf_mask_kernel(roots, nodes)
            object.__setattr__(self, "_leaf_masks", cached)
        return cached


def float32_floor(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 that is <= each float64 threshold (elementwise; NaN stays NaN).

    For every float32 x, ``float64(x) <= t`` exactly when ``x <= float32_floor(t)``.

    Parameters
    ----------
    threshold : ndarray of float64

    Returns
    -------
    ndarray of float32, same shape
    """
    threshold = np.asarray(threshold, dtype=np.float64)
    with np.errstate(over="ignore"):  # beyond +-FLT_MAX: rounds to +-inf, then steps down where needed
        nearest = threshold.astype(np.float32)
        above = nearest.astype(np.float64) > threshold
        nearest[above] = np.nextafter(nearest[above], np.float32(-np.inf))
    return nearest


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


#: Arrays of an ensemble and what each must be.
ARRAY_SPECS = {
    "offset": ArraySpec("int64", 1),
    "left": ArraySpec("int64", 1),
    "right": ArraySpec("int64", 1),
    "feature": ArraySpec("int64", 1),
    "threshold": ArraySpec("float64", 1),
    "value": ArraySpec("float64", 1, finite=True),
}


def save_ensemble(ensemble: FlatEnsemble, path: str | Path) -> None:
    """Write ``ensemble`` to a safetensors file (:func:`~magnetscreen.models.modelfile.save_tensors`)."""
    save_tensors(path, {name: getattr(ensemble, name) for name in _ARRAYS},
                 {"format": _FORMAT, "format_version": FORMAT_VERSION, "kind": ensemble.kind,
                  "n_features": ensemble.n_features, "n_trees": ensemble.n_trees, "init": ensemble.init,
                  "learning_rate": ensemble.learning_rate, "metadata": ensemble.metadata})


def ensemble_from_arrays(arrays: dict[str, np.ndarray], meta: dict, path: Path) -> FlatEnsemble:
    """A checked :class:`FlatEnsemble` from read arrays and metadata; ModelFileError naming ``path`` otherwise."""
    kind = meta.get("kind")
    n_features = meta.get("n_features")
    init, rate = meta.get("init", 0.0), meta.get("learning_rate", 1.0)
    if kind not in ("average", "boosting"):
        raise ModelFileError(f"{path}: unknown ensemble kind {kind!r}")
    if isinstance(n_features, bool) or not isinstance(n_features, int) or not 1 <= n_features <= 100_000:
        raise ModelFileError(f"{path}: n_features: expected an integer in 1..100000, got {n_features!r}")
    for name, value in (("init", init), ("learning_rate", rate)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ModelFileError(f"{path}: {name}: expected a finite number, got {value!r}")
    ensemble = FlatEnsemble(kind=kind, n_features=n_features, **{name: arrays[name] for name in _ARRAYS},
                            init=float(init), learning_rate=float(rate), metadata=meta.get("metadata") or {})
    check_structure(ensemble, path)
    return ensemble


def load_ensemble(path: str | Path) -> FlatEnsemble:
    """Read and verify a flat ensemble written by :func:`save_ensemble`.

    Raises
    ------
    ModelFileError
        Missing file, not a safetensors file, an array missing or of the wrong dtype, or malformed trees;
        the message names the file and the check that failed.
    """
    path = Path(path)
    arrays, meta = read_tensors(path, ARRAY_SPECS)
    if meta.get("format") != _FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: expected format {_FORMAT!r} version {FORMAT_VERSION}, found "
                             f"{meta.get('format')!r} version {meta.get('format_version')!r}")
    return ensemble_from_arrays(arrays, meta, path)


def check_structure(e: FlatEnsemble, path: Path) -> None:
    """Raise :class:`ModelFileError` naming ``path`` if the trees of ``e`` are not well formed.

    Checks: the offsets partition the nodes into non-empty trees; one entry per node in every array;
    every inner node has two children inside its own tree; split features in range; thresholds of inner
    nodes and all leaf values finite; and (through the node table) that every tree is a tree (no cycle, no
    shared child).
    """
    n_nodes = e.left.shape[0]
    if e.kind not in ("average", "boosting"):
        raise ModelFileError(f"{path}: unknown ensemble kind {e.kind!r}")
    if e.offset.ndim != 1 or len(e.offset) < 2:
        raise ModelFileError(f"{path}: array 'offset': expected at least 2 entries (one tree), got {len(e.offset)}")
    if e.offset[0] != 0 or e.offset[-1] != n_nodes or np.any(np.diff(e.offset) < 1):
        raise ModelFileError(f"{path}: array 'offset': tree offsets do not partition the {n_nodes} nodes")
    for name in ("right", "feature", "threshold", "value"):
        if getattr(e, name).shape != (n_nodes,):
            raise ModelFileError(f"{path}: array {name!r} has shape {list(getattr(e, name).shape)}, expected one "
                                 f"entry per node ({n_nodes})")
    sizes = np.diff(e.offset)
    tree_size = np.repeat(sizes, sizes)
    leaf = e.left == -1
    if np.any(leaf != (e.right == -1)):
        raise ModelFileError(f"{path}: arrays 'left'/'right': a node has exactly one child")
    inner = ~leaf
    if np.any((e.left[inner] < 1) | (e.left[inner] >= tree_size[inner]) | (e.right[inner] < 1)
              | (e.right[inner] >= tree_size[inner])):
        raise ModelFileError(f"{path}: arrays 'left'/'right': child index out of its tree")
    if np.any((e.feature[inner] < 0) | (e.feature[inner] >= e.n_features)):
        raise ModelFileError(f"{path}: array 'feature': split feature out of range 0..{e.n_features - 1}")
    if not np.all(np.isfinite(e.threshold[inner])):
        raise ModelFileError(f"{path}: array 'threshold': non-finite split threshold")
    if not np.all(np.isfinite(e.value)):
        raise ModelFileError(f"{path}: array 'value': non-finite leaf value")
    try:
        e.node_table()
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
