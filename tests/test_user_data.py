"""User datasets: units converted exactly, every problem named with its line and value."""

from __future__ import annotations

import pandas as pd
import pytest

from magnetscreen.datasets import DataError
from magnetscreen.datasets.user_data import load_user_dataset


def write(tmp_path, text, name="u.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_units_are_converted_and_recorded(tmp_path):
    path = write(tmp_path, "formula,Js_kG,K1_kJm3,HA_kOe,Tc_C,T_C,source\nNd2Fe14B,16.1,4900,75,312,22,a\nSmCo5,,,,747,,b\n")
    frame = load_user_dataset(path)
    assert frame["Js_T"].iloc[0] == pytest.approx(1.61)
    assert frame["K1_MJm3"].iloc[0] == pytest.approx(4.9)
    assert frame["muHA_T"].iloc[0] == pytest.approx(7.5)
    assert frame["Tc_K"].tolist() == pytest.approx([585.15, 1020.15])
    assert frame["T_K"].iloc[0] == pytest.approx(295.15) and pd.isna(frame["T_K"].iloc[1])
    assert frame["source"].tolist() == ["a", "b"]
    prov = frame.attrs["provenance"]
    assert prov["rows"] == 2 and prov["conversions"]["Tc_C"] == "Tc_K = 1 * Tc_C + 273.15"


def test_parquet_booleans_are_not_numbers(tmp_path):
    path = tmp_path / "b.parquet"
    pd.DataFrame({"formula": ["Fe", "Co"], "Tc_K": [True, True]}).to_parquet(path)
    with pytest.raises(DataError, match="column 'Tc_K': expected numbers, got booleans"):
        load_user_dataset(path)


def test_parquet(tmp_path):
    path = tmp_path / "u.parquet"
    pd.DataFrame({"composition": ["FeNi", "MnBi"], "Tc_K": [820.0, 633.0]}).to_parquet(path)
    frame = load_user_dataset(path, formula_column="composition")
    assert frame["formula"].tolist() == ["FeNi", "MnBi"] and frame["Tc_K"].tolist() == [820.0, 633.0]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name,Tc_K\nFe,1043\n", "missing formula column 'formula'"),
        ("formula,source\nFe,a\n", "no property column"),
        ("formula,Tc_F\nFe,1043\n", "column 'Tc_F': unit 'F' not recognised for Tc (accepted: Tc_K, Tc_C)"),
        ("formula,Tcurie\nFe,1043\n", "unknown column 'Tcurie'"),
        ("formula,Tc_K,Tc_C\nFe,1043,770\n", "columns 'Tc_K' and 'Tc_C' both give Tc_K"),
        ("formula,Tc_K\nFe,1043\nNd2Fe14X,585\n", "line 3: column 'formula': 'Nd2Fe14X': unknown element 'X'"),
        ("formula,Tc_K\nFe,hot\n", "line 2: column 'Tc_K': expected a number, got 'hot'"),
        ("formula,Js_T\nFe,3.5\n", "line 2: column 'Js_T': '3.5' gives Js_T = 3.5, outside the plausible range"),
        ("formula,Tc_K,Js_T\nFe,1043,\nCo,,\n", "line 3: no property value"),
        # regressions: each of these was silently accepted or changed before
        ("formula,Tc_K\nFe,True\nCo,True\n", "line 2: column 'Tc_K': expected a number, got 'True'"),
        ("formula,Tc_K\nSm\0Co5,1000\n", "line 2: NUL character"),
        ('formula,Tc_K\n"Nd2Fe14B\nSmCo5",585\n', "line 2: column 'formula': 'Nd2Fe14B\\nSmCo5': a line break"),
        ("formula,Tc_K\nNaN,300\n", "line 2: column 'formula': 'NaN': reads as a missing value"),
        ("formula,Tc_K\n", "no data rows (only a header"),
        ("", "empty file"),
        ("formula,Tc_K\nFe,\u0661\u0660\u0664\u0663\n", "line 2: column 'Tc_K': expected a number, got '\u0661"),
        ("formula,Tc_K\nFe,1043\u00a0\n", "line 2: column 'Tc_K': expected a number"),
        ("formula,Tc_K\nFe,inf\n", "line 2: column 'Tc_K': expected a number, got 'inf'"),
        ("formula,Tc_K\nFe,0x400\n", "line 2: column 'Tc_K': expected a number, got '0x400'"),
        ("formula,Tc_K\nFe1Co0.000000001,1043\n", "atomic fraction of Co is 1e-09"),
    ],
)
def test_errors_name_line_and_value(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_user_dataset(path)
    assert fragment in str(info.value) and str(path) in str(info.value)


def test_file_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_user_dataset(tmp_path / "absent.csv")
    with pytest.raises(DataError, match=r"unsupported file type '.xlsx'"):
        load_user_dataset(write(tmp_path, "x", "u.xlsx"))


def test_cli_data_list_show_and_check(tmp_path, capsys):
    """The `data` subcommands, through the CLI's main function (the console script itself is run as a
    subprocess by tests/test_cli.py)."""
    from types import SimpleNamespace

    from magnetscreen.screening.cli.app import main

    def run(*args):
        code = main(["data", *args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    listed = run()
    assert listed.returncode == 0 and "intrinsic: " in listed.stdout and "curie: " in listed.stdout
    shown = run("show", "curie", "--format", "csv", "--limit", "5")
    assert shown.returncode == 0 and len(shown.stdout.strip().splitlines()) == 6
    good = write(tmp_path, "formula,Tc_C\nFe14Nd2B,312\n")
    checked = run("check", str(good), "--format", "csv")
    assert checked.returncode == 0 and "Nd2Fe14B" in checked.stdout and "converted Tc_K" in checked.stderr
    bad = write(tmp_path, "formula,Tc_C\nFe14Nd2X,312\n", "bad.csv")
    failed = run("check", str(bad))
    assert failed.returncode == 2 and "line 2" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert run("show", "nope").returncode == 2
