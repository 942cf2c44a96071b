"""Run configuration: example configs load; every error names file, key path, value and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from magnetscreen.datasets import ConfigError, builtin_family_names, hree_set
from magnetscreen.screening import default_config, load_config, parse_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.toml") if not p.name.endswith(".family.toml")),
                         ids=lambda p: p.name)
def test_example_configs_load(path):
    config = load_config(path)
    assert config.families
    assert config.output_dir.is_absolute() and str(config.output_dir).startswith(str(EXAMPLES))


def test_low_dy_example_values():
    config = load_config(EXAMPLES / "low-dy-2-14-1.toml")
    (family,) = config.families
    assert family.name == "2-14-1" and family.step == 0.05
    assert family.sites[0].bound("Dy") == (0.0, 0.2)
    hree = [c for c in config.constraints if c.kind == "max_mass_fraction"][0]
    assert hree.elements == hree_set("default").elements and hree.value == 0.01
    assert config.operating_temperature_K == 423.15


def test_default_config_has_every_builtin_family(tmp_path):
    config = default_config(tmp_path)
    assert tuple(f.name for f in config.families) == builtin_family_names()
    assert config.output_dir == tmp_path / "magnetscreen-run"


def base():
    return {"families": [{"name": "MnBi"}]}


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({}, "cfg.toml: families: missing required key"),
        ({**base(), "famlies": "all"}, "unknown key 'famlies'"),
        ({**base(), "run": {"seed": -1}}, "run.seed: expected an integer >= 0, got -1"),
        ({**base(), "run": {"seed": 1.5}}, "run.seed: expected an integer, got float 1.5"),
        ({**base(), "run": {"chunk_size": 0}}, "run.chunk_size: expected an integer >= 1, got 0"),
        ({**base(), "run": {"workers": "many"}}, "run.workers: expected \"auto\" or an integer from 1 to 4096, got str 'many'"),
        ({**base(), "run": {"chunksize": 10}}, "run.chunksize: unknown key 'chunksize'"),
        ({**base(), "conditions": {"operating_temperature_K": -5}}, "operating_temperature_K: expected a number > 0"),
        ({**base(), "conditions": {"operating_temperature_C": 150}}, "unknown key 'operating_temperature_C'"),
        ({**base(), "conditions": {"hree_set": "china"}}, "hree_set: expected one of 'default', 'china-2025-04'"),
        ({"families": [{"name": "2-14-2"}]}, "families[0]: unknown built-in family '2-14-2'"),
        ({"families": [{"name": "MnBi", "file": "x.toml"}]}, "families[0]: give exactly one of 'name'"),
        ({"families": [{"name": "MnBi", "stepp": 0.1}]}, "families[0].stepp: unknown key 'stepp'"),
        ({"families": [{"name": "MnBi", "step": 0.3}]}, "step 0.3 does not divide 1"),
        ({"families": [{"name": "MnBi", "bounds": {"Bi": {"Sb": [0.5, 0.1]}}}]}, "bounds.Bi.Sb: expected [low, high]"),
        ({"families": [{"name": "MnBi", "bounds": {"Bi": {"Sb": 0.1}}}]}, "bounds.Bi.Sb: expected [low, high], got 0.1"),
        ({"families": [{"name": "MnBi"}, {"name": "MnBi"}]}, "family 'MnBi' listed more than once"),
        ({"families": "some"}, 'families: expected "all" or a non-empty array'),
        ({"families": []}, 'families: expected "all" or a non-empty array'),
        ({**base(), "constraints": [{"kind": "max_hree", "value": 0.1}]}, "constraints[0].kind: expected one of"),
        ({**base(), "screen": {"objectives": ["performance", "price"]}}, "unknown objective 'price'"),
        ({**base(), "screen": {"objectives": ["hree", "performance"]}}, 'expected "performance" first'),
        ({**base(), "screen": {"objectives": ["performance"]}}, "at least one other objective"),
        ({**base(), "screen": {"objectives": ["performance", "risk", "risk"]}}, "named twice"),
        ({**base(), "screen": {"objectives": "cost"}}, "screen.objectives: expected an array of names, got 'cost'"),
        ({**base(), "screen": {"risk": "value"}}, "screen.risk: expected one of 'value_weighted'"),
        ({**base(), "constraints": [{"kind": "max_mass_fraction", "elements": ["Dy"], "value": 1.5}]},
         "constraints[0].value: expected a number <= 1, got 1.5"),
        ({**base(), "constraints": [{"kind": "max_mass_fraction", "elements": ["Dyy"], "value": 0.5}]},
         "constraints[0].elements: unknown element 'Dyy'"),
    ],
)
def test_errors_name_key_value_and_expectation(data, fragment):
    with pytest.raises(ConfigError) as info:
        parse_config(data, "cfg.toml")
    assert fragment in str(info.value), str(info.value)


def test_objectives_and_risk_defaults_and_choices():
    config = parse_config(base(), "cfg.toml")
    assert config.screen.objectives == ("performance", "hree", "risk")
    assert config.screen.risk == "value_weighted"
    config = parse_config({**base(), "screen": {"objectives": ["performance", "hree", "risk", "cost"],
                                                "risk": "weakest_link"}}, "cfg.toml")
    assert config.screen.objectives == ("performance", "hree", "risk", "cost")
    assert config.screen.risk == "weakest_link"


def test_user_family_file_is_relative_to_the_config(tmp_path):
    (tmp_path / "cfg.toml").write_text('[[families]]\nfile = "missing.family.toml"\n')
    with pytest.raises(ConfigError, match=r"families\[0\]: .*missing.family.toml: no such file"):
        load_config(tmp_path / "cfg.toml")


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("[run\n")
    with pytest.raises(ConfigError, match="bad.toml: cannot parse TOML"):
        load_config(tmp_path / "bad.toml")


def test_constraints_apply_to_every_family():
    config = parse_config({"families": "all", "constraints": [{"kind": "max_hree_mass_fraction", "value": 0.0}]})
    assert all(f.constraints and f.constraints[-1].value == 0.0 for f in config.families)


def test_resource_limits_are_clear_errors(tmp_path):
    """Inputs that used to run forever or die with MemoryError/RecursionError are refused up front (exit 2)."""
    from magnetscreen.datasets.errors import ConfigError, FamilyError
    from magnetscreen.datasets.families import load_family
    from magnetscreen.screening.engine.enumerate import plans

    with pytest.raises(FamilyError, match="/dev/zero: not a regular file"):
        load_family("/dev/zero")
    deep = tmp_path / "deep.toml"
    deep.write_text("families = " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(deep)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    with pytest.raises(ConfigError, match="larger than the 1048576 bytes"):
        load_config(big)
    config = parse_config({"families": [{"name": "2-14-1", "sampling": "sobol", "n_samples": 10**12}]}, "t.toml",
                          tmp_path)
    with pytest.raises(ConfigError, match=r"the plan has 1,000,000,000,000 candidates"):
        plans(config)
    with pytest.raises(ConfigError, match="step 1e-07 is finer than the finest grid supported"):
        parse_config({"families": [{"name": "2-14-1", "step": 1e-7}]}, "t.toml", tmp_path)
