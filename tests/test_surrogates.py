"""Surrogates: kernels against naive Python, safe files, retraining reproduces the shipped models,
calibrated coverage, the predict command."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magnetscreen.descriptors import encode
from magnetscreen.models import surrogate_kernels as k
from magnetscreen.models.modelfile import ModelFileError
from magnetscreen.models.physics import MU0
from magnetscreen.models.surrogates import TARGETS, default_model_dir, load_surrogates, save_surrogates
from magnetscreen.models.training import (
    ONE_SIGMA,
    TIER_RULES,
    _conformal,
    candidate_kinds,
    train_target,
    training_set,
)

SYMBOLS = ["Nd", "Pr", "Dy", "Fe", "Co", "B", "Sm", "Cu", "Ti", "N"]


def _naive_l1(a: dict, b: dict) -> float:
    return sum(abs(a.get(e, 0.0) - b.get(e, 0.0)) for e in set(a) | set(b))


def _as_dict(batch, i):
    return {int(z): float(x) for z, x in zip(batch.elements[i], batch.fractions[i]) if z > 0}


compositions = st.dictionaries(st.sampled_from(SYMBOLS), st.integers(1, 20), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None)
@given(st.lists(compositions, min_size=1, max_size=6), st.lists(compositions, min_size=1, max_size=8),
       st.lists(st.floats(-5, 5), min_size=8, max_size=8))
def test_nearest_phase_kernel_equals_naive(queries, train, values):
    qb, tb = encode(queries), encode(train)
    vals = np.array(values[: len(train)])
    got, dist = k.nearest_phase_kernel(qb.elements, qb.fractions, tb.elements, tb.fractions, vals)
    for i in range(len(qb)):
        d = [_naive_l1(_as_dict(qb, i), _as_dict(tb, j)) for j in range(len(tb))]
        best = min(d)
        ties = [vals[j] for j in range(len(tb)) if abs(d[j] - best) <= 1e-12]
        assert dist[i] == pytest.approx(best, rel=1e-12, abs=1e-15)
        assert got[i] == pytest.approx(sum(ties) / len(ties), rel=1e-12, abs=1e-15)


def test_domain_kernel_equals_naive_and_is_exact_in_span():
    rng = np.random.default_rng(3)
    d, m, k_ = 12, 9, 4
    mean, scale = rng.normal(size=d), rng.uniform(0.5, 2.0, size=d)
    q, _ = np.linalg.qr(rng.normal(size=(d, k_)))
    components = np.ascontiguousarray(q.T)
    train = rng.normal(size=(m, d))
    z_train = (train - mean) / scale
    proj = z_train @ components.T
    resid = np.sqrt(np.clip((z_train**2).sum(1) - (proj**2).sum(1), 0, None))
    mask = rng.random((m, 2)) < 0.6
    mask[0] = True
    # training rows sorted by prototype: rows 0-3 prototype 0, rows 4-8 prototype 2, none of prototype 1
    train_proto = np.array([0, 0, 0, 0, 2, 2, 2, 2, 2])
    start = np.array([0, 4, 4, 9], dtype=np.int64)
    X = rng.normal(size=(20, d))
    protos = rng.integers(-1, 4, size=20).astype(np.int64)
    finite = np.empty(len(X), dtype=bool)
    got = k.domain_distance_kernel(X, protos, mean, scale, np.ascontiguousarray(components.T), proj, resid, mask, start,
                                   finite)
    assert finite.all()
    for i in range(len(X)):
        z = (X[i] - mean) / scale
        p = components @ z
        r = np.sqrt(max(z @ z - p @ p, 0.0))
        dists = [np.sqrt(((p - proj[j]) ** 2).sum() + (r - resid[j]) ** 2) for j in range(m)]
        for t in range(2):
            same = [j for j in range(m) if mask[j, t] and train_proto[j] == protos[i]]
            if not same:  # no training row of that prototype (or a code outside 0..2)
                assert got[i, t] == np.inf
                continue
            assert got[i, t] == pytest.approx(min(dists[j] for j in same), rel=1e-12)
            # a lower bound of the full Euclidean distance
            assert got[i, t] <= min(np.linalg.norm(z - z_train[j]) for j in same) + 1e-12
    # with k = d the subspace is everything and the distance is the Euclidean one
    zeros = np.zeros(20, dtype=np.int64)
    got_full = k.domain_distance_kernel(X, zeros, mean, scale, np.eye(d), z_train.copy(), np.zeros(m), mask,
                                        np.array([0, m, m, m], dtype=np.int64), np.empty(20, dtype=bool))
    for i in range(3):
        z = (X[i] - mean) / scale
        assert got_full[i, 0] == pytest.approx(min(np.linalg.norm(z - z_train[j]) for j in range(m) if mask[j, 0]))


def _naive_domain_distances(X, protos, mean, scale, components, proj, resid, mask, start):
    """The domain distance in the plain order: per row, per training row, sqrt of the sum in the order
    (r - r_j)^2, directions 0 .. k-1, then the smallest per target (Python floats, no numpy reductions)."""
    n_t = mask.shape[1]
    out = np.full((len(X), n_t), np.inf)
    for i in range(len(X)):
        p = [0.0] * components.shape[0]
        total = 0.0
        for f in range(X.shape[1]):
            z = (X[i, f] - mean[f]) / scale[f]
            total += z * z
            for c in range(len(p)):
                p[c] += components[c, f] * z
        if np.isnan(total):
            out[i] = np.nan
            continue
        rest = total - sum_in_order(v * v for v in p)
        r = float(np.sqrt(rest)) if rest > 0.0 else 0.0
        q = protos[i]
        if q < 0 or q >= len(start) - 1:
            continue
        for j in range(start[q], start[q + 1]):
            acc = (r - resid[j]) * (r - resid[j])
            for c in range(len(p)):
                acc += (p[c] - proj[j, c]) * (p[c] - proj[j, c])
            dist = float(np.sqrt(acc))
            for t in range(n_t):
                if mask[j, t] and dist < out[i, t]:
                    out[i, t] = dist
    return out


def sum_in_order(values):
    total = 0.0
    for v in values:
        total += v
    return total


@pytest.mark.parametrize("seed,k_", [(0, 5), (1, 8), (2, 11)])
def test_domain_kernel_equals_plain_order_bitwise(seed, k_):
    """Many training rows per prototype (the kernel's interleaved minima and their remainder), rows outside every
    prototype, a NaN row, targets with no rows: equal, bitwise, to the plain loop."""
    rng = np.random.default_rng(seed)
    d = 17
    sizes = [0, 1, 3, 4, 7, 37, 130]
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    m = int(start[-1])
    mean, scale = rng.normal(size=d), rng.uniform(0.5, 2.0, size=d)
    q, _ = np.linalg.qr(rng.normal(size=(d, k_)))
    components = np.ascontiguousarray(q.T)
    z_train = (rng.normal(size=(m, d)) - mean) / scale
    proj = np.ascontiguousarray(z_train @ components.T)
    resid = np.sqrt(np.clip((z_train**2).sum(1) - (proj**2).sum(1), 0, None))
    mask = rng.random((m, 3)) < np.array([0.9, 0.3, 0.0])
    X = rng.normal(size=(600, d)) * 2
    X[5, 3] = np.nan
    X[7, 0], X[9, 16] = np.inf, -np.inf
    protos = rng.integers(-1, len(sizes) + 1, size=len(X)).astype(np.int64)
    finite = np.empty(len(X), dtype=bool)
    got = k.domain_distance_kernel(X, protos, mean, scale, np.ascontiguousarray(components.T), proj, resid, mask,
                                   start, finite)
    np.testing.assert_array_equal(finite, np.isfinite(X).all(axis=1))
    with np.errstate(invalid="ignore"):  # the infinite rows: inf - inf in the plain loop, as in the kernel
        want = _naive_domain_distances(X, protos, mean, scale, components, proj, resid, mask, start)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[5]).all() and np.isinf(np.delete(got[:, 2], 5)).all() and np.isfinite(got[(protos == 6) & (np.arange(len(X)) != 5), 0]).all()


def test_conformal_quantile_by_hand():
    scores = np.arange(1.0, 11.0)  # n = 10: ceil(11 * 0.6827) = 8 -> 8th smallest
    assert _conformal(scores, ONE_SIGMA) == 8.0
    assert _conformal(scores, 0.9) == 10.0  # ceil(9.9) = 10


def test_k1_rows_derived_from_anisotropy_field():
    data = training_set("K1_MJm3")
    derived = data.frame[data.frame["origin"].str.contains("from muHA")]
    assert len(derived) > 0
    row = derived.iloc[0]
    assert row["y"] == pytest.approx(row["muHA_T"] * row["Js_T"] / (2 * MU0) / 1e6)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["Js_T", "K1_MJm3"])
def test_small_targets_are_reproduced_from_the_shipped_data(target):
    """Js_T and K1_MJm3 trained again from the shipped tables (same protocol, seed and domain) give the
    shipped model array for array and the same card (about 20 s each with the route comparison; Tc_K takes
    minutes: the full retrain is the other slow test)."""
    shipped = load_surrogates()
    again = train_target(training_set(target), shipped.domain, seed=0)
    a = shipped.surrogates[target]
    assert again.kind == a.kind, target
    assert _without_dates(again.card) == _without_dates(a.card), target
    assert np.array_equal(again.sigma_scale, a.sigma_scale) and np.array_equal(again.sigma_floor, a.sigma_floor)
    if a.ensemble is not None:
        for name in ("offset", "left", "right", "feature", "threshold", "value"):
            assert np.array_equal(getattr(a.ensemble, name), getattr(again.ensemble, name)), (target, name)


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    """The shipped models retrained from the shipped data by the real command (`magnetscreen train`)."""
    out = tmp_path_factory.mktemp("models")
    result = run_cli("train", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    return load_surrogates(out)


def _without_dates(card: dict) -> dict:
    return {k: v for k, v in card.items() if k not in ("trained", "versions")}


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_models(retrained, tmp_path):
    shipped = load_surrogates()
    for target in TARGETS:
        a, b = shipped.surrogates[target], retrained.surrogates[target]
        assert a.kind == b.kind, target
        assert _without_dates(a.card) == _without_dates(b.card), target
        assert np.array_equal(a.sigma_scale, b.sigma_scale) and np.array_equal(a.sigma_floor, b.sigma_floor)
        if a.ensemble is not None:
            for name in ("offset", "left", "right", "feature", "threshold", "value"):
                assert np.array_equal(getattr(a.ensemble, name), getattr(b.ensemble, name)), (target, name)
        else:
            assert np.array_equal(a.phase_values, b.phase_values)
    np.testing.assert_allclose(shipped.domain.thresholds, retrained.domain.thresholds, rtol=1e-9)
    # and a copy written again and reloaded predicts the same
    save_surrogates(retrained, tmp_path)
    again = load_surrogates(tmp_path)
    formulas = ["Nd2Fe14B", "SmCo5", "Fe16N2", "(Nd0.8Dy0.2)2Fe14B"]
    p1, p2 = retrained.predict(formulas), again.predict(formulas)
    for key in p1:
        assert np.array_equal(p1[key], p2[key]), key


def test_cards_report_protocol_metrics_and_coverage():
    for target, card in load_surrogates().cards.items():
        assert card["target"] == target and card["n_rows"] > 0 and len(card["data_sha256"]) == 64
        kinds = candidate_kinds(card["n_rows"])
        for split in ("grouped", "kfold"):
            assert set(card["metrics"][split]) == {*kinds, "shipped"}, (target, split)
            for kind in (*kinds, "shipped"):
                assert set(card["metrics"][split][kind]) >= {"MAE", "RMSE", "R2"}
        assert card["metrics"]["lofo"], target
        learners = {m: v for m, v in card["metrics"]["grouped"].items() if m != "shipped"}
        assert card["model"] == min(learners, key=lambda m: learners[m]["MAE"])
        # routes are chosen per prototype on the grouped folds, so the shipped model is no worse than its learner
        # on every prototype where it uses another route
        for proto, route in card["routes"].items():
            if proto != "default":
                scores = card["metrics"]["route_comparison"][proto]
                assert scores[route]["MAE"] <= scores["learning"]["MAE"], (target, proto)
        assert 0.0 < card["coverage"]["empirical"] <= 1.0
        assert card["coverage"]["by_prototype"], target
    tc = load_surrogates().cards["Tc_K"]
    assert tc["tier_rule"] in TIER_RULES and tc["rows_per_tier"]["C"] > 1000
    assert tc["tier_selection"]["chosen"] == tc["tier_rule"]


def test_coverage_on_held_out_folds_is_near_nominal():
    """The calibrated 1-sigma interval covers its nominal 68.3 % within 5 points on held-out folds for every
    target; the 90 % interval too where the data allow it (Tc: > 100 rows). K1's 90 % interval (51 rows)
    is documented in docs/models.md as under-covering."""
    cards = load_surrogates().cards
    for target, card in cards.items():
        one = card["coverage"]["intervals"][0]
        assert one["nominal"] == pytest.approx(ONE_SIGMA, abs=1e-6)
        assert abs(one["empirical"] - one["nominal"]) <= 0.05, (target, one)
    assert cards["Tc_K"]["n_rows"] >= 100
    for interval in cards["Tc_K"]["coverage"]["intervals"]:
        assert abs(interval["empirical"] - interval["nominal"]) <= 0.05, interval


def test_sigma_is_positive_and_in_domain_for_training_compositions():
    models = load_surrogates()
    data = training_set("Tc_K")
    pred = models.predict(list(data.frame["formula"][:20]))
    assert np.all(pred["Tc_K_sigma"] > 0)
    assert pred["Tc_K_in_domain"].all()  # distance 0 to itself


def test_far_compositions_are_flagged_out_of_domain():
    pred = load_surrogates().predict(["UO2", "Nd2Fe14B"])
    assert not pred["in_domain"][0]


def test_missing_model_folder_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="no such model folder"):
        load_surrogates(tmp_path / "nothing")


def test_shipped_files_are_not_pickles():
    from safetensors.numpy import load_file

    files = sorted(default_model_dir().glob("*.safetensors"))
    assert len(files) == 4
    for path in files:
        assert all(a.dtype.kind in "biuf" for a in load_file(path).values())
    assert not list(default_model_dir().glob("*.npz")) and not list(default_model_dir().glob("*.pkl"))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "magnetscreen.screening.cli", *args], capture_output=True, text=True)


def test_predict_json_records_keep_the_input_formula():
    result = run_cli("predict", "Fe14Nd2B", "SmCo5", "--format", "json", "--temperature", "300")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["formula"] for r in rows] == ["Fe14Nd2B", "SmCo5"]
    assert rows[0]["canonical_formula"] == "Nd2Fe14B"
    for key in ("Js_T", "K1_MJm3", "Tc_K", "muHA_T", "kappa", "BHmax_kJm3", "muHc_T"):
        assert key in rows[0] and f"{key}_sigma" in rows[0]
    assert isinstance(rows[0]["in_domain"], bool)
    # the derived metrics follow the physics layer from the predicted intrinsic values
    from magnetscreen.models.physics import performance

    r = rows[0]
    ref = performance(r["Js_T"], r["K1_MJm3"], r["Tc_K"], 295.0, 300.0, 0.5)
    assert r["muHA_T"] == pytest.approx(float(ref["muHA_T"]), rel=1e-12)
    assert r["BHmax_kJm3"] == pytest.approx(float(ref["BHmax_kJm3"]), rel=1e-12)


def test_predict_reports_the_raw_material_cost_beside_the_performance():
    from magnetscreen.models.risk import composition_risk

    result = run_cli("predict", "Nd2Fe14B", "SmCo5", "--format", "json", "--as-of", "2026-06-01",
                     "--scenario", "china-halts-dy-tb")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    frame = composition_risk(["Nd2Fe14B", "SmCo5"], as_of="2026-06-01", scenario="china-halts-dy-tb")
    for row, (_, ref) in zip(rows, frame.iterrows()):
        assert row["cost_usd_per_kg"] == pytest.approx(ref["cost_usd_per_kg"], rel=1e-12)
        assert row["cost_usd_per_kg_high"] == pytest.approx(ref["cost_usd_per_kg_high"], rel=1e-12)
        assert row["cost_per_BHmax"] == pytest.approx(ref["cost_usd_per_kg"] / row["BHmax_kJm3"], rel=1e-12)


def test_predict_bad_input_exits_2_with_one_line():
    result = run_cli("predict", "Nd2Fe14X")
    assert result.returncode == 2
    assert "Nd2Fe14X" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run_cli("predict", "Nd2Fe14B", "--kuzmin-s", "3")
    assert result.returncode == 2 and "Kuz'min" in result.stderr




def test_domain_note_codes_give_the_notes():
    """The codes the pipeline carries (notes built only for kept rows) index the same text as domain_notes."""
    from magnetscreen.descriptors.prototypes import PROTOTYPES
    from magnetscreen.models.surrogates import domain_note_codes, domain_notes

    rng = np.random.default_rng(5)
    states = rng.integers(0, 3, size=(500, 3))
    protos = rng.integers(-1, len(PROTOTYPES) + 1, size=500)
    targets = ("Js_T", "K1_MJm3", "Tc_K")
    codes, table = domain_note_codes(states, protos, targets)
    notes = domain_notes(states, protos, targets)
    assert table[codes].tolist() == notes.tolist()
    i = int(np.argmax((states[:, 0] == 1) & (states[:, 1] == 0) & (states[:, 2] == 2) & (protos == 2)))
    assert notes[i] == "no Js_T data for 2-14-1; Tc_K data of 2-14-1 too far"
    assert notes[np.argmax(states.sum(axis=1) == 0)] == ""
