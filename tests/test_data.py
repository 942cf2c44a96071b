"""Validation of the shipped tables: provenance, units, parsing, duplicates and the known trends."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from magnetscreen.datasets.element_table import ELEMENT_COLUMNS, build_element_table, load_element_table
from magnetscreen.datasets.errors import DataError
from magnetscreen.datasets.tables import TABLES, load_table, validate_rows
from magnetscreen.descriptors import canonical_formula

ROOT = Path(__file__).resolve().parent.parent


def raw(name):
    spec = TABLES[name]
    with resources.as_file(resources.files("magnetscreen.datasets") / "data" / spec.filename) as path:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_row_follows_the_schema(name):
    validate_rows(raw(name), TABLES[name], TABLES[name].filename)  # raises on the first bad row


CITED = sorted(name for name, spec in TABLES.items() if "read_at" in [c.name for c in spec.columns])
#: Tables read in compilations that cite the original by its bibliographic reference where they give no DOI.
CITATIONS_ALLOWED = ("intrinsic_series", "end_members")


@pytest.mark.parametrize("name", CITED)
def test_every_row_names_source_method_and_where_it_was_read(name):
    frame = load_table(name)
    assert len(frame) > 0
    prov = frame.attrs["provenance"]
    assert prov["rows"] == len(frame) and len(prov["sources"]) == frame["source"].replace("", None).dropna().nunique()
    if "status" in frame:  # the stability ranges: explicit 'unknown' rows cite no value
        assert set(frame["status"]) <= {"reported", "unknown"}
        assert (frame.loc[frame["status"] == "unknown", "note"].str.len() > 20).all()  # says where we looked
        frame = frame[frame["status"] == "reported"]
    assert set(frame["method"]) <= {"experiment", "DFT"}
    for column in ("source", "locator", "read_at"):
        assert (frame[column].str.strip() != "").all(), column
    linked = frame["source"].str.match(r"^(doi:10\.\d{4,}/\S+|https?://\S+)$")
    if name in CITATIONS_ALLOWED:  # a citation, then, long enough to find the paper by
        assert (linked | (frame["source"].str.len() >= 20)).all()
    else:
        assert linked.all()
    assert frame["read_at"].str.match(r"^https?://\S+$").all()
    assert re.fullmatch(r"[0-9a-f]{64}", prov["sha256"])


def test_units_are_plausible():
    intrinsic = load_table("intrinsic")
    assert intrinsic["Js_T"].dropna().between(0, 2.6, inclusive="neither").all()
    assert (intrinsic["K1_MJm3"].dropna().abs() < 30).all()
    for name in ("intrinsic", "curie"):
        assert load_table(name)["Tc_K"].dropna().between(0, 1500, inclusive="neither").all()
    # temperatures of Js/K1/muHA are given wherever one of them is
    has_value = intrinsic[["Js_T", "K1_MJm3", "muHA_T"]].notna().any(axis=1)
    assert intrinsic.loc[has_value, "T_K"].notna().all()


@pytest.mark.parametrize("name", sorted(n for n, spec in TABLES.items() if "formula" in [c.name for c in spec.columns]))
def test_formulas_parse_and_have_canonical_names(name):
    formulas = load_table(name)["formula"]
    required = next(c for c in TABLES[name].columns if c.name == "formula").required
    if not required:  # an optional formula (a law of a whole family) is empty or a formula
        formulas = formulas[formulas.fillna("").str.strip() != ""]
    names = [canonical_formula(f) for f in formulas]
    assert names and all(names)
    if required:
        assert canonical_formula("Nd2Fe14B") in names


TOLERANCE = {"Js_T": 0.05, "K1_MJm3": 0.15, "muHA_T": 0.10, "Tc_K": 0.03}
#: Disagreeing duplicate groups documented in docs/data.md (table, canonical formula, property, method).
DOCUMENTED_SPREAD = {
    ("intrinsic", "YCo5", "K1_MJm3", "experiment"),
    ("intrinsic", "YCo5", "Tc_K", "experiment"),
    ("intrinsic", "YCo5", "Tc_K", "DFT"),
    ("curie", "Fe5B2P", "Tc_K", "experiment"),
    ("curie", "LaCrGe3", "Tc_K", "experiment"),
    ("curie", "SrCoO3", "Tc_K", "experiment"),
    ("curie", "Y0.75Fe1.25O3", "Tc_K", "experiment"),
}


def test_duplicates_agree_or_are_documented():
    docs = (ROOT / "docs" / "data.md").read_text()
    found = set()
    for name in ("intrinsic", "curie"):
        frame = load_table(name)
        frame["canonical"] = [canonical_formula(f) for f in frame["formula"]]
        temperature = frame["T_K"].fillna(-1.0) if "T_K" in frame else pd.Series(-1.0, index=frame.index)
        for prop, tol in TOLERANCE.items():
            if prop not in frame:
                continue
            sub = frame[frame[prop].notna()]
            for (canonical, _, method), group in sub.groupby(["canonical", temperature[sub.index], "method"]):
                values = group[prop]
                if len(values) > 1 and (values.max() - values.min()) / values.abs().max() > tol:
                    key = (name, canonical, prop, method)
                    found.add(key)
                    assert key in DOCUMENTED_SPREAD, f"undocumented disagreement {key}: {sorted(values)}"
                    assert all(group["note"].str.len() > 0)
    assert found == DOCUMENTED_SPREAD
    for _, canonical, _, _ in DOCUMENTED_SPREAD:
        assert canonical.replace("Fe5B2P", "Fe5PB2") in docs


def _values(frame, formula, prop, **match):
    rows = frame[[canonical_formula(f) == canonical_formula(formula) for f in frame["formula"]]]
    for key, value in match.items():
        rows = rows[rows[key] == value]
    values = rows[prop].dropna()
    assert len(values), f"no {prop} for {formula} {match} in the shipped data"
    return values


def test_known_fact_dy_and_tb_raise_the_anisotropy_field_of_2_14_1():
    data = load_table("intrinsic")
    source = "https://3dremag.eu/Pages/Process/generalities-about-NdFeB-magnets.html"
    same = data[data["read_at"].str.startswith("https://3dremag.eu")]
    nd = _values(same, "Nd2Fe14B", "muHA_T").iloc[0]
    dy = _values(same, "Dy2Fe14B", "muHA_T").iloc[0]
    tb = _values(same, "Tb2Fe14B", "muHA_T").iloc[0]
    assert nd < dy < tb, source


def test_known_fact_ce_lowers_the_curie_temperature_of_2_14_1():
    data = load_table("intrinsic")
    nd = _values(data, "Nd2Fe14B", "Tc_K").min()
    for ce_compound in ("Ce2Fe12.55Ni1.45B", "Ce2Fe11.74Si2.26B"):
        assert _values(data, ce_compound, "Tc_K").max() < nd


def test_known_fact_co_for_fe_raises_the_curie_temperature():
    intrinsic, curie = load_table("intrinsic"), load_table("curie")
    assert _values(intrinsic, "SmFe11Ti", "Tc_K").max() < _values(intrinsic, "Sm(Fe0.9Co0.1)11Ti", "Tc_K").min()
    assert _values(curie, "Sm2Fe17", "Tc_K").max() < _values(curie, "Sm2Fe14Co3", "Tc_K").min()
    assert _values(intrinsic, "SmFe12", "Js_T").max() < _values(intrinsic, "Sm(Fe0.8Co0.2)12", "Js_T").min()


def test_known_fact_fe16n2_is_rare_earth_free_with_js_above_2_tesla():
    js = _values(load_table("intrinsic"), "Fe16N2", "Js_T", method="experiment")
    assert (js > 2.0).all()


def test_known_fact_smco5_has_the_largest_k1_of_the_classic_phases():
    data = load_table("intrinsic")
    smco5 = _values(data, "SmCo5", "K1_MJm3").max()
    others = data[[canonical_formula(f) != "SmCo5" for f in data["formula"]]]["K1_MJm3"].dropna()
    assert smco5 > others.max()


def test_nitrogen_raises_the_curie_temperature_of_2_17():
    curie = load_table("curie")
    assert _values(curie, "Sm2Fe17", "Tc_K").max() + 300 < _values(curie, "Sm2Fe17N3", "Tc_K").min()


def test_validation_names_line_column_and_value():
    frame = raw("intrinsic").copy()
    frame.loc[3, "Js_T"] = "7.5"
    with pytest.raises(DataError, match=r"t.csv: line 5: column 'Js_T': '7.5' outside the plausible range"):
        validate_rows(frame, TABLES["intrinsic"], "t.csv")
    frame = raw("curie").copy()
    frame.loc[0, "source"] = ""
    with pytest.raises(DataError, match=r"line 2: column 'source' is empty"):
        validate_rows(frame, TABLES["curie"], "t.csv")
    frame = raw("curie").copy()
    frame.loc[1, "formula"] = "Nd2Fe14X"
    with pytest.raises(DataError, match=r"line 3: column 'formula': 'Nd2Fe14X': unknown element 'X'"):
        validate_rows(frame, TABLES["curie"], "t.csv")


def test_element_table_rebuilds_identically_from_pymatgen():
    shipped = load_element_table()
    rebuilt = build_element_table()
    assert list(shipped.columns) == list(rebuilt.columns) == list(ELEMENT_COLUMNS)
    assert shipped["symbol"].tolist() == rebuilt["symbol"].tolist()
    numeric = [c for c in ELEMENT_COLUMNS if c != "symbol"]
    np.testing.assert_allclose(shipped[numeric].to_numpy(float), rebuilt[numeric].to_numpy(float), rtol=1e-9,
                               equal_nan=True)


def test_element_table_hand_values():
    table = load_element_table().set_index("symbol")
    # Fe: [Ar] 3d6 4s2; four unpaired d electrons; 4 empty d states
    assert table.loc["Fe", ["n_s_valence", "n_d_valence", "n_d_unfilled", "n_unpaired_d"]].tolist() == [2, 6, 4, 4]
    # Ga: [Ar] 3d10 4s2 4p1
    assert table.loc["Ga", ["n_s_valence", "n_p_valence", "n_d_valence", "n_p_unfilled"]].tolist() == [2, 1, 10, 5]
    # de Gennes factor (g-1)^2 J(J+1): Gd3+ 8S7/2 -> 15.75; Dy3+ 6H15/2 -> (1/3)^2 * 63.75; La3+ 0
    assert table.loc["Gd", "de_gennes_R3"] == pytest.approx(15.75)
    assert table.loc["Dy", "de_gennes_R3"] == pytest.approx(63.75 / 9)
    assert table.loc["Nd", "de_gennes_R3"] == pytest.approx((8 / 11 - 1) ** 2 * 4.5 * 5.5)
    assert table.loc["La", "de_gennes_R3"] == 0.0
    # no silent zeros: missing values are NaN
    assert np.isnan(table.loc["He", "X_pauling"]) and np.isnan(table.loc["Fe", "de_gennes_R3"])
