"""Family schema: built-in families parse and match their cited prototypes; bad files are named errors."""

from __future__ import annotations

import copy

import pytest
from conftest import family_dict
from pymatgen.core import Composition

from magnetscreen.datasets import FamilyError, builtin_families, builtin_family, load_family, parse_family
from magnetscreen.descriptors import canonical_formula

#: Formula units of the cited prototypes, with the site multiplicities of the structure papers:
#: Nd2Fe14B (Z = 4: R 4f+4g = 8, Fe 56, B 4), Sm2Fe17N3 (Z = 3: Sm 6c = 6, Fe 51, N 9e = 9), ...
CITED_FORMULA_UNITS = {
    "2-14-1": {"Nd": 2, "Fe": 14, "B": 1},
    "1-12": {"Sm": 1, "Fe": 11, "Ti": 1},
    "2-17-interstitial": {"Sm": 2, "Fe": 17, "N": 3},
    "SmCo5": {"Sm": 1, "Co": 5},
    "Sm2Co17": {"Sm": 2, "Co": 17},
    "Fe16N2": {"Fe": 16, "N": 2},
    "MnBi": {"Mn": 1, "Bi": 1},
    "MnAl": {"Mn": 1, "Al": 1},
    "L10-FeNi": {"Fe": 1, "Ni": 1},
    "M-hexaferrite": {"Sr": 1, "Fe": 12, "O": 19},
}


def test_every_builtin_family_is_present():
    assert {f.name for f in builtin_families()} == set(CITED_FORMULA_UNITS)


@pytest.mark.parametrize("family", builtin_families(), ids=lambda f: f.name)
def test_builtin_site_multiplicities_match_the_cited_formula_unit(family):
    cited = CITED_FORMULA_UNITS[family.name]
    assert family.prototype_amounts() == pytest.approx(cited)
    assert Composition(family.prototype) == Composition(cited)
    assert family.citation and family.reference


@pytest.mark.parametrize("family", builtin_families(), ids=lambda f: f.name)
def test_builtin_prototype_is_a_candidate(family):
    from magnetscreen.descriptors.enumeration import plan_enumeration

    plan = plan_enumeration(family, chunk_size=1 << 20)
    names = set()
    for chunk in plan.chunks():
        names.update(chunk.batch.names().tolist())
    assert canonical_formula(family.prototype) in names


def test_user_family_file_round_trip(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\ndescription = "d"\nprototype = "FeCo"\nstructure = "B2"\ncitation = "c"\nreference = "r"\n'
        'step = 0.5\n[[sites]]\nname = "A"\nmultiplicity = 1\nelements = ["Fe", "Mn"]\n'
        '[[sites]]\nname = "B"\nmultiplicity = 1\nelements = ["Co"]\n'
    )
    family = load_family(path)
    assert family.name == "mine" and family.elements == ("Fe", "Mn", "Co")


def _mutate(path, value):
    data = family_dict()
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    "path, value, fragment",
    [
        (("stepp",), 0.1, "unknown key 'stepp'"),
        (("step",), 0.3, "step 0.3 does not divide 1"),
        (("step",), -0.1, "expected a number > 0"),
        (("sampling",), "random", "expected one of 'grid', 'sobol'"),
        (("name",), KeyError, "name: missing required key"),
        (("sites", 0, "elements"), ["Nd", "Qq"], "sites[0].elements: unknown element 'Qq'"),
        (("sites", 0, "elements"), ["Nd", "Nd"], "repeated element"),
        (("sites", 0, "multiplicity"), -2, "sites[0].multiplicity: expected a number > 0"),
        (("sites", 0, "multiplicity"), "12 - y", "unknown variable 'y'"),
        (("sites", 0, "multiplicity"), "12 -", "cannot read '12 -' as a linear expression"),
        (("sites", 0, "bounds"), {"Dy": [0.5, 0.2]}, "sites[0].bounds.Dy: expected [low, high]"),
        (("sites", 0, "bounds"), {"Co": [0.0, 0.2]}, "element not allowed on site 'R'"),
        (("sites", 0, "bounds"), {"Nd": [0.6, 1], "Pr": [0.6, 1]}, "bounds admit no occupancy"),
        (("sites", 0, "colour"), "red", "sites[0].colour: unknown key 'colour'"),
        (("sites",), [], "expected at least one [[sites]] table"),
        (("constraints",), [{"kind": "max_mass_fraction", "elements": ["Dy"], "value": 2}], "expected a number <= 1"),
        (("constraints",), [{"kind": "less_than", "elements": ["Dy"], "value": 0.1}], "expected one of"),
    ],
)
def test_schema_errors_name_key_and_value(path, value, fragment):
    data = _mutate(path, value)
    with pytest.raises(FamilyError) as info:
        parse_family(data, "fam.toml")
    message = str(info.value)
    assert message.startswith("fam.toml:")
    assert fragment in message, message


def test_bounds_that_miss_every_grid_point():
    data = family_dict()
    data["sites"][0]["bounds"] = {"Nd": [0.1, 0.2], "Pr": [0.8, 0.85]}  # Dy makes up the rest, off-grid
    data["sites"][0]["elements"] = ["Nd", "Pr"]
    data["sites"][0]["bounds"] = {"Nd": [0.1, 0.2], "Pr": [0.8, 0.85]}
    with pytest.raises(FamilyError, match="no grid point at step 0.25"):
        parse_family(data, "fam.toml")


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(FamilyError, match="no such file"):
        load_family(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(FamilyError, match="cannot parse TOML"):
        load_family(bad)


def test_unknown_builtin_lists_the_valid_names():
    with pytest.raises(FamilyError, match=r"unknown built-in family '2-14-2' \(built-in: 1-12, 2-14-1"):
        builtin_family("2-14-2")


def test_overrides_are_validated():
    family = builtin_family("2-14-1")
    with pytest.raises(FamilyError, match="bounds.R.Fe: element not allowed on site 'R'"):
        family.with_overrides(bounds={"R": {"Fe": (0.0, 0.1)}})
    with pytest.raises(FamilyError, match="unknown site 'X'"):
        family.with_overrides(bounds={"X": {"Fe": (0.0, 0.1)}})
    changed = family.with_overrides(step=0.5)
    assert changed.step == 0.5 and family.step == 0.1
    assert copy.deepcopy(family) == family
