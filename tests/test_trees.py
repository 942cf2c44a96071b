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
    path = tmp_path / "m.npz"
    save_ensemble(flatten(model, {"target": "Tc_K"}), path)
    loaded = load_ensemble(path)
    assert loaded.metadata == {"target": "Tc_K"}
    assert np.array_equal(loaded.predict(X_test)[0], model.predict(X_test))
    with np.load(path, allow_pickle=False) as raw:  # a plain npz without pickles
        assert set(raw.files) == {"manifest", "offset", "left", "right", "feature", "threshold", "value"}


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as raw:
        arrays = {k: raw[k] for k in raw.files}
    arrays.update(changes)
    np.savez(path, **arrays)


def test_corrupted_files_are_refused(tmp_path, data):
    X, y, _ = data
    path = tmp_path / "m.npz"
    save_ensemble(flatten(RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)), path)
    with np.load(path, allow_pickle=False) as raw:
        threshold = raw["threshold"].copy()
        feature = raw["feature"].copy()
    threshold[0] += 1.0
    _rewrite(path, threshold=threshold)
    with pytest.raises(ModelFileError, match="checksum mismatch for array 'threshold'"):
        load_ensemble(path)
    _rewrite(path, threshold=threshold[:-1])
    with pytest.raises(ModelFileError, match="array 'threshold' has float64"):
        load_ensemble(path)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_ensemble(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a readable .npz"):
        load_ensemble(tmp_path / "junk.npz")


def test_malformed_trees_are_refused(tmp_path, data):
    import json

    from magnetscreen.models import trees

    X, y, _ = data
    flat = flatten(RandomForestRegressor(n_estimators=2, random_state=0).fit(X, y))
    bad = trees.FlatEnsemble(**{**flat.__dict__, "feature": np.where(flat.left != -1, 99, 0)})
    path = tmp_path / "bad.npz"
    save_ensemble(bad, path)  # checksums are valid for the bad arrays: the structure check must catch it
    with pytest.raises(ModelFileError, match="split feature out of range 0..11"):
        load_ensemble(path)


def test_predict_checks_the_feature_count(data):
    X, y, _ = data
    flat = flatten(RandomForestRegressor(n_estimators=2, random_state=0).fit(X, y))
    with pytest.raises(ValueError, match="with 12 columns, got shape"):
        flat.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="cannot flatten Ridge"):
        from sklearn.linear_model import Ridge

        flatten(Ridge().fit(X, y))
