"""Structure prototypes from stoichiometry: hand-classified examples and the windows' boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from magnetscreen.datasets import builtin_families
from magnetscreen.descriptors import encode
from magnetscreen.descriptors.enumeration import plan_enumeration
from magnetscreen.descriptors.prototype_kernels import GROUP_NAMES, PROTOTYPE_ORDER
from magnetscreen.descriptors.prototypes import FAMILY_PROTOTYPE, PROTOTYPES, prototype_of


@pytest.mark.parametrize("formula, expected", [
    ("Nd2Fe14B", "2-14-1"), ("(Nd0.8Dy0.2)2Fe12Co2B", "2-14-1"), ("Nd2Fe14C", "2-14-1"), ("Pr2Fe14B", "2-14-1"),
    ("SmCo5", "1-5"), ("SmCo4Cu", "1-5"), ("YCo5", "1-5"),
    ("Sm2Co17", "2-17"), ("Sm2Fe17", "2-17"), ("Sm2Fe17N3", "2-17"), ("Sm2Fe17C1.5", "2-17"),
    ("SmFe11Ti", "1-12"), ("SmFe10V2", "1-12"), ("NdFe11TiN", "1-12"), ("Sm0.8Zr0.2Fe11Ti", "1-12"),
    ("ZrFe10Si2", "1-12"), ("LaFe11.5Si1.5", "1-13"),
    ("SrFe12O19", "hexaferrite"), ("Sr0.9La0.1Fe11.9Co0.1O19", "hexaferrite"),
    ("MnBi", "MnBi"), ("MnBi0.9Sb0.1", "MnBi"), ("Mn54Al46", "MnAl"), ("Mn54Al46C2", "MnAl"),
    ("FeNi", "L10"), ("FePt", "L10"), ("Fe16N2", "Fe16N2"), ("Fe", "element"), ("Co2MnSi", "other"),
    ("Fe3O4", "other"), ("Nd2Fe17B", "other"),
])
def test_hand_classified(formula, expected):
    assert prototype_of([formula])[0] == expected


def test_every_built_in_family_enumerates_its_own_prototype():
    """Every candidate of every built-in family (sampled) is classified as its family's prototype, except the
    corners the families allow beyond the prototype's stoichiometry window (none today)."""
    assert set(FAMILY_PROTOTYPE.values()) <= set(PROTOTYPES)
    for family in builtin_families():
        names = plan_enumeration(family, chunk_size=400).chunk(0).batch.names().tolist()
        labels = prototype_of(names)
        wrong = [n for n, p in zip(names, labels) if p != FAMILY_PROTOTYPE[family.name]]
        assert not wrong, (family.name, wrong[:5])


def _codes_whole_array(batch):
    """Reference: the prototype rules as whole-array numpy (masked column sums in element-column order, then
    every rule over all rows, first match wins)."""
    from magnetscreen.descriptors.prototypes import _group_matrix

    matrix = _group_matrix()
    sums = np.zeros((len(batch), matrix.shape[1]))
    for j in range(batch.elements.shape[1]):
        sums += matrix[batch.elements[:, j]] * batch.fractions[:, j, None]
    g = {name: sums[:, c] for c, name in enumerate(GROUP_NAMES)}
    r, oxygen, boron, inter = g["R"], g["O"], g["B"], g["NCH"]
    metals = 1.0 - g["X"] - oxygen
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(metals > 0, r / metals, 0.0)
        share_zr = np.where(metals > 0, (r + g["Zr"]) / metals, 0.0)
    plain = (boron == 0) & (oxygen == 0)
    mn, bi_sb, al, a, b = g["Mn"], g["BiSb"], g["Al"], g["A_L10"], g["B_L10"]
    rules = [
        (batch.elements > 0).sum(axis=1) == 1,
        (np.abs(oxygen - 19 / 32) <= 0.02) & (np.abs(g["hexa_B"] - 12 / 32) <= 0.03),
        (np.abs(boron + g["C"] - 1 / 17) <= 0.012) & (np.abs(r - 2 / 17) <= 0.012),
        plain & (np.abs(share - 1 / 6) <= 0.015),
        plain & (np.abs(share - 2 / 19) <= 0.012) & (inter <= 3 / 22 + 1e-9),
        plain & (np.abs(share - 1 / 14) <= 0.0035),
        plain & (share_zr >= 0.0749) & (share_zr <= 1 / 13 + 0.01) & (inter <= 1 / 14 + 1e-9),
        (np.abs(g["Fe16"] - 8 / 9) <= 0.02) & (np.abs(g["NC"] - 1 / 9) <= 0.02) & (r == 0),
        (mn + bi_sb >= 0.95) & (np.abs(mn - 0.5) <= 0.1) & (bi_sb > 0),
        (mn + al + g["C"] >= 0.95) & (mn >= 0.40) & (mn <= 0.65) & (al > 0),
        (np.abs(a - 0.5) <= 0.1) & (np.abs(b - 0.5) <= 0.1) & (a + b >= 0.95),
    ]
    out = np.full(len(batch), len(rules), dtype=np.int64)
    for code in range(len(rules) - 1, -1, -1):
        out[rules[code]] = code
    return out


def test_kernel_reads_the_groups_and_codes_in_the_module_order():
    from magnetscreen.descriptors.prototypes import _GROUPS

    assert tuple(_GROUPS) == GROUP_NAMES
    assert PROTOTYPES == PROTOTYPE_ORDER


def test_prototype_codes_equal_whole_array_rules():
    """Every built-in family's candidates, random compositions over the elements the rules read, and rows on
    the windows' edges: the one-pass kernel gives the codes of the whole-array rules."""
    from magnetscreen.descriptors.prototypes import prototype_codes

    names = []
    for family in builtin_families():
        names += plan_enumeration(family, chunk_size=300).chunk(0).batch.names().tolist()
    rng = np.random.default_rng(7)
    pool = ["Nd", "Sm", "Zr", "Fe", "Co", "Ti", "B", "C", "N", "H", "O", "Sr", "Mn", "Bi", "Sb", "Al", "Ni", "Pt",
            "Cu", "Si"]
    for _ in range(3000):
        k = int(rng.integers(1, 5))
        els = rng.choice(pool, size=k, replace=False)
        amounts = rng.choice([0.5, 1, 2, 3, 5, 8, 11, 12, 14, 17, 19], size=k)
        names.append("".join(f"{e}{a:g}" for e, a in zip(els, amounts)))
    # edges of the windows: R 2/17 +- 0.012, share 1/6 +- 0.015, Mn 0.40 and 0.65
    names += ["Nd2Fe14B", "Nd2.204Fe13.796B", "Sm1.18Co5.82", "Mn40Al60", "Mn65Al35", "Fe8N1", "Fe", "Nd"]
    batch = encode(names)
    got = prototype_codes(batch)
    want = _codes_whole_array(batch)
    np.testing.assert_array_equal(got, want)
    assert len(set(got.tolist())) == len(PROTOTYPES)  # every rule and the fall-through are exercised
