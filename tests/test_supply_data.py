"""Shipped supply data: schema, provenance, selection rules, export-control dates and scenario validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from magnetscreen.datasets import builtin_families
from magnetscreen.datasets.errors import ConfigError, DataError
from magnetscreen.datasets.hree import hree_set
from magnetscreen.datasets.schema import validate_rows
from magnetscreen.datasets.supply import (
    RARE_EARTHS,
    SUPPLY_TABLES,
    active_controls,
    apply_scenario,
    export_control_events,
    governance_risk,
    load_scenario,
    load_supply_table,
    parse_scenario,
    scenario_names,
    supply_inputs,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(SUPPLY_TABLES))
def test_every_row_is_cited_with_year(name):
    frame = load_supply_table(name)
    assert len(frame) > 0
    for column in ("source", "locator", "read_at"):
        assert (frame[column].str.strip() != "").all(), column
    assert frame["read_at"].str.match(r"^https?://\S+$").all()
    assert frame["year"].between(2000, 2026).all()
    prov = frame.attrs["provenance"]
    assert prov["rows"] == len(frame) and len(prov["sha256"]) == 64
    assert set(prov["columns"]) == set(frame.columns)


def test_validation_names_file_line_column_and_value():
    frame = load_supply_table("production").astype(str)
    frame.loc[2, "share_fraction"] = "1.7"
    with pytest.raises(DataError, match=r"x\.csv: line 4: column 'share_fraction': '1\.7' outside"):
        validate_rows(frame, SUPPLY_TABLES["production"], "x.csv")
    frame = load_supply_table("production").astype(str)
    frame.loc[0, "element"] = "Xx"
    with pytest.raises(DataError, match=r"line 2: column 'element': unknown element 'Xx'"):
        validate_rows(frame, SUPPLY_TABLES["production"], "x.csv")
    events = load_supply_table("export_controls").astype(str)
    events.loc[1, "effective"] = "2024-02-30"
    with pytest.raises(DataError, match=r"line 3: column 'effective': expected a date such as 2025-05-01, got '2024-02-30'"):
        validate_rows(events, SUPPLY_TABLES["export_controls"], "x.csv")


def test_every_producing_country_has_all_six_governance_estimates():
    production = load_supply_table("production")
    governance = governance_risk()
    assert set(production["country"]) - {"ROW"} <= set(governance)
    assert all(0.0 <= g <= 1.0 for g in governance.values())


def test_governance_risk_by_hand_for_china():
    wgi = load_supply_table("governance")
    chn = wgi[(wgi["country"] == "CHN") & wgi["indicator"].str.endswith("_estimate")]["value"]
    assert len(chn) == 6
    expected = (2.5 - sum(chn) / 6) / 5
    assert governance_risk()["CHN"] == pytest.approx(expected, abs=1e-12)
    assert governance_risk()["NOR"] < governance_risk()["CHN"] < governance_risk()["COD"]


def test_selection_takes_latest_year_then_finest_country_table():
    inputs = supply_inputs()
    cobalt = inputs.shares[("Co", "mining")]
    assert cobalt.year == 2024 and cobalt.source.startswith("U.S. Geological Survey")  # 4 countries beat 2
    assert inputs.shares[("Dy", "refining")].countries[0] == "CHN"
    assert inputs.shares[("Dy", "refining")].shares[0] == pytest.approx(0.92)
    assert inputs.import_reliance["Y"][1] == 2025 and inputs.feoc_share["Y"] == (0.93, 2024, inputs.feoc_share["Y"][2])
    for data in inputs.shares.values():
        assert 0.99 <= sum(data.shares) <= 1.03  # rounded published totals


def test_every_family_element_and_rare_earth_is_covered_or_a_documented_gap():
    family_elements = {e for f in builtin_families() for s in f.sites for e in s.elements}
    wanted = family_elements | set(RARE_EARTHS)
    have = set(supply_inputs().elements())
    gaps = wanted - have
    assert gaps == {"N", "O", "Ca", "Pm"}
    docs = (ROOT / "docs" / "supply-risk.md").read_text()
    for symbol in gaps:
        assert f"`{symbol}`" in docs


def test_export_control_dates():
    events = export_control_events()

    def controlled(day):
        return set(active_controls(dt.date.fromisoformat(day), events))

    assert controlled("2023-07-31") == set()
    assert controlled("2023-08-01") == {"Ga", "Ge"}
    assert controlled("2024-09-15") == {"Ga", "Ge", "Sb"}
    ban = {e.event_id for e in active_controls(dt.date(2025, 1, 1), events)["Ga"]}
    assert "CN-2024-46-US" in ban
    april = set(hree_set("china-2025-04").elements)
    assert controlled("2025-04-04") == {"Ga", "Ge", "Sb"} | april
    # October 2025 additions: effective 8 Nov 2025 but suspended 7 Nov 2025, so never in force
    october = {"Ho", "Er", "Tm", "Eu", "Yb"}
    assert not october & controlled("2025-11-08")
    # the Dec 2024 ban on exports to the US is suspended from 9 Nov 2025; the licensing stays
    late = active_controls(dt.date(2025, 11, 9), events)
    assert {e.event_id for e in late["Ga"]} == {"CN-2023-23-GaGe"}
    assert {e.event_id for e in active_controls(dt.date(2025, 11, 8), events)["Ga"]} == {"CN-2023-23-GaGe",
                                                                                        "CN-2024-46-US"}


def test_builtin_scenarios_load_and_are_dated():
    assert {"baseline", "china-halts-dy-tb", "allied-refining-doubles", "export-controls-2025-10-reinstated",
            "eol-recycling-25pct"} <= set(scenario_names())
    for name in scenario_names():
        scenario = load_scenario(name)
        assert scenario.name == name and isinstance(scenario.date, dt.date) and scenario.description


def _scenario(**extra):
    data = {"name": "test", "date": dt.date(2025, 1, 1), "description": "a test"}
    data.update(extra)
    return data


@pytest.mark.parametrize("extra, fragment", [
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"date": "tomorrow"}, "date: expected a date such as 2025-05-01, got 'tomorrow'"),
    ({"production": [{"elements": ["Dy"], "stage": "refining", "scale": {"XYZ": 2.0}}]}, "unknown country code 'XYZ'"),
    ({"production": [{"elements": ["Dy"], "stage": "smelting", "scale": {"CHN": 0.5}}]},
     "stage: expected one of 'mining', 'refining', got 'smelting'"),
    ({"production": [{"elements": ["Dy"], "stage": "mining"}]}, "give exactly one of 'scale'"),
    ({"production": [{"elements": ["Dy"], "stage": "mining", "shares": {"CHN": 0.8, "USA": 0.4}}]},
     "shares sum to 1.2"),
    ({"mitigation": [{"elements": ["Qq"], "eol_rir": 0.2}]}, "unknown element 'Qq'"),
    ({"mitigation": [{"elements": ["Nd"], "eol_rir": 1.5}]}, "eol_rir: expected a number <= 1, got 1.5"),
    ({"trade": [{"elements": ["Nd"], "import_reliance": 50}]}, "unknown key 'import_reliance'"),
    ({"export_control": [{"id": "CN-2025-18-MHREE", "action": "ban", "elements": ["Dy"]}]}, "already used"),
    ({"export_control": [{"id": "x", "action": "suspension"}]}, "a suspension needs the event_id"),
    ({"remove_events": ["nope"]}, "unknown event id 'nope'"),
])
def test_user_scenarios_are_validated_with_clear_errors(extra, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_scenario(_scenario(**extra), "user.toml:")


def test_user_scenario_file_round_trip(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\ndate = 2025-06-01\ndescription = "Dy mining split"\n'
                    '[[production]]\nelements = ["Dy"]\nstage = "mining"\nshares = { CHN = 0.6, AUS = 0.3, USA = 0.1 }\n')
    scenario = load_scenario(str(path))
    inputs = apply_scenario(supply_inputs(), scenario)
    assert inputs.shares[("Dy", "mining")].shares == (0.6, 0.3, 0.1)
    assert inputs.shares[("Tb", "mining")] == supply_inputs().shares[("Tb", "mining")]
    with pytest.raises(ConfigError, match="no such file"):
        load_scenario(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\ndate = 2025-06-01\ndescription = "x"\n'
                   '[[production]]\nelements = ["Fe"]\nstage = "refining"\nscale = { CHN = 2.0 }\n')
    with pytest.raises(ConfigError, match="no refining shares for Fe to scale"):
        apply_scenario(supply_inputs(), load_scenario(str(bad)))


def test_scenario_changes_only_the_inputs_it_names():
    base = supply_inputs()
    for name in scenario_names():
        scenario = load_scenario(name)
        changed = apply_scenario(base, scenario)
        named = set()
        for change in scenario.production:
            named |= {(e, change.stage) for e in change.elements}
        diff = {k for k in set(base.shares) | set(changed.shares) if base.shares.get(k) != changed.shares.get(k)}
        assert diff == named, name
        for attr, changes in (("import_reliance", scenario.trade), ("feoc_share", scenario.trade),
                              ("eol_rir", scenario.mitigation), ("substitution_index", scenario.mitigation)):
            key = {"import_reliance": "import_reliance_pct", "feoc_share": "feoc_import_share"}.get(attr, attr)
            named_elements = {e for c in changes for e in c.elements if key in dict(c.values)}
            old, new = getattr(base, attr), getattr(changed, attr)
            assert {e for e in set(old) | set(new) if old.get(e) != new.get(e)} == named_elements, (name, attr)
        assert changed.governance == base.governance
        old_ids = [e.event_id for e in base.events]
        new_ids = [e.event_id for e in changed.events]
        assert set(old_ids) - set(new_ids) == set(scenario.remove_events)
        assert set(new_ids) - set(old_ids) == {e.event_id for e in scenario.add_events}


def test_shipped_csv_is_utf8_with_unit_columns():
    for spec in SUPPLY_TABLES.values():
        path = ROOT / "datasets" / "data" / "supply" / spec.filename
        text = path.read_bytes().decode("utf-8")
        header = text.splitlines()[0]
        assert header == ",".join(c.name for c in spec.columns)
    assert "share_fraction" in SUPPLY_TABLES["production"].column("share_fraction").name
    assert pd.read_csv(ROOT / "datasets" / "data" / "supply" / "production_shares.csv")["share_fraction"].max() <= 1
