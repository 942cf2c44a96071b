"""Featurization kernels against naive Python twins, matminer's Magpie, and hand calculations."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from pymatgen.core import Composition, Element

from magnetscreen.datasets import builtin_family
from magnetscreen.datasets.elements import element_symbols
from magnetscreen.descriptors import CompositionFeaturizer, encode, feature_names, featurize, hree_intensity
from magnetscreen.descriptors import featurize_kernels as k
from magnetscreen.descriptors.enumeration import plan_enumeration
from magnetscreen.descriptors.featurize import PNORM_ORDERS, _class_weights, property_table

SYMBOLS = ["Nd", "Pr", "Ce", "La", "Y", "Dy", "Tb", "Sm", "Fe", "Co", "Ni", "Cu", "Ti", "Zr", "B", "C", "N", "O",
           "Sr", "Mn", "Bi", "Al", "Si", "V", "Mo", "Ga"]


def random_batch(n=300, seed=0):
    rng = np.random.default_rng(seed)
    comps = []
    for _ in range(n):
        k_el = int(rng.integers(1, 7))
        symbols = rng.choice(SYMBOLS, size=k_el, replace=False)
        amounts = rng.integers(1, 30, size=k_el) * rng.choice([1.0, 0.1, 0.25], size=k_el)
        comps.append(dict(zip(symbols.tolist(), amounts.tolist())))
    comps.append({"Fe": 1.0, "Ni": 1.0})  # exact tie for the mode
    comps.append({"Co": 2.0, "Sm": 1.0, "Fe": 2.0})  # tie between Co and Fe
    return encode(comps)


def naive_row(zs, fs, table, weights):
    """Every descriptor of one composition, in plain Python, from the formulas in the docstrings."""
    out = []
    for p in range(table.shape[1]):
        xs = [table[z, p] for z in zs]
        if any(np.isnan(x) for x in xs):
            out += [np.nan] * 6
            continue
        mean = sum(f * x for f, x in zip(fs, xs))
        dev = sum(f * abs(x - mean) for f, x in zip(fs, xs))
        top = max(fs)
        mode = min(x for f, x in zip(fs, xs) if abs(f - top) <= 1e-12)
        out += [mean, dev, min(xs), max(xs), max(xs) - min(xs), mode]
    out += [len(fs) if p == 0 else sum(f**p for f in fs) ** (1 / p) for p in PNORM_ORDERS]
    sums = [sum(f * weights[z, c] for z, f in zip(zs, fs)) for c in range(weights.shape[1])]
    out += sums
    out.append(sums[2] / (sums[2] + sums[0]) if sums[2] + sums[0] > 0 else 0.0)
    out.append(sums[6] / sums[0] if sums[0] > 0 else 0.0)
    return out


def rows(batch):
    for r in range(len(batch)):
        mask = batch.elements[r] != 0
        yield r, batch.elements[r][mask].tolist(), batch.fractions[r][mask].tolist()


def test_featurize_kernel_equals_naive_python():
    batch = random_batch()
    table, weights = property_table(), _class_weights()
    got, names = featurize(batch)
    assert got.shape[1] == len(names) == 6 * table.shape[1] + len(PNORM_ORDERS) + weights.shape[1] + 2
    for r, zs, fs in rows(batch):
        np.testing.assert_allclose(got[r], naive_row(zs, fs, table, weights), rtol=1e-12, atol=1e-15,
                                   err_msg=f"row {r}: {batch.names()[r]}")


def test_nan_property_propagates():
    table = np.array(property_table()).copy()
    table[26, 0] = np.nan  # Fe has no Z
    batch = encode(["Nd2Fe14B", "SmCo5"])
    out = np.empty((2, len(feature_names())))
    k.featurize_kernel(batch.elements, batch.fractions, table, np.array(PNORM_ORDERS), _class_weights(), out)
    assert np.isnan(out[0, :6]).all() and np.isfinite(out[1, :6]).all() and np.isfinite(out[0, 6:]).all()


def test_magnet_descriptors_by_hand():
    X, names = featurize(["Nd2Fe14B", "Sm(Co0.8Fe0.2)5", "SrFe12O19", "MnBi"])
    col = {n: X[:, i] for i, n in enumerate(names)}
    assert col["frac_FeCo"].tolist() == pytest.approx([14 / 17, 5 / 6, 12 / 32, 0.0])
    assert col["frac_RE"].tolist() == pytest.approx([2 / 17, 1 / 6, 0.0, 0.0])
    assert col["frac_LRE"].tolist() == pytest.approx([2 / 17, 1 / 6, 0.0, 0.0])
    assert col["frac_HRE"].tolist() == pytest.approx([0.0, 0.0, 0.0, 0.0])
    assert col["share_RE"].tolist() == pytest.approx([2 / 16, 1 / 6, 0.0, 0.0])
    # 3d electrons per 3d atom: Fe 3d6, Co 3d7 -> Sm(Co0.8Fe0.2)5: 0.8*7 + 0.2*6; Mn 3d5
    assert col["electrons_3d"].tolist() == pytest.approx([6.0, 6.8, 6.0, 5.0])
    # de Gennes: Nd3+ 4I9/2: g = 8/11, J = 9/2; Sm3+ 6H5/2: g = 2/7, J = 5/2
    dg_nd = (8 / 11 - 1) ** 2 * 4.5 * 5.5
    dg_sm = (2 / 7 - 1) ** 2 * 2.5 * 3.5
    assert col["degennes_RE"].tolist() == pytest.approx([2 / 17 * dg_nd, dg_sm / 6, 0.0, 0.0])
    assert col["f4_R3"].tolist() == pytest.approx([2 / 17 * 3, 5 / 6, 0.0, 0.0])
    assert col["pnorm_0"].tolist() == [3, 3, 3, 2]
    # single-ion terms: Nd3+ alpha_J = -7/1089, J(2J - 1) = 36; Sm3+ alpha_J = 13/315, J(2J - 1) = 10
    assert col["stevens_RE"].tolist() == pytest.approx([2 / 17 * (-7 / 1089) * 36, (13 / 315) * 10 / 6, 0.0, 0.0])
    # spin projection (g_J - 1) J: Nd (8/11 - 1) 9/2, Sm (2/7 - 1) 5/2; moment g_J J
    assert col["spin_RE"].tolist() == pytest.approx([2 / 17 * (8 / 11 - 1) * 4.5, (2 / 7 - 1) * 2.5 / 6, 0.0, 0.0])
    assert col["moment_RE"].tolist() == pytest.approx([2 / 17 * 8 / 11 * 4.5, 2 / 7 * 2.5 / 6, 0.0, 0.0])
    assert col["frac_NCH"].tolist() == pytest.approx([0.0, 0.0, 0.0, 0.0])
    X, names = featurize(["Sm2Fe17N3", "Dy2Fe14B"])
    col = {n: X[:, i] for i, n in enumerate(names)}
    assert col["frac_NCH"].tolist() == pytest.approx([3 / 22, 0.0])
    # Dy3+: g_J = 4/3, J = 15/2: spin projection positive (heavy rare earth, antiparallel to Fe)
    assert col["spin_RE"][1] == pytest.approx(2 / 17 * (4 / 3 - 1) * 7.5) and col["spin_RE"][1] > 0


def test_mode_ties_go_to_the_smallest_value():
    X, names = featurize(["FeNi", "NiFe"])
    assert X[0, names.index("mode_Z")] == 26 == X[1, names.index("mode_Z")]


def test_names_follow_one_pattern_and_match_columns():
    names = feature_names()
    X, got = featurize(["SmCo5"])
    assert got == names and X.shape == (1, len(names)) and len(set(names)) == len(names)
    assert names[:6] == ["mean_Z", "avg_dev_Z", "min_Z", "max_Z", "range_Z", "mode_Z"]
    assert all("_" in n for n in names)


def test_independent_of_chunking_row_order_and_threads():
    plan = plan_enumeration(builtin_family("2-14-1"), chunk_size=5000)
    batch = plan.chunk(3).batch
    whole, _ = featurize(batch)
    parts = np.concatenate([featurize(batch.take(slice(a, a + 777)))[0] for a in range(0, len(batch), 777)])
    assert np.array_equal(whole, parts, equal_nan=True)
    order = np.random.default_rng(0).permutation(len(batch))
    assert np.array_equal(featurize(batch.take(order))[0], whole[order], equal_nan=True)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single, _ = featurize(batch)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(single, whole, equal_nan=True)


@pytest.mark.parity
def test_parity_with_matminer_magpie():
    pytest.importorskip("matminer", reason="matminer is in the `bench` extra (pytest -m parity)")
    from matminer.featurizers.composition import ElementProperty

    ep = ElementProperty.from_preset("magpie")
    formulas = ["Nd2Fe14B", "(Nd0.8Dy0.2)2(Fe0.9Co0.1)14B", "SmCo5", "Sm2Fe17N3", "SrFe12O19", "MnBi", "FeNi",
                "Mn0.54Al0.46", "SmFe11Ti", "Fe16N2", "Sr0.9La0.1Fe11.9Co0.1O19", "Ce2Fe14B", "YCo5", "Fe"]
    batch = encode(formulas)
    source = ep.data_source
    table = np.full((119, len(ep.features)), np.nan)
    symbols = element_symbols()
    for z in range(1, 104):
        for p, prop in enumerate(ep.features):
            table[z, p] = source.get_elemental_property(Element(symbols[z]), prop)
    ours = np.empty((len(batch), 6 * len(ep.features) + len(PNORM_ORDERS) + _class_weights().shape[1] + 2))
    k.featurize_kernel(batch.elements, batch.fractions, table, np.array(PNORM_ORDERS), _class_weights(), ours)
    ours_by_label = {}
    matminer_stat = {"mean": "mean", "avg_dev": "avg_dev", "min": "minimum", "max": "maximum",
                     "range": "range", "mode": "mode"}
    for p, prop in enumerate(ep.features):
        for s, stat in enumerate(k.STATS):
            ours_by_label[f"MagpieData {matminer_stat[stat]} {prop}"] = ours[:, 6 * p + s]
    labels = ep.feature_labels()
    for i, formula in enumerate(formulas):
        reference = ep.featurize(Composition(formula))
        for label, value in zip(labels, reference):
            np.testing.assert_allclose(ours_by_label[label][i], value, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{formula}: {label}")


def test_hree_intensity_by_hand():
    m = {s: Element(s).atomic_mass for s in ("Nd", "Dy", "Fe", "B")}
    dy2 = 2 * m["Dy"] / (2 * m["Dy"] + 14 * m["Fe"] + m["B"]) * 1000
    mixed = 0.4 * m["Dy"] / (1.6 * m["Nd"] + 0.4 * m["Dy"] + 14 * m["Fe"] + m["B"]) * 1000
    got = hree_intensity(["Nd2Fe14B", "Dy2Fe14B", "(Nd0.8Dy0.2)2Fe14B"])
    assert got.tolist() == pytest.approx([0.0, dy2, mixed], rel=1e-12)
    assert got[1] == pytest.approx(290.79, abs=0.01)  # 325.0 / 1117.6 g/g
    # Sm is not a heavy rare earth by default, but it is under the April 2025 controls
    assert hree_intensity(["SmCo5"])[0] == 0.0
    assert hree_intensity(["SmCo5"], "china-2025-04")[0] == pytest.approx(
        1000 * Element("Sm").atomic_mass / (Element("Sm").atomic_mass + 5 * Element("Co").atomic_mass))
    assert hree_intensity(["Ho2Fe14B"], "china-2025-04")[0] == 0.0 < hree_intensity(["Ho2Fe14B"], "china-2025-10")[0]


def test_transformer_in_a_pipeline():
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    formulas = ["Nd2Fe14B", "SmCo5", "FeNi", "MnBi", "SrFe12O19", "Sm2Fe17N3"]
    y = np.arange(len(formulas), dtype=float)
    pipe = make_pipeline(CompositionFeaturizer(), Ridge(alpha=1.0)).fit(formulas, y)
    assert pipe.predict(formulas).shape == (6,)
    featurizer = pipe[0]
    assert list(featurizer.get_feature_names_out()) == feature_names()
    assert featurizer.get_params() == {"properties": None}
    with pytest.raises(ValueError, match="unknown element property"):
        CompositionFeaturizer(properties=("colour",)).fit(formulas)
    with pytest.raises(ValueError, match="single string"):
        featurizer.transform("Nd2Fe14B")


def test_cli_featurize(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    src = tmp_path / "f.txt"
    src.write_text("Nd2Fe14B\n\n# a comment\nSmCo5\nFe14Nd2B\n")
    out = tmp_path / "f.parquet"
    cmd = [sys.executable, "-m", "magnetscreen.screening.cli", "featurize", str(src), "--out", str(out)]
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 0
    frame = pd.read_parquet(out)
    X, names = featurize(["Nd2Fe14B", "SmCo5", "Fe14Nd2B"])
    assert frame["canonical_formula"].tolist() == ["Nd2Fe14B", "SmCo5", "Nd2Fe14B"]
    assert np.array_equal(frame[names].to_numpy(), X, equal_nan=True)
    bad = tmp_path / "bad.txt"
    bad.write_text("Nd2Fe14B\nNd2Fe14X\n")
    result = subprocess.run([*cmd[:4], str(bad), "--out", str(tmp_path / "b.parquet")], capture_output=True, text=True)
    assert result.returncode == 2 and "line 2: 'Nd2Fe14X': unknown element 'X'" in result.stderr
    assert not (tmp_path / "b.parquet").exists()


def test_hree_kernel_equals_naive_python():
    from magnetscreen.descriptors.hree import hree_mask
    from magnetscreen.descriptors.hree_kernels import hree_intensity_kernel

    batch = random_batch(seed=5)
    for name in ("default", "china-2025-04", "china-2025-10"):
        mask = hree_mask(name)
        got = hree_intensity_kernel(batch.elements, batch.mass_fractions, mask)
        for r in range(len(batch)):
            expected = 1000 * sum(w for z, w in zip(batch.elements[r], batch.mass_fractions[r]) if z and mask[z])
            assert got[r] == pytest.approx(expected, rel=1e-12, abs=1e-12)
