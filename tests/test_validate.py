"""``magnetscreen validate``: exclusion, refit and scores checked against naive recomputation."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition

from magnetscreen.datasets.user_data import load_user_dataset
from magnetscreen.models.training import training_set
from magnetscreen.models.validation import FIELDS, validate
from magnetscreen.screening.cli.app import main

# Js and K1 rows only (the Tc refit takes about a minute; `benchmarks/validation_slice.py` makes a Tc dataset)
ROWS = [("Nd2Fe14B", 1.60, None, 295.0), ("Pr2Fe14B", 1.56, None, 295.0), ("Nd2Fe13CoB", 1.62, 4.3, 295.0),
        ("SmCo5", 1.05, 17.0, 295.0), ("Sm2Fe17N3", 1.54, 8.5, 295.0)]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("validate") / "lab.csv"
    pd.DataFrame(ROWS, columns=["formula", "Js_T", "K1_MJm3", "T_K"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def result(dataset):
    return validate(load_user_dataset(dataset), exclude_radius=0.02)


def _l1(a: str, b: str) -> float:
    x, y = Composition(a).fractional_composition, Composition(b).fractional_composition
    return sum(abs(x[e] - y[e]) for e in set(x.elements) | set(y.elements))


def test_training_rows_near_any_test_composition_are_removed(result):
    tests = [r[0] for r in ROWS]
    for target in ("Js_T", "K1_MJm3", "Tc_K"):
        data = training_set(target, tier_rule="A+B+0.1C" if target == "Tc_K" else None)
        formulas = data.frame["formula"].tolist()
        if target == "Tc_K":  # the naive check on the curated rows only (the corpus has 10^4)
            sample = [f for f, o in zip(formulas, data.frame["origin"]) if o != "curie_corpus"]
            near = sum(min(_l1(f, t) for t in tests) <= 0.02 for f in sample)
            assert result[target]["removed_training_rows"] >= near > 0
        else:
            near = sum(min(_l1(f, t) for t in tests) <= 0.02 for f in formulas)
            assert result[target]["removed_training_rows"] == near > 0, target


def test_scores_equal_a_naive_recomputation(result):
    for target, n in (("Js_T", 5), ("K1_MJm3", 3)):
        r = result[target]
        p = r["predictions"]
        assert r["n"] == n == len(p)
        err = np.abs(p["mean"] - p["y"])
        assert r["mae"] == pytest.approx(err.mean())
        assert r["rmse"] == pytest.approx(np.sqrt((err**2).mean()))
        assert r["coverage_1sigma"] == pytest.approx((err <= p["sigma"]).mean())
        assert r["coverage_2sigma"] == pytest.approx((err <= 2 * p["sigma"]).mean())
        assert r["in_domain_share"] == pytest.approx(p["in_domain"].mean())
        assert set(FIELDS) <= set(r)
    assert result["Tc_K"]["n"] == 0 and result["Tc_K"]["mae"] is None


def test_validate_cli_json(dataset, capsys):
    # in-process (the subprocess path is exercised by test_validate_refuses_bad_input)
    assert main(["validate", str(dataset), "--format", "json", "--quiet", "--exclude-radius", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"Js_T", "K1_MJm3", "Tc_K"}
    assert set(data["Js_T"]) == set(FIELDS) and data["Js_T"]["n"] == 5
    # radius 0 removes exact matches only: Nd2Fe14B, Pr2Fe14B, SmCo5 and Sm2Fe17N3 have Js rows in the data
    assert data["Js_T"]["removed_training_rows"] >= 4


def test_validate_refuses_bad_input(tmp_path, dataset, capsys):
    empty = tmp_path / "tc_only_no_rows.csv"
    pd.DataFrame({"formula": ["Nd2Fe14B"], "Js_T": [1.6]}).to_csv(empty, index=False)  # Js without T_K
    assert main(["validate", str(empty), "--quiet"]) == 2
    assert "no row to validate on" in capsys.readouterr().err
    out = subprocess.run([sys.executable, "-m", "magnetscreen.screening.cli", "validate", str(dataset),
                          "--exclude-radius", "-1"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 2 and "--exclude-radius" in out.stderr
