"""Flat ensembles: bitwise equal to scikit-learn, safe files that refuse corruption."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor

from magnetscreen.models.trees import ModelFileError, flatten, load_ensemble, save_ensemble


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12))
    y = X[:, 0] ** 2 + np.sin(3 * X[:, 1]) + 0.1 * rng.normal(size=300)
    X_test = rng.normal(size=(2000, 12)) * 1.5
    X_test[:50] = X[:50]  # include training points: thresholds lie exactly between them
    return X, y, X_test


@pytest.mark.parametrize("cls", [RandomForestRegressor, ExtraTreesRegressor])
def test_averaging_forests_equal_sklearn_bitwise(data, cls):
    X, y, X_test = data
    model = cls(n_estimators=40, min_samples_leaf=2, random_state=1).fit(X, y)
    flat = flatten(model)
    mean, spread = flat.predict(X_test)
    assert np.array_equal(mean, model.predict(X_test))
    per_tree = np.stack([t.predict(X_test.astype(np.float32)) for t in model.estimators_])
    np.testing.assert_allclose(spread, per_tree.std(axis=0), rtol=1e-12, atol=1e-14)


def test_boosting_equals_sklearn_bitwise(data):
    X, y, X_test = data
    model = GradientBoostingRegressor(n_estimators=60, max_depth=3, learning_rate=0.1, random_state=2).fit(X, y)
    mean, spread = flatten(model).predict(X_test)
    assert np.array_equal(mean, model.predict(X_test))
    assert not spread.any()


def test_round_trip_through_file(tmp_path, data):
    X, y, X_test = data
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    path = tmp_path / "m.safetensors"
    save_ensemble(flatten(model, {"target": "Tc_K"}), path)
    loaded = load_ensemble(path)
    assert loaded.metadata == {"target": "Tc_K"}
    assert np.array_equal(loaded.predict(X_test)[0], model.predict(X_test))
    from safetensors.numpy import load_file

    assert set(load_file(path)) == {"offset", "left", "right", "feature", "threshold", "value"}


def _rewrite(path, **changes):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    arrays = load_file(path)
    with safe_open(path, framework="numpy") as handle:
        meta = handle.metadata()
    arrays.update(changes)
    save_file(arrays, path, metadata=meta)


def test_corrupted_files_are_refused(tmp_path, data):
    from safetensors.numpy import load_file

    X, y, _ = data
    path = tmp_path / "m.safetensors"
    save_ensemble(flatten(RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)), path)
    arrays = load_file(path)
    _rewrite(path, threshold=arrays["threshold"][:-1])
    with pytest.raises(ModelFileError, match="array 'threshold' has shape"):
        load_ensemble(path)
    _rewrite(path, threshold=arrays["threshold"].astype(np.float32))
    with pytest.raises(ModelFileError, match="array 'threshold' has dtype float32, expected float64"):
        load_ensemble(path)
    nan = arrays["threshold"].copy()
    nan[0] = np.nan  # the root of the first tree is an inner node
    _rewrite(path, threshold=nan)
    with pytest.raises(ModelFileError, match="array 'threshold': non-finite split threshold"):
        load_ensemble(path)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_ensemble(tmp_path / "absent.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a model file at all")
    with pytest.raises(ModelFileError, match="not a safetensors model file"):
        load_ensemble(tmp_path / "junk.safetensors")


def test_malformed_trees_are_refused(tmp_path, data):
    from magnetscreen.models import trees

    X, y, _ = data
    flat = flatten(RandomForestRegressor(n_estimators=2, random_state=0).fit(X, y))
    bad = trees.FlatEnsemble(**{**flat.__dict__, "feature": np.where(flat.left != -1, 99, 0)})
    path = tmp_path / "bad.safetensors"
    save_ensemble(bad, path)  # a well-formed file with bad trees: the structure check must catch it
    with pytest.raises(ModelFileError, match="split feature out of range 0..11"):
        load_ensemble(path)
    cycle = flat.left.copy()
    cycle[int(np.flatnonzero(flat.left != -1)[1])] = 1  # a node pointing back to its parent's child
    save_ensemble(trees.FlatEnsemble(**{**flat.__dict__, "left": cycle}), path)
    with pytest.raises(ModelFileError, match="is not a tree|child index"):
        load_ensemble(path)


@pytest.mark.parametrize("cls", [RandomForestRegressor, GradientBoostingRegressor])
def test_constant_tail_columns_equal_sklearn_on_the_full_matrix(cls):
    """Rows sharing their last features: the descriptors with a ``tail`` predict as scikit-learn on the whole
    matrix (the model matrix's context columns are not copied)."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 7))
    X[:, 5] = rng.choice([295.0, 423.15, 300.1], size=400)  # context columns the trees split on
    X[:, 6] = rng.choice([0.0, 1.0], size=400)
    y = X[:, 0] + 0.01 * X[:, 5] + X[:, 6] + 0.1 * rng.normal(size=400)
    model = cls(n_estimators=30, max_depth=6, random_state=0).fit(X, y)
    flat = flatten(model)
    assert {5, 6} <= set(flat.feature[flat.left != -1].tolist())
    X_test = rng.normal(size=(1000, 5)) * 1.3
    for tail in ([295.0, 0.0], [423.15, 1.0], [300.1, 0.0]):
        full = np.hstack([X_test, np.tile(tail, (len(X_test), 1))])
        mean, spread = flat.predict(X_test, tail=np.array(tail))
        assert np.array_equal(mean, model.predict(full))
        assert np.array_equal(spread, flat.predict(full)[1])
    with pytest.raises(ValueError, match="with 7 columns, got shape .* and 1 tail values"):
        flat.predict(X_test, tail=np.array([295.0]))


def test_predict_checks_the_feature_count(data):
    X, y, _ = data
    flat = flatten(RandomForestRegressor(n_estimators=2, random_state=0).fit(X, y))
    with pytest.raises(ValueError, match="with 12 columns, got shape"):
        flat.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="cannot flatten Ridge"):
        from sklearn.linear_model import Ridge

        flatten(Ridge().fit(X, y))


# --- the node-table kernels against a plain-Python walk and scikit-learn ------------------------------

import numba  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from magnetscreen.models import tree_kernels  # noqa: E402
from magnetscreen.models.trees import FlatEnsemble, float32_floor  # noqa: E402


def _walk_python(flat, X32):
    """Plain-Python twin of the kernels: per row and tree, scikit-learn's rule float64(x) <= threshold
    on the parallel arrays; returns the (T, n) tree predictions."""
    out = np.empty((flat.n_trees, X32.shape[0]))
    for t in range(flat.n_trees):
        o = int(flat.offset[t])
        for i, row in enumerate(X32):
            node = 0
            while flat.left[o + node] != -1:
                go_left = float(row[flat.feature[o + node]]) <= float(flat.threshold[o + node])
                node = int(flat.left[o + node] if go_left else flat.right[o + node])
            out[t, i] = flat.value[o + node]
    return out


def _python_mean(flat, per_tree):
    if flat.kind == "average":
        total = np.zeros(per_tree.shape[1])
        for p in per_tree:  # in tree order, from 0.0, as sklearn's _accumulate_prediction
            total += p
        return total / flat.n_trees
    total = np.full(per_tree.shape[1], flat.init)
    for p in per_tree:
        total += flat.learning_rate * p
    return total


def _edge_rows(model, X, rng, n):
    """Rows whose features sit exactly on split thresholds (as float32) or one float32 step either side."""
    flat = flatten(model)
    inner = flat.left != -1
    feats, thr = flat.feature[inner], flat.threshold[inner]
    rows = X[rng.integers(0, len(X), n)].astype(np.float32)
    for row in rows:
        pick = rng.integers(0, len(thr), size=X.shape[1] // 2)
        t32 = float32_floor(thr[pick])
        step = rng.integers(-1, 2, size=len(pick))
        vals = np.where(step < 0, np.nextafter(t32, np.float32(-np.inf)),
                        np.where(step > 0, np.nextafter(t32, np.float32(np.inf)), t32))
        row[feats[pick]] = vals
    return rows


def test_float32_floor_at_the_edges():
    f32 = np.float32
    tiny, big = np.finfo(f32).smallest_subnormal, np.finfo(f32).max
    rng = np.random.default_rng(3)
    base32 = np.concatenate([rng.normal(size=2000).astype(f32) * f32(10.0) ** rng.integers(-40, 39, 2000).astype(f32),
                             np.array([0.0, -0.0, tiny, -tiny, big, -big, 1.0, -1.0, np.inf, -np.inf], dtype=f32)])
    with np.errstate(over="ignore"):
        up = np.nextafter(base32, f32(np.inf))
    mid = base32.astype(np.float64) / 2 + up.astype(np.float64) / 2  # sklearn-style midpoints
    t = np.concatenate([base32.astype(np.float64), mid,
                        np.nextafter(base32.astype(np.float64), np.inf), np.nextafter(base32.astype(np.float64), -np.inf),
                        [2.0 * float(big), -2.0 * float(big), float(big) * (1 + 2**-30), np.inf, -np.inf, 1e-300,
                         -1e-300, 0.0]])
    t = t[~np.isnan(t)]
    floor = float32_floor(t)
    assert floor.dtype == np.float32
    assert np.all(floor.astype(np.float64) <= t)
    finite = floor != np.inf  # the largest such float32 (nothing lies above +inf)
    with np.errstate(over="ignore"):
        assert np.all(np.nextafter(floor[finite], f32(np.inf)).astype(np.float64) > t[finite])
    with np.errstate(over="ignore"):
        near = t.astype(f32)
    with np.errstate(over="ignore"):
        candidates = [near, floor, np.nextafter(near, f32(np.inf)), np.nextafter(near, f32(-np.inf)),
                      np.nextafter(floor, f32(np.inf)), np.nextafter(floor, f32(-np.inf))]
    for x in candidates:
        np.testing.assert_array_equal(x.astype(np.float64) <= t, x <= floor)
    assert np.isnan(float32_floor(np.array([np.nan]))[0])


@settings(max_examples=300, deadline=None)
@given(t=st.floats(allow_nan=False), x=st.floats(width=32, allow_nan=False))
def test_float32_floor_keeps_sklearns_comparison(t, x):
    x32 = np.float32(x)
    floor = float32_floor(np.array([t]))[0]
    assert (float(x32) <= t) == bool(x32 <= floor)


def _models(X, y):
    return {
        "rf": RandomForestRegressor(n_estimators=25, min_samples_leaf=1, random_state=3).fit(X, y),
        "rf_leaf_nodes": RandomForestRegressor(n_estimators=10, max_leaf_nodes=20, random_state=4).fit(X, y),
        "et": ExtraTreesRegressor(n_estimators=25, random_state=5).fit(X, y),
        "gb": GradientBoostingRegressor(n_estimators=30, max_depth=4, learning_rate=0.2, random_state=6).fit(X, y),
        "stump": RandomForestRegressor(n_estimators=3, max_depth=1, random_state=7).fit(X, y),
    }


@pytest.fixture(scope="module")
def small_data():
    """Shapes like the shipped surrogates: tens of rows, 150 features, some constant columns."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 150))
    X[:, 100:110] = 1.0
    X[:, 110:120] = np.round(X[:, 110:120])  # ties
    y = X[:, 0] - 2 * X[:, 3] ** 2 + rng.normal(size=60)
    return X, y


@pytest.mark.parametrize("name", ["rf", "rf_leaf_nodes", "et", "gb", "stump"])
def test_kernels_equal_python_walk_and_sklearn(small_data, name):
    X, y = small_data
    model = _models(X, y)[name]
    flat = flatten(model)
    rng = np.random.default_rng(12)
    edge = _edge_rows(model, X, rng, 300).astype(np.float64)
    nudged = edge * (1 + rng.choice([-1e-9, 0.0, 1e-9], size=edge.shape))  # float64 that rounds onto the edge
    X_test = np.concatenate([rng.normal(size=(200, 150)) * 2, X.astype(np.float32), edge, nudged])
    X32 = X_test.astype(np.float32)
    per_tree = _walk_python(flat, X32)
    mean, spread = flat.predict(X_test)
    reference = model.predict(X_test)
    assert np.array_equal(mean, reference), name
    assert np.array_equal(mean, _python_mean(flat, per_tree)), name
    if flat.kind == "average":
        np.testing.assert_allclose(spread, per_tree.std(axis=0), rtol=1e-12, atol=1e-14, err_msg=name)
        estimators = model.estimators_
    else:
        assert not spread.any()
        estimators = [e[0] for e in model.estimators_]
    assert np.array_equal(per_tree, np.stack([e.predict(X32) for e in estimators])), name
    assert np.array_equal(flat.node_table()[1], [e.tree_.max_depth for e in estimators])


@pytest.mark.parametrize("n", [0, 1, 2, 31, 32, 33, 95, tree_kernels.CHUNK - 1, tree_kernels.CHUNK + 1,
                               2 * tree_kernels.CHUNK + tree_kernels.BLOCK + 7])
def test_odd_sizes_and_thread_counts(data, n):
    X, y, X_test = data
    rng = np.random.default_rng(n)
    X_n = np.concatenate([X_test, X_test, X_test])[rng.permutation(3 * len(X_test))[:n]] if n else X_test[:0]
    before = numba.get_num_threads()
    for model in (RandomForestRegressor(n_estimators=15, random_state=0).fit(X, y),
                  GradientBoostingRegressor(n_estimators=15, random_state=0).fit(X, y)):
        flat = flatten(model)
        results = []
        try:
            for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
                numba.set_num_threads(threads)
                results.append(flat.predict(X_n))
        finally:
            numba.set_num_threads(before)
        mean, spread = results[0]
        assert mean.shape == spread.shape == (n,)
        if n:
            assert np.array_equal(mean, model.predict(X_n))
        for other in results[1:]:
            assert np.array_equal(other[0], mean) and np.array_equal(other[1], spread)


def test_spread_matches_two_pass_numpy_on_nearly_constant_trees():
    """A large mean with a tiny spread: the two-pass std keeps its relative accuracy."""
    offset = np.array([0, 3, 6, 9, 10], dtype=np.int64)
    left = np.array([1, -1, -1] * 3 + [-1], dtype=np.int64)
    right = np.array([2, -1, -1] * 3 + [-1], dtype=np.int64)
    value = 1e6 + np.array([0, 1e-6, 3e-6, 0, 2e-6, 5e-6, 0, 7e-6, 1e-6, 4e-6])
    flat = FlatEnsemble(kind="average", n_features=1, offset=offset, left=left, right=right,
                        feature=np.zeros(10, dtype=np.int64), threshold=np.array([0.0, -2, -2] * 3 + [-2]),
                        value=value)
    X = np.array([[-1.0], [0.0], [1.0]])
    per_tree = _walk_python(flat, X.astype(np.float32))
    mean, spread = flat.predict(X)
    assert np.array_equal(mean, _python_mean(flat, per_tree))
    np.testing.assert_allclose(spread, per_tree.std(axis=0), rtol=1e-12)


def test_node_table_refuses_non_trees(data):
    X, y, _ = data
    flat = flatten(RandomForestRegressor(n_estimators=2, max_depth=3, random_state=0).fit(X, y))
    left = flat.left.copy()
    left[flat.left.tolist().index(-1) - 1] = 1 if flat.left[0] != 1 else 2  # a second path to a node
    bad = FlatEnsemble(**{**flat.__dict__, "left": left})
    with pytest.raises(ValueError, match="is not a tree"):
        bad.predict(X[:2])
    depths = tree_kernels.tree_depths_kernel(flat.offset, flat.left, flat.right)
    assert np.array_equal(depths, [3, 3])


def test_input_dtypes_and_layouts_agree(data):
    X, y, X_test = data
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    flat = flatten(model)
    mean, spread = flat.predict(X_test)
    for variant in (X_test.astype(np.float32), np.asfortranarray(X_test), X_test[::-1][::-1].copy(), X_test.tolist()):
        other = flat.predict(variant)
        assert np.array_equal(other[0], mean) and np.array_equal(other[1], spread)
    ints = np.round(X_test * 3).astype(np.int64)
    assert np.array_equal(flat.predict(ints)[0], model.predict(ints))


def _preorder_python(flat):
    order: list[int] = []

    def visit(o, node):
        order.append(o + node)
        if flat.left[o + node] != -1:
            visit(o, int(flat.left[o + node]))
            visit(o, int(flat.right[o + node]))

    for t in range(flat.n_trees):
        visit(int(flat.offset[t]), 0)
    return np.array(order)


@pytest.mark.parametrize("name", ["rf", "rf_leaf_nodes", "gb", "stump"])
def test_node_table_is_preorder_with_the_left_child_next(small_data, name):
    """The walked table: nodes in pre-order (a recursive Python walk), each inner node's left child next and its
    right child at the linked distance, features and float32 thresholds carried over, leaves linking to
    themselves."""
    X, y = small_data
    flat = flatten(_models(X, y)[name])
    order = tree_kernels.preorder_kernel(flat.offset, flat.left, flat.right)
    assert np.array_equal(order, _preorder_python(flat))
    roots, _, nodes, value = flat.node_table()
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    assert np.array_equal(roots, flat.offset[:-1]) and np.array_equal(value, flat.value[order])
    start = np.repeat(flat.offset[:-1], np.diff(flat.offset))
    for k, node in enumerate(order):
        link = int(nodes["link"][k])
        feature, step = link >> tree_kernels.OFFSET_BITS, link & (tree_kernels.MAX_OFFSET - 1)
        if flat.left[node] == -1:
            assert step == 0 and feature == 0 and np.isnan(nodes["threshold"][k])
        else:
            assert position[start[node] + flat.left[node]] == k + 1
            assert position[start[node] + flat.right[node]] == k + step
            assert feature == flat.feature[node]
            assert nodes["threshold"][k] == float32_floor(np.array([flat.threshold[node]]))[0]


def test_node_table_refuses_what_it_cannot_address(data):
    X, y, _ = data
    flat = flatten(RandomForestRegressor(n_estimators=2, max_depth=3, random_state=0).fit(X, y))
    wide = FlatEnsemble(**{**flat.__dict__, "n_features": tree_kernels.MAX_FEATURES + 1})
    with pytest.raises(ValueError, match="257 features: the node table addresses at most 256"):
        wide.node_table()


def _leaf_masks_python(flat):
    """Leaf-mask tables by recursion over scikit-learn's arrays: per small tree, its leaves from left to right
    and, per inner node in pre-order, every bit but those of its left subtree's leaves."""
    _, _, nodes, _ = flat.node_table()
    order = _preorder_python(flat)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    tables = []
    for t in range(flat.n_trees):
        o = int(flat.offset[t])

        def leaves(node, o=o):
            if flat.left[o + node] == -1:
                return [node]
            return leaves(int(flat.left[o + node])) + leaves(int(flat.right[o + node]))

        everything = leaves(0)
        if len(everything) > tree_kernels.MASK_LEAVES:
            tables.append(None)
            continue
        bit = {leaf: j for j, leaf in enumerate(everything)}
        inner = []
        for node in sorted((n for n in range(int(flat.offset[t + 1]) - o) if flat.left[o + n] != -1),
                           key=lambda n: position[o + n]):
            left = sum(1 << bit[leaf] for leaf in leaves(int(flat.left[o + node])))
            inner.append(((2**64 - 1) ^ left, float32_floor(np.array([flat.threshold[o + node]]))[0],
                          int(flat.feature[o + node])))
        tables.append((inner, [int(position[o + leaf]) for leaf in everything]))
    return tables


@pytest.mark.parametrize("max_leaf_nodes", [None, 2, 63, 64, 65])
def test_leaf_masks_equal_python_tables_and_sklearn(data, max_leaf_nodes):
    """Trees of at most 64 leaves are evaluated by leaf masks, larger ones walked, in one ensemble (without a
    leaf limit the forest on 24 % bootstrap samples has trees of 59 to 68 leaves, two of exactly 64 and five of
    65): the tables equal a recursive construction, and predictions equal scikit-learn bitwise (rows on the
    split thresholds included)."""
    X, y, X_test = data
    model = RandomForestRegressor(n_estimators=24, max_leaf_nodes=max_leaf_nodes, min_samples_leaf=1,
                                  max_samples=0.24, random_state=8).fit(X, y)
    flat = flatten(model)
    mask_start, masks, leaf_start, leaf_nodes = flat.leaf_masks()
    expected = _leaf_masks_python(flat)
    small = [t for t in expected if t is not None]
    assert small, "no small tree"
    if max_leaf_nodes is None:
        leaves = [e.tree_.n_leaves for e in model.estimators_]
        assert 64 in leaves and 65 in leaves and len(small) == sum(n <= 64 for n in leaves)
    for t, table in enumerate(expected):
        got_masks = masks[mask_start[t]:mask_start[t + 1]]
        got_leaves = leaf_nodes[leaf_start[t]:leaf_start[t + 1]]
        if table is None:
            assert len(got_masks) == 0 and len(got_leaves) == 0
            continue
        inner, leaves = table
        assert got_leaves.tolist() == leaves
        assert [(int(r["bits"]), r["threshold"], int(r["feature"])) for r in got_masks] == inner
    rng = np.random.default_rng(9)
    X_all = np.concatenate([X_test, _edge_rows(model, X, rng, 400).astype(np.float64)])
    mean, spread = flat.predict(X_all)
    assert np.array_equal(mean, model.predict(X_all))
    per_tree = _walk_python(flat, X_all.astype(np.float32))
    assert np.array_equal(mean, _python_mean(flat, per_tree))
    np.testing.assert_allclose(spread, per_tree.std(axis=0), rtol=1e-12, atol=1e-14)
