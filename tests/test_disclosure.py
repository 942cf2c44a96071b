"""Disclosure records: the versioned JSON schema, HREE content against pymatgen, concentration and controls."""

from __future__ import annotations

import argparse
import json

import pytest
from pymatgen.core import Composition

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.datasets.hree import hree_set, hree_set_names
from magnetscreen.models.disclosure import DISCLOSURE_JSON_SCHEMA, SCHEMA_NAME, SCHEMA_VERSION, disclose
from magnetscreen.screening.cli import disclose as cli_disclose
from magnetscreen.screening.cli import risk as cli_risk

AS_OF = "2025-05-01"


def validate(value, schema, path="$"):
    """Minimal JSON-Schema check (type, const, required, properties, additionalProperties, items)."""
    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        python = {"object": dict, "array": list, "string": str, "integer": int, "null": type(None),
                  "number": (int, float)}
        ok = any(isinstance(value, python[t]) and not (t in ("number", "integer") and isinstance(value, bool))
                 for t in allowed)
        assert ok, f"{path}: expected {allowed}, got {value!r}"
    if "const" in schema:
        assert value == schema["const"], path
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}: missing {key}"
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                validate(item, properties[key], f"{path}.{key}")
            else:
                extra = schema.get("additionalProperties", True)
                assert extra is not False, f"{path}: unexpected key {key}"
                if isinstance(extra, dict):
                    validate(item, extra, f"{path}.{key}")
        if "required" in schema:
            assert list(value) == schema["required"], f"{path}: keys out of order"
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{i}]")


def keys(value, path=""):
    """Every key path of a record, in order (lists contribute their item keys)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in [f"{path}.{k}"] + keys(v, f"{path}.{k}")]
    return []


def test_records_follow_the_versioned_schema():
    records = disclose(["(Nd0.8Dy0.2)2Fe14B", "SmCo5", "SrFe12O19", "Fe16N2"], as_of=AS_OF)
    for record in records:
        validate(record, DISCLOSURE_JSON_SCHEMA)
        assert record["schema"] == SCHEMA_NAME and record["schema_version"] == SCHEMA_VERSION
        json.dumps(record, allow_nan=False)  # strict JSON: no NaN
    # line-by-line comparability: the same sections and HREE lines for every magnet
    first = [k for k in keys(records[0]) if ".data_vintage.elements." not in k]
    for record in records[1:]:
        top = [k for k in keys(record) if ".data_vintage.elements." not in k]
        assert [k for k in top if k.startswith(".hree")] == [k for k in first if k.startswith(".hree")]
        assert list(record) == list(records[0])


def test_hree_content_against_pymatgen_weight_fractions():
    formula = "(Nd0.8Dy0.1Tb0.1)2Fe14B"
    record = disclose([formula], as_of=AS_OF)[0]
    comp = Composition(formula)
    for name in hree_set_names():
        block = record["hree"]["sets"][name]
        assert list(block["elements"]) == list(hree_set(name).elements)
        expected = {e: 1000 * comp.get_wt_fraction(e) for e in hree_set(name).elements}
        for element, value in block["elements"].items():
            assert value == pytest.approx(expected[element], abs=1e-5), (name, element)
        assert block["total"] == pytest.approx(sum(expected.values()), abs=1e-5)
    assert record["hree"]["sets"]["default"]["elements"]["Dy"] > 25


def test_concentration_in_one_country():
    record = disclose(["SmCo5"], as_of=AS_OF)[0]
    comp = Composition("SmCo5")
    mining = record["concentration"]["mining"]
    by_element = {e["element"]: e for e in mining["elements"]}
    assert by_element["Sm"]["country"] == "CHN" and by_element["Sm"]["share"] == pytest.approx(0.6923)
    assert by_element["Co"]["country"] == "COD"
    assert mining["by_country"]["COD"] == pytest.approx(comp.get_wt_fraction("Co"), abs=1e-6)
    assert mining["concentrated_mass_share"] == pytest.approx(1.0, abs=1e-6)
    refining = record["concentration"]["refining"]
    assert refining["by_country"] == {"CHN": pytest.approx(comp.get_wt_fraction("Sm"), abs=1e-6)}
    assert refining["elements_without_data"] == ["Co"]  # no refining shares for cobalt: reported, not zero
    assert refining["mass_share_without_data"] == pytest.approx(comp.get_wt_fraction("Co"), abs=1e-6)
    strict = disclose(["SmCo5"], as_of=AS_OF, threshold_share=0.9)[0]["concentration"]["mining"]
    assert strict["concentrated_mass_share"] == 0.0


def test_export_controls_as_of_the_date():
    before = disclose(["SmCo5"], as_of="2023-01-01")[0]["export_controls"]
    after = disclose(["SmCo5"], as_of=AS_OF)[0]["export_controls"]
    assert before == {"controlled_mass_share": 0.0, "elements": []}
    assert [e["element"] for e in after["elements"]] == ["Sm"]
    assert after["elements"][0]["events"][0]["announcement"] == "MOFCOM/GAC Announcement No. 18 of 2025"
    assert after["controlled_mass_share"] == pytest.approx(Composition("SmCo5").get_wt_fraction("Sm"), abs=1e-6)
    halted = disclose(["Nd1.8Tb0.2Fe14B"], as_of=AS_OF, scenario="china-halts-dy-tb")[0]
    assert {e["action"] for e in halted["export_controls"]["elements"][0]["events"]} == {"licensing", "ban"}
    assert halted["scenario"] == "china-halts-dy-tb"


def test_data_vintage_names_every_input_year():
    record = disclose(["Nd2Fe14B"], as_of=AS_OF)[0]
    vintage = record["data_vintage"]
    assert vintage["elements"]["Nd"] == {"mining": 2024, "refining": 2023, "import_reliance": 2024,
                                         "feoc_share": 2024, "eol_rir": None, "substitution_index": None}
    assert vintage["elements"]["Fe"]["mining"] == 2019
    assert set(vintage["tables"]) == {"production", "trade", "mitigation", "governance", "export_controls"}
    assert vintage["export_control_events_through"] == "2025-11-09"


def test_bad_threshold_share_names_the_value():
    with pytest.raises(ConfigError, match="threshold_share: expected a share in \\(0, 1\\], got 0"):
        disclose(["SmCo5"], threshold_share=0)


def _parser():
    parser = argparse.ArgumentParser(prog="magnetscreen")
    sub = parser.add_subparsers(dest="command")
    cli_risk.add_parser(sub)
    cli_disclose.add_parser(sub)
    return parser


def test_cli_handlers(capsys):
    args = _parser().parse_args(["disclose", "SmCo5", "Nd2Fe14B", "--as-of", AS_OF, "--format", "json"])
    assert args.func.__module__ == "magnetscreen.screening.cli.disclose"
    assert cli_disclose.run(args) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["formula"] for r in records] == ["SmCo5", "Nd2Fe14B"]
    args = _parser().parse_args(["disclose", "SmCo5", "--as-of", AS_OF])
    assert cli_disclose.run(args) == 0
    assert "MOFCOM/GAC Announcement No. 18 of 2025" in capsys.readouterr().out
    args = _parser().parse_args(["risk", "SmCo5", "SrFe12O19", "--as-of", AS_OF, "--format", "json"])
    assert args.func.__module__ == "magnetscreen.screening.cli.risk"
    assert cli_risk.run(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["formula"] == "SmCo5" and rows[0]["driver_weakest_link"] == "Sm"
    assert 0 <= rows[0]["risk_mass_weighted"] <= 1 and 0 <= rows[0]["risk_weakest_link"] <= 1
    assert {e["element"] for e in rows[1]["elements"]} == {"Sr", "Fe", "O"}
    assert [e for e in rows[1]["elements"] if e["element"] == "O"][0]["risk"] is None
    for fmt in ("csv", "table"):
        args = _parser().parse_args(["risk", "SmCo5", "--as-of", AS_OF, "--format", fmt])
        assert cli_risk.run(args) == 0
        assert "SmCo5" in capsys.readouterr().out
