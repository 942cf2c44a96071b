"""Phase stability flag: the kernel against a naive reference written from the table's rules, the compositions a
magnet scientist rejects, chunk invariance, bad rows and the screening requirement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition

from magnetscreen.datasets import builtin_family
from magnetscreen.datasets.errors import ConfigError, DataError
from magnetscreen.datasets.families import builtin_family_names, parse_family
from magnetscreen.datasets.tables import load_stability_ranges
from magnetscreen.descriptors.encoding import encode
from magnetscreen.descriptors.enumeration import plan_enumeration
from magnetscreen.descriptors.stability import compile_ranges, phase_stability

T_OP = 423.15
#: Hand-chosen normalization of "atoms per formula unit" for each built-in family: the elements counted and how
#: many atoms they are per formula unit (the reference does not use the implementation's choice of anchor).
FORMULA_UNIT = {
    "1-12": (("Sm", "Nd", "Zr", "Y"), 1.0),
    "2-14-1": (("Nd", "Pr", "Ce", "La", "Y", "Dy", "Tb"), 2.0),
    "2-17-interstitial": (("Sm", "Nd", "Y"), 2.0),
    "SmCo5": (("Sm",), 1.0),
    "Sm2Co17": (("Sm",), 2.0),
    "MnAl": (("Mn", "Al"), 2.0),
    "M-hexaferrite": (("Sr", "Ba", "La", "Ca"), 1.0),
    "MnBi": (("Mn", "Bi", "Sb"), 2.0),
    "L10-FeNi": (("Fe", "Co", "Mn", "Ni"), 2.0),
    "Fe16N2": (("Fe", "Co", "Mn", "Ti"), 16.0),
}
BASE = {"1-12": {"Sm", "Fe", "Ti"}, "2-14-1": {"Nd", "Fe", "B"}, "2-17-interstitial": {"Sm", "Fe", "N"},
        "SmCo5": {"Sm", "Co"}, "Sm2Co17": {"Sm", "Co"}, "MnAl": {"Mn", "Al"}, "M-hexaferrite": {"Sr", "Fe", "O"},
        "MnBi": {"Mn", "Bi"}, "L10-FeNi": {"Fe", "Ni"}, "Fe16N2": {"Fe", "N"}}


def naive_flag(formula: str, family_name: str, temperature: float = T_OP, synthesis: str = "bulk"):
    """The rule of docs/stability-ranges.md, one composition at a time, straight from the table's rows."""
    family = builtin_family(family_name)
    table = load_stability_ranges()
    rows = [r for _, r in table[table["family"] == family_name].iterrows()
            if r["route"] in ("", "any", "bulk", synthesis)]
    amounts = Composition(formula).fractional_composition.get_el_amt_dict()
    unit_elements, unit_atoms = FORMULA_UNIT[family_name]
    per_fu = unit_atoms / sum(amounts.get(e, 0.0) for e in unit_elements)
    site_of = {e: s for s in family.sites for e in s.elements}

    def value(row):
        group = row["elements"].split("+")
        total = sum(amounts.get(e, 0.0) for e in group)
        if row["quantity"] == "max_temperature_K":
            return temperature
        if row["quantity"] == "atomic_percent":
            return 100 * total
        if row["quantity"] == "atoms_per_formula_unit":
            return total * per_fu
        site = next(s for s in family.sites if s.name == row["site"])
        return total / sum(amounts.get(e, 0.0) for e in site.elements)

    def inside(row, v):
        lo, hi = row["min"], row["max"]
        return not ((not math.isnan(lo) and v < lo - 1e-6) or (not math.isnan(hi) and v > hi + 1e-6))

    results = []  # (severity, limit) per checked element; severity 0 reported, 1 unknown, 2 beyond
    checks = [e for e in dict.fromkeys(e for s in family.sites for e in s.elements) if amounts.get(e, 0) > 0]
    for element in checks + (["T_op"] if any(r["elements"] == "*" for r in rows) else []):
        if element == "T_op":
            keyed = [r for r in rows if r["elements"] == "*"]
        else:
            keyed = [r for r in rows if element in r["elements"].split("+")
                     and sum(amounts.get(e, 0) > 0 for e in r["elements"].split("+"))
                     >= min(2, len(r["elements"].split("+")))]
        reported = [r for r in keyed if r["status"] == "reported"]
        if reported:
            size = max(len(r["elements"].split("+")) if r["elements"] != "*" else 0 for r in reported)
            top = [r for r in reported if (len(r["elements"].split("+")) if r["elements"] != "*" else 0) == size]
            groups = {(r["site"], r["elements"]) for r in top}
            held = {g: any(inside(r, value(r)) for r in top if (r["site"], r["elements"]) == g) for g in groups}
            failed = [g for g in groups if not held[g]]
            if failed:
                results.append((2, "T_op" if element == "T_op" else failed[0][1]))
            else:
                results.append((0, ""))
        elif keyed:
            results.append((1, keyed[0]["elements"]))
        elif element in BASE[family_name] or element not in site_of:
            results.append((0, ""))
        else:
            results.append((1, element))
    worst = max((r[0] for r in results), default=0)
    labels = ("reported", "unknown", "beyond_reported_range")
    return labels[worst], next((r[1] for r in results if r[0] == worst), "") if worst else ""


def _sample(family_name: str, n: int = 150, seed: int = 0) -> list[str]:
    plan = plan_enumeration(builtin_family(family_name), chunk_size=4096, seed=0)
    rng = np.random.default_rng(seed)
    names: list[str] = []
    for chunk in plan.chunks():
        names.extend(chunk.batch.names())
        if len(names) >= 20000:
            break
    pick = rng.choice(len(names), size=min(n, len(names)), replace=False)
    return [names[i] for i in sorted(pick)]


@pytest.mark.parametrize("family_name", builtin_family_names())
def test_kernel_equals_the_naive_reference_on_enumerated_candidates(family_name):
    formulas = _sample(family_name)
    got = phase_stability(encode(formulas), builtin_family(family_name), T_OP)
    for i, formula in enumerate(formulas):
        status, limit = naive_flag(formula, family_name)
        assert got["phase_stability"][i] == status, (formula, got["stability_limit"][i], limit)
        if status == "beyond_reported_range":
            assert got["stability_limit"][i] == limit, formula


def test_the_compositions_a_magnet_scientist_rejects():
    """SmCo5 with Fe on 85 % of the Co site, and the 1-12 compound held by half a silicon, lie beyond every
    reported range, limited by Fe and Si; the Co-free Sm2Fe15.3Cu1.7 is 'unknown' (limited by Cu): the table
    holds no bulk Cu solubility for the Th2Zn17 phase, only a melt-spun range (docs/stability-ranges.md)."""
    cases = [("SmFe4.25Co0.75", "SmCo5", "beyond_reported_range", "Fe"),
             ("SmCo11.5Si0.5", "1-12", "beyond_reported_range", "Si"),
             ("Sm2Fe15.3Cu1.7", "Sm2Co17", "unknown", "Cu")]
    for formula, family, status, limit in cases:
        out = phase_stability(encode([formula]), builtin_family(family), T_OP)
        assert (out["phase_stability"][0], out["stability_limit"][0]) == (status, limit), formula
        assert out["stability_source"][0], formula
    fe = phase_stability(encode(["SmFe4.25Co0.75"]), builtin_family("SmCo5"), T_OP)
    assert "035343" in fe["stability_source"][0]  # AIP Advances 12, 035343: Fe <= 0.3 of the Co site (with Ni)
    # melt-spun: the Co-free carbide ribbons hold Cu up to 0.059 of the T site, so Cu 0.1 is beyond
    ribbons = phase_stability(encode(["Sm2Fe15.3Cu1.7"]), builtin_family("Sm2Co17"), T_OP, synthesis="melt-spun")
    assert (ribbons["phase_stability"][0], ribbons["stability_limit"][0]) == ("beyond_reported_range", "Cu")


def test_compositions_inside_every_range_are_reported():
    inside = [("Sm2Fe13.6Co3.4N3", "2-17-interstitial"), ("SmCo4Cu1", "SmCo5"), ("SmFe11Mo1", "1-12"),
              ("Nd1.8Dy0.2Fe14B", "2-14-1"), ("Nd1.2Pr0.8Fe12Co2B", "2-14-1"), ("Sr0.8La0.2Fe11.8Co0.2O19", "M-hexaferrite"),
              ("Mn1.1Al0.9", "MnAl"), ("SmFe10.5Ti1Si0.5", "1-12")]
    for formula, family in inside:
        out = phase_stability(encode([formula]), builtin_family(family), T_OP)
        assert out["phase_stability"][0] == "reported", (formula, out["stability_limit"][0])
        assert out["stability_limit"][0] == "" and out["stability_source"][0] == ""


def test_mixture_ranges_and_temperatures():
    """(La,Ce) beyond the strip-cast mixture's 0.5 of R is beyond (the mixture's range is more specific than
    each element's); the equiatomic MnAl is beyond the tau phase's 54-60 at.% Mn; MnBi above its 628 K LTP
    limit is beyond, limited by T_op."""
    la_ce = phase_stability(encode(["Nd0.6La0.7Ce0.7Fe14B"]), builtin_family("2-14-1"), T_OP)
    assert (la_ce["phase_stability"][0], la_ce["stability_limit"][0]) == ("beyond_reported_range", "La+Ce")
    mnal = phase_stability(encode(["MnAl"]), builtin_family("MnAl"), T_OP)
    assert (mnal["phase_stability"][0], mnal["stability_limit"][0]) == ("beyond_reported_range", "Mn")
    hot = phase_stability(encode(["MnBi"]), builtin_family("MnBi"), 700.0)
    assert (hot["phase_stability"][0], hot["stability_limit"][0]) == ("beyond_reported_range", "T_op")
    assert phase_stability(encode(["MnBi"]), builtin_family("MnBi"), 600.0)["phase_stability"][0] == "reported"


def test_flag_is_the_same_for_any_chunking_and_order():
    formulas = _sample("1-12", 400, seed=3) + _sample("SmCo5", 200, seed=4)
    whole = {f: phase_stability(encode(formulas[s]), builtin_family(f), T_OP)["phase_stability"]
             for f, s in (("1-12", slice(0, 400)), ("SmCo5", slice(400, 600)))}
    rng = np.random.default_rng(1)
    for size in (1, 7, 64):
        for fam, offset in (("1-12", 0), ("SmCo5", 400)):
            idx = np.arange(offset, offset + (400 if fam == "1-12" else 200))
            perm = rng.permutation(idx)
            got = np.empty(len(idx), dtype=object)
            for start in range(0, len(perm), size):
                part = perm[start:start + size]
                out = phase_stability(encode([formulas[i] for i in part]), builtin_family(fam), T_OP)
                got[part - offset] = out["phase_stability"]
            assert list(got) == list(whole[fam]), (fam, size)


def test_every_shipped_row_compiles_for_its_family():
    table = load_stability_ranges()
    for name in sorted(set(table["family"])):
        for synthesis in ("bulk", "melt-spun", "thin-film", "mechanical-alloying"):
            rules = compile_ranges(builtin_family(name), synthesis)
            expected = table[(table["family"] == name) & table["route"].isin(["", "any", "bulk", synthesis])]
            assert rules.n_rows == len(expected), (name, synthesis)


def test_bad_rows_and_routes_are_refused():
    table = load_stability_ranges()
    bad = table.iloc[:1].copy()
    bad["site"] = "Q"  # 1-12 has no site Q
    with pytest.raises(DataError, match="no element 'Mo' on a site 'Q'"):
        compile_ranges(builtin_family("1-12"), table=bad)
    with pytest.raises(DataError, match="unknown synthesis route 'sputtered'"):
        compile_ranges(builtin_family("1-12"), "sputtered")
    shared = pd.DataFrame([{**table.iloc[0].to_dict(), "family": "MnAl", "site": "Al", "elements": "Mn",
                            "quantity": "site_fraction"}])
    with pytest.raises(DataError, match="site fraction needs a site whose elements are on no other site"):
        compile_ranges(builtin_family("MnAl"), table=shared)


def test_a_user_family_without_ranges_is_unknown_and_says_so():
    family = parse_family({"name": "my-fe-co", "description": "B2 FeCo", "prototype": "FeCo", "structure": "B2", "citation": "none",
                           "reference": "none",
                           "sites": [{"name": "A", "multiplicity": 1, "elements": ["Fe", "Co"]},
                                     {"name": "B", "multiplicity": 1, "elements": ["Co"]}]}, "user.toml")
    out = phase_stability(encode(["FeCo", "Fe0.5Co1.5"]), family, T_OP)
    assert list(out["phase_stability"]) == ["unknown", "unknown"]
    assert all("no stability ranges" in s for s in out["stability_source"])


def test_requirement_keeps_beyond_candidates_off_the_shortlist_and_labels_them_in_explore(tmp_path):
    from magnetscreen.screening import parse_config, screen

    data = {"families": [{"name": "2-14-1", "step": 0.1,
                          "bounds": {"R": {"Pr": [0, 0], "Ce": [0, 0], "La": [0, 0], "Y": [0, 0], "Tb": [0, 0]},
                                     "T": {"Co": [0, 0.3]}}}, {"name": "SmCo5"}],
            "requirements": {"Tc_K": {"min": 0}}, "screen": {"shortlist_size": 30, "keep": 60, "explore_size": 30},
            "supply": {"as_of": "2026-01-15"}}
    result = screen(parse_config(data, "t.toml", tmp_path), out=tmp_path / "run", report=False)
    assert len(result.shortlist) > 0
    assert set(result.shortlist["phase_stability"]) == {"reported"}
    removed = result.manifest.counts.removed_by["phase_stability reported"]
    assert removed > 0
    assert (result.explore["phase_stability"] != "reported").any()  # exploration may go beyond, labelled
    beyond = result.explore[result.explore["phase_stability"] == "beyond_reported_range"]
    assert (beyond["stability_limit"] != "").all() and (beyond["stability_source"] != "").all()
    anything = {**data, "requirements": {"Tc_K": {"min": 0}, "phase_stability": "any"}}
    loose = screen(parse_config(anything, "t.toml", tmp_path), out=tmp_path / "loose", report=False)
    assert "phase_stability reported" not in loose.manifest.counts.removed_by
    with pytest.raises(ConfigError, match="phase_stability"):
        parse_config({**data, "requirements": {"phase_stability": "maybe"}}, "t.toml", tmp_path)


def test_default_run_requires_reported_phases():
    from magnetscreen.screening import default_config

    assert default_config().screen.phase_stability == "reported"
    assert default_config().screen.synthesis == "bulk"
