"""The element table: elemental properties for Z = 1..103, built from pymatgen's element data.

The table is built once by :func:`build_element_table` (``python -m magnetscreen.datasets.element_table``)
and shipped as ``data/elements.csv`` with ``data/elements.json`` recording the pymatgen version that
produced it and the definition and unit of every column. :func:`load_element_table` reads the shipped
copy, so results do not depend on the pymatgen installed at run time; a test rebuilds the table and
compares it with the shipped one.

Missing values: where pymatgen has no value (e.g. no Pauling electronegativity for noble gases, no
atomic radius or molar volume for the heaviest actinides) the cell is empty (NaN). Nothing is filled
with zero or guessed. Columns that apply to the lanthanide ions only (``n_4f_R3``, ``de_gennes_R3``)
and the other ``*_R3`` columns are NaN outside La..Lu, where they are not defined. Descriptor code must
propagate NaN (a feature of a
composition that contains an element without the property is NaN, and such candidates fall out of the
models' domain), never replace it.

Derived columns (computed here from pymatgen's ground-state configuration, not copied from any table):

- ``n_{s,p,d,f}_valence``: electrons outside the preceding noble-gas core, by orbital type
  (Fe [Ar]3d6 4s2: s 2, d 6; Ga [Ar]3d10 4s2 4p1: s 2, p 1, d 10), as in the Magpie descriptor set;
- ``n_{s,p,d,f}_unfilled``: empty states in those valence subshells (capacity minus occupancy);
- ``n_unpaired_d``, ``n_unpaired_f``: unpaired electrons of the free atom's valence d and f subshells by
  Hund's first rule (n for n <= 2l+1 electrons, else 2(2l+1) - n);
- ``n_4f_R3``: 4f electrons of the trivalent lanthanide ion, Z - 57 (La3+ 4f0 ... Lu3+ 4f14);
- ``de_gennes_R3``: de Gennes factor (g_J - 1)^2 J(J + 1) of the R3+ ion, with S, L, J from Hund's
  rules and g_J = 3/2 + [S(S+1) - L(L+1)] / [2 J(J+1)] (P. G. de Gennes, J. Phys. Radium 23, 510 (1962));
- ``J_R3``, ``gJ_R3``, ``alphaJ_R3``, ``stevens_R3``: J, g_J, the second-order Stevens factor alpha_J and
  the single-ion quadrupole strength alpha_J J(2J - 1) of the R3+ ground multiplet, derived exactly by
  :mod:`magnetscreen.datasets.rare_earth_ions`.
"""

from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from magnetscreen.datasets.rare_earth_ions import rare_earth_ion

__all__ = ["ELEMENT_COLUMNS", "build_element_table", "load_element_table", "element_table_metadata", "hund_ion"]

#: Column name -> (unit, definition). Every column of the shipped table, in order.
ELEMENT_COLUMNS: dict[str, tuple[str, str]] = {
    "Z": ("1", "atomic number"),
    "symbol": ("", "element symbol"),
    "mendeleev_no": ("1", "Mendeleev number (Pettifor chemical scale, as in pymatgen)"),
    "atomic_mass_u": ("u", "standard atomic mass"),
    "group": ("1", "periodic-table group (1..18; 3 for lanthanides and actinides, as in pymatgen)"),
    "row": ("1", "periodic-table row (period)"),
    "X_pauling": ("1", "Pauling electronegativity"),
    "atomic_radius_A": ("angstrom", "empirical atomic radius"),
    "atomic_radius_calc_A": ("angstrom", "calculated atomic radius"),
    "melting_point_K": ("K", "melting point"),
    "molar_volume_cm3mol": ("cm^3/mol", "molar volume of the solid"),
    "first_ionization_eV": ("eV", "first ionization energy"),
    "n_s_valence": ("1", "s electrons outside the noble-gas core"),
    "n_p_valence": ("1", "p electrons outside the noble-gas core"),
    "n_d_valence": ("1", "d electrons outside the noble-gas core"),
    "n_f_valence": ("1", "f electrons outside the noble-gas core"),
    "n_valence": ("1", "all electrons outside the noble-gas core"),
    "n_s_unfilled": ("1", "empty s states in the valence subshells"),
    "n_p_unfilled": ("1", "empty p states in the valence subshells"),
    "n_d_unfilled": ("1", "empty d states in the valence subshells"),
    "n_f_unfilled": ("1", "empty f states in the valence subshells"),
    "n_unfilled": ("1", "all empty states in the valence subshells"),
    "n_unpaired_d": ("1", "unpaired d electrons of the free atom (Hund's first rule)"),
    "n_unpaired_f": ("1", "unpaired f electrons of the free atom (Hund's first rule)"),
    "n_4f_R3": ("1", "4f electrons of the trivalent lanthanide ion (La..Lu only)"),
    "de_gennes_R3": ("1", "de Gennes factor (g_J - 1)^2 J(J+1) of the trivalent lanthanide ion (La..Lu only)"),
    "J_R3": ("1", "total angular momentum J of the R3+ ground multiplet (Hund's rules; La..Lu only)"),
    "gJ_R3": ("1", "Lande factor g_J of the R3+ ground multiplet (La..Lu only; empty where J = 0)"),
    "alphaJ_R3": ("1", "second-order Stevens factor alpha_J of the R3+ ground multiplet (derived exactly; "
                       "La..Lu only)"),
    "stevens_R3": ("1", "single-ion quadrupole strength alpha_J J(2J - 1) of the R3+ ion (La..Lu only)"),
}

_CAPACITY = {"s": 2, "p": 6, "d": 10, "f": 14}
_L = {"s": 0, "p": 1, "d": 2, "f": 3}
_SUBSHELL = re.compile(r"^(\d+)([spdf])(\d+)$")


def _valence_subshells(structure: str) -> list[tuple[int, str, int]]:
    """(n, l, electrons) of the subshells written after the noble-gas core in pymatgen's notation."""
    parts = structure.split(".")
    if parts and parts[0].startswith("["):
        parts = parts[1:]
    out = []
    for part in parts:
        m = _SUBSHELL.match(part)
        if m is None:
            raise ValueError(f"cannot read subshell {part!r} of electronic structure {structure!r}")
        out.append((int(m.group(1)), m.group(2), int(m.group(3))))
    return out


def hund_ion(n_electrons: int, ell: int = 3) -> tuple[float, float, float, float]:
    """S, L, J and g_J of ``n_electrons`` in a subshell of orbital momentum ``ell`` by Hund's rules.

    >>> hund_ion(9)  # Dy3+ 4f9: 6H15/2
    (2.5, 5.0, 7.5, 1.3333333333333333)
    """
    slots = 2 * ell + 1
    if not 0 <= n_electrons <= 2 * slots:
        raise ValueError(f"{n_electrons} electrons do not fit a subshell with l={ell}")
    up = min(n_electrons, slots)
    down = n_electrons - up
    spin = (up - down) / 2
    ml = list(range(ell, -ell - 1, -1))
    orbital = abs(sum(ml[:up]) + sum(ml[:down]))
    total = abs(orbital - spin) if n_electrons < slots else orbital + spin
    if total == 0:
        return spin, float(orbital), 0.0, float("nan")
    g = 1.5 + (spin * (spin + 1) - orbital * (orbital + 1)) / (2 * total * (total + 1))
    return spin, float(orbital), total, g


def build_element_table() -> pd.DataFrame:
    """Build the element table for Z = 1..103 from the installed pymatgen (see the module docstring)."""
    from pymatgen.core.periodic_table import Element

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns for each missing property
        for z in range(1, 104):
            el = Element.from_Z(z)
            row: dict[str, Any] = {"Z": z, "symbol": el.symbol}
            row["mendeleev_no"] = _float(el.mendeleev_no)
            row["atomic_mass_u"] = _float(el.atomic_mass)
            row["group"] = float(el.group)
            row["row"] = float(el.row)
            x = _float(el.X)
            row["X_pauling"] = x if x > 0 else np.nan
            row["atomic_radius_A"] = _float(el.atomic_radius)
            row["atomic_radius_calc_A"] = _float(el.atomic_radius_calculated)
            row["melting_point_K"] = _float(el.melting_point)
            row["molar_volume_cm3mol"] = _float(el.molar_volume)
            energies = el.ionization_energies
            row["first_ionization_eV"] = _float(energies[0]) if energies else np.nan
            valence = _valence_subshells(el.electronic_structure)
            for kind in "spdf":
                shells = [(n, e) for n, k, e in valence if k == kind]
                row[f"n_{kind}_valence"] = float(sum(e for _, e in shells))
                row[f"n_{kind}_unfilled"] = float(sum(_CAPACITY[kind] - e for _, e in shells))
            row["n_valence"] = sum(float(row[f"n_{k}_valence"]) for k in "spdf")
            row["n_unfilled"] = sum(float(row[f"n_{k}_unfilled"]) for k in "spdf")
            for kind in "df":
                slots = 2 * _L[kind] + 1
                unpaired = 0
                for _, k, e in valence:
                    if k == kind:
                        unpaired += e if e <= slots else 2 * slots - e
                row[f"n_unpaired_{kind}"] = float(unpaired)
            if 57 <= z <= 71:
                n4f = z - 57
                spin, orbital, total, g = hund_ion(n4f, 3)
                ion = rare_earth_ion(el.symbol)
                row["n_4f_R3"] = float(n4f)
                row["de_gennes_R3"] = 0.0 if total == 0 else (g - 1) ** 2 * total * (total + 1)
                row["J_R3"] = float(ion.J)
                row["gJ_R3"] = np.nan if ion.g_J is None else float(ion.g_J)
                row["alphaJ_R3"] = float(ion.alpha_J)
                row["stevens_R3"] = float(ion.stevens_strength)
            else:
                for name in ("n_4f_R3", "de_gennes_R3", "J_R3", "gJ_R3", "alphaJ_R3", "stevens_R3"):
                    row[name] = np.nan
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(ELEMENT_COLUMNS))
    table["Z"] = table["Z"].astype(np.int64)
    return table


def _float(value) -> float:
    if value is None:
        return np.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        return np.nan
    return out if np.isfinite(out) else np.nan


def _data_dir():
    return resources.files("magnetscreen.datasets") / "data"


@lru_cache(maxsize=1)
def load_element_table() -> pd.DataFrame:
    """The shipped element table, indexed 0..102 by Z - 1 (columns in :data:`ELEMENT_COLUMNS`).

    The returned frame is shared: copy it before modifying.
    """
    with resources.as_file(_data_dir() / "elements.csv") as path:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    if list(table.columns) != list(ELEMENT_COLUMNS):
        raise RuntimeError(f"shipped elements.csv has columns {list(table.columns)}, expected {list(ELEMENT_COLUMNS)}")
    return table


@lru_cache(maxsize=1)
def element_table_metadata() -> dict:
    """Provenance of the shipped table: pymatgen version, columns with units and definitions."""
    with resources.as_file(_data_dir() / "elements.json") as path:
        return json.loads(Path(path).read_text())


def write_element_table(directory: Path) -> None:
    """Rebuild the table with the installed pymatgen and write ``elements.csv`` and ``elements.json``."""
    from importlib.metadata import version

    table = build_element_table()
    directory.mkdir(parents=True, exist_ok=True)
    table.to_csv(directory / "elements.csv", index=False, float_format="%.10g", na_rep="")
    meta = {
        "source": "pymatgen element data (pymatgen.core.periodic_table.Element)",
        "pymatgen_version": version("pymatgen"),
        "missing_values": "empty cell = pymatgen has no value, or the column does not apply (see docstring)",
        "columns": {name: {"unit": unit, "definition": text} for name, (unit, text) in ELEMENT_COLUMNS.items()},
    }
    (directory / "elements.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "data"
    write_element_table(target)
    print(f"wrote {target / 'elements.csv'} and {target / 'elements.json'}")
