"""Phase stability: is a candidate inside the composition ranges where its family's phase was reported to form?

Every candidate of a family is flagged against the family's rows of the stability-range table
(:func:`magnetscreen.datasets.tables.load_stability_ranges`, docs/stability-ranges.md):

``reported``
    every substituent it holds lies inside a reported range (and the operating temperature below every
    reported stability temperature);
``beyond_reported_range``
    some substituent lies outside every reported range of its key (or the operating temperature above a
    reported stability temperature): outside what the cited papers made, which is not always "shown not to
    form";
``unknown``
    otherwise: a substituent has only an explicit 'unknown' row, or no row at all (a user family without
    ranges is ``unknown`` throughout).

How the rows are read (the rule of docs/stability-ranges.md, made precise):

- A *key* is a site and an element group (``La``, ``La+Ce``, ``Ti+Si``); the rows of one key are
  alternatives (sources and quantities may differ), and a value inside any reported row of the key is inside
  the key. A group key applies to candidates holding at least two of its elements (a mixture's range says
  nothing about one of its elements alone); a one-element key to candidates holding that element.
- A substituent (an element of the candidate) is judged by the most specific applicable keys with reported
  rows (the largest element group: the range of the Ti+Si co-stabilized 1-12 compound decides for a
  candidate holding Ti and Si, the range of Si as the only stabilizer for one holding Si alone; the range of
  the (La,Ce) mixture for one holding both): beyond when one of them does not hold it, reported otherwise.
  Without such keys it is unknown when its applicable keys have only 'unknown' rows; an element without any
  applicable key is unknown, unless it is a base element of the family's prototype (Fe in 2-14-1, Co in
  SmCo5), which needs no range.
- Quantities: ``site_fraction`` (the group's share of its site's atoms; the site's elements must be on no
  other site), ``atoms_per_formula_unit`` (normalized to the first set of sites with constant multiplicities
  whose elements occur nowhere else, e.g. R of 2-14-1 = 2 atoms, Mn + Al of MnAl = 2 atoms),
  ``atomic_percent`` (of the whole composition) and ``max_temperature_K`` (compared with the operating
  temperature).
- Routes: rows of route ``any`` or ``bulk`` and 'unknown' rows apply to every run; rows restricted to
  ``melt-spun``, ``thin-film`` or ``mechanical-alloying`` apply only to a run of that synthesis route.
- Conditions in a row's note (an R element, a co-substituent) are not enforced: the flag is per element.

The flag is computed by a numba kernel over the batch arrays (:mod:`.stability_kernels`), so it is the same
for any chunking and row order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from magnetscreen.datasets.composition import parse_composition
from magnetscreen.datasets.elements import N_Z, symbol_to_z
from magnetscreen.datasets.errors import DataError
from magnetscreen.datasets.families import Family
from magnetscreen.datasets.tables import SYNTHESIS_ROUTES, load_stability_ranges
from magnetscreen.descriptors import stability_kernels as _k
from magnetscreen.descriptors.encoding import CompositionBatch

__all__ = ["STATUS_LABELS", "SYNTHESIS_ROUTES", "StabilityRules", "compile_ranges", "phase_stability",
           "stability_codes", "unknown_stability", "REPORTED", "UNKNOWN", "BEYOND",
           "family_range_summary"]

#: Status codes of the flag (``stability_code``) and their labels.
REPORTED, UNKNOWN, BEYOND = _k.REPORTED, _k.UNKNOWN, _k.BEYOND
STATUS_LABELS = ("reported", "unknown", "beyond_reported_range")
_KINDS = {"site_fraction": _k.SITE_FRACTION, "atoms_per_formula_unit": _k.PER_FORMULA_UNIT,
          "atomic_percent": _k.ATOMIC_PERCENT, "max_temperature_K": _k.TEMPERATURE}
_NO_RANGES = "no stability ranges for this family"
_NO_ROW = "no range in the table"


@dataclass(frozen=True)
class StabilityRules:
    """A family's ranges compiled for the kernel, with the labels the outputs are read with."""

    family: str
    arrays: dict[str, np.ndarray]
    key_labels: tuple[str, ...]
    check_labels: tuple[str, ...]
    row_sources: tuple[str, ...]
    n_rows: int

    @property
    def has_ranges(self) -> bool:
        return self.n_rows > 0


def _components(family: Family) -> list[list[int]]:
    """Sites grouped by shared elements (indices into ``family.sites``), in site order."""
    parent = list(range(len(family.sites)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, site in enumerate(family.sites):
        for e in site.elements:
            if e in seen:
                parent[find(i)] = find(seen[e])
            else:
                seen[e] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(family.sites)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def _anchor(family: Family) -> tuple[frozenset[str], float] | None:
    """Elements and atoms per formula unit of the first component with constant multiplicities."""
    for comp in _components(family):
        sites = [family.sites[i] for i in comp]
        if all(not s.multiplicity.coefficients for s in sites):
            return frozenset(e for s in sites for e in s.elements), float(sum(s.multiplicity.constant for s in sites))
    return None


def _applies(route: object, synthesis: str) -> bool:
    text = _text(route)
    return text in ("", "any", "bulk", synthesis)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def compile_ranges(family: Family, synthesis: str = "bulk", table: pd.DataFrame | None = None) -> StabilityRules:
    """Compile ``family``'s rows of the stability-range table (``table``: default the shipped one) for runs of
    the ``synthesis`` route. Raises DataError when a row names a site or element the family does not have,
    or a quantity its sites cannot define."""
    if synthesis not in SYNTHESIS_ROUTES:
        raise DataError(f"unknown synthesis route {synthesis!r}; expected one of {', '.join(SYNTHESIS_ROUTES)}")
    if table is None:
        table = load_stability_ranges()
    rows = table[table["family"] == family.name]
    rows = rows[[_applies(r, synthesis) for r in rows["route"]]]
    z_of = symbol_to_z()
    sites = {s.name: s for s in family.sites}
    components = _components(family)
    shared = {family.sites[i].name for comp in components if len(comp) > 1 for i in comp}
    anchor = _anchor(family)
    where = f"stability ranges of family {family.name!r}"

    keys: dict[tuple[str, str], list[int]] = {}
    kinds, dens, scales, mins, maxs, reported, sources = [], [], [], [], [], [], []
    for pos, (_, row) in enumerate(rows.iterrows()):
        site, group, quantity = row["site"], row["elements"], row["quantity"]
        line = f"{where}: row {row['site']},{row['elements']},{quantity}"
        den = np.zeros(N_Z, dtype=bool)
        scale = 1.0
        if quantity == "max_temperature_K":
            if group != "*":
                raise DataError(f"{line}: a temperature row takes elements '*'")
        else:
            members = group.split("+")
            for e in members:
                if e not in z_of:
                    raise DataError(f"{line}: unknown element {e!r}")
                if site != "*" and (site not in sites or e not in sites[site].elements):
                    raise DataError(f"{line}: the family has no element {e!r} on a site {site!r}")
            if quantity == "site_fraction":
                if site == "*" or site in shared:
                    raise DataError(f"{line}: a site fraction needs a site whose elements are on no other site")
                den[[z_of[e] for e in sites[site].elements]] = True
            elif quantity == "atoms_per_formula_unit":
                if anchor is None:
                    raise DataError(f"{line}: no sites of constant multiplicity to count formula units by")
                den[[z_of[e] for e in anchor[0]]] = True
                scale = anchor[1]
        keys.setdefault((site, group), []).append(pos)
        kinds.append(_KINDS[quantity])
        dens.append(den)
        scales.append(scale)
        mins.append(row["min"] if pd.notna(row["min"]) else np.nan)
        maxs.append(row["max"] if pd.notna(row["max"]) else np.nan)
        reported.append(row["status"] == "reported")
        src, seen = _text(row["source"]), _text(row["read_at"])
        if row["status"] == "reported":
            sources.append(f"{src} ({_text(row['locator'])})")
        else:
            sources.append(f"no range found (looked at {src or seen})" if src or seen else "no range found")

    # rows regrouped key by key
    order = [p for rows_of_key in keys.values() for p in rows_of_key]
    key_list = list(keys)
    key_row_start = np.zeros(len(key_list) + 1, dtype=np.int64)
    key_group = np.zeros((len(key_list), N_Z), dtype=bool)
    key_needs = np.zeros(len(key_list), dtype=np.int64)
    key_size = np.zeros(len(key_list), dtype=np.int64)
    for k, (site, group) in enumerate(key_list):
        key_row_start[k + 1] = key_row_start[k] + len(keys[(site, group)])
        if group != "*":
            members = group.split("+")
            key_group[k, [z_of[e] for e in members]] = True
            key_needs[k] = min(2, len(members))
            key_size[k] = len(members)

    # one check per element of the family (site order), and one for the temperature
    base = set(parse_composition(family.prototype).as_dict()) if family.prototype else set()
    elements = list(dict.fromkeys(e for s in family.sites for e in s.elements))
    check_z: list[int] = []
    check_base: list[bool] = []
    check_labels: list[str] = []
    check_keys: list[int] = []
    check_start = [0]
    for e in elements:
        check_z.append(z_of[e])
        check_base.append(e in base)
        check_labels.append(e)
        check_keys.extend(k for k, (_, group) in enumerate(key_list) if e in group.split("+"))
        check_start.append(len(check_keys))
    temperature_keys = [k for k, (_, group) in enumerate(key_list) if group == "*"]
    if temperature_keys:
        check_z.append(0)
        check_base.append(True)
        check_labels.append("T_op")
        check_keys.extend(temperature_keys)
        check_start.append(len(check_keys))

    arrays = {
        "key_group": key_group, "key_needs": key_needs, "key_size": key_size, "key_row_start": key_row_start,
        "row_kind": np.array([kinds[p] for p in order], dtype=np.int64),
        "row_denominator": np.array([dens[p] for p in order], dtype=bool).reshape(len(order), N_Z),
        "row_scale": np.array([scales[p] for p in order], dtype=np.float64),
        "row_min": np.array([mins[p] for p in order], dtype=np.float64),
        "row_max": np.array([maxs[p] for p in order], dtype=np.float64),
        "row_reported": np.array([reported[p] for p in order], dtype=bool),
        "check_z": np.array(check_z, dtype=np.int64), "check_base": np.array(check_base, dtype=bool),
        "check_key_start": np.array(check_start, dtype=np.int64), "check_keys": np.array(check_keys, dtype=np.int64),
    }
    key_labels = tuple("T_op" if group == "*" else group for _, group in key_list)
    return StabilityRules(family.name, arrays, key_labels, tuple(check_labels), tuple(sources[p] for p in order),
                          len(order))


@lru_cache(maxsize=64)
def _shipped_rules(family: Family, synthesis: str) -> StabilityRules:
    return compile_ranges(family, synthesis)


def unknown_stability(n: int, reason: str) -> dict[str, np.ndarray]:
    """The arrays of :func:`stability_codes` for ``n`` compositions that are all unknown for ``reason``."""
    return {"stability_code": np.full(n, UNKNOWN, dtype=np.int8), "phase_stability": np.full(n, STATUS_LABELS[UNKNOWN]),
            "stability_limit": np.full(n, ""), "stability_row": np.ones(n, dtype=np.int64),
            "stability_sources": np.array(["", reason])}


def stability_codes(batch: CompositionBatch, family: Family, temperature_K: float, synthesis: str = "bulk",
                    rules: StabilityRules | None = None) -> dict[str, np.ndarray]:
    """The flag of every composition as compact arrays: ``stability_code`` (int8: 0 reported, 1 unknown,
    2 beyond), ``phase_stability`` and ``stability_limit`` (short strings), and ``stability_row`` (int64) with
    ``stability_sources`` (the strings it indexes: the deciding row's source, "" when reported). Long source
    strings are looked up only for the rows that are kept (:func:`phase_stability` does it for all)."""
    if rules is None:
        rules = _shipped_rules(family, synthesis)
    if not rules.has_ranges:
        return unknown_stability(len(batch), _NO_RANGES)
    a = rules.arrays
    status, limit_check, limit_row, limit_key = _k.stability_kernel(
        np.ascontiguousarray(batch.elements, dtype=np.int64), np.ascontiguousarray(batch.fractions, dtype=np.float64),
        float(temperature_K), a["key_group"], a["key_needs"], a["key_size"], a["key_row_start"], a["row_kind"],
        a["row_denominator"], a["row_scale"], a["row_min"], a["row_max"], a["row_reported"], a["check_z"],
        a["check_base"], a["check_key_start"], a["check_keys"])
    # the limit: the deciding key's label, else the element of the check; "" when reported
    n_keys = len(rules.key_labels)
    limit_labels = np.array(("",) + rules.key_labels + rules.check_labels)
    pick = np.where(limit_key >= 0, limit_key + 1, np.where(limit_check >= 0, 1 + n_keys + limit_check, 0))
    return {"stability_code": status, "phase_stability": np.array(STATUS_LABELS)[status],
            "stability_limit": limit_labels[pick],
            "stability_row": np.where(status == _k.REPORTED, 0, limit_row + 2).astype(np.int64),
            "stability_sources": np.array(("", _NO_ROW) + rules.row_sources)}


def phase_stability(batch: CompositionBatch, family: Family, temperature_K: float,
                    synthesis: str = "bulk", rules: StabilityRules | None = None) -> dict[str, np.ndarray]:
    """The flag of every composition of ``batch`` (candidates of ``family``) at the operating temperature.

    Returns ``phase_stability`` (:data:`STATUS_LABELS`), ``stability_limit`` (the element, element group or
    ``T_op`` that decided a flag other than reported) and ``stability_source`` (the deciding row's source and
    locator), each an array of strings, and ``stability_code`` (int8, the kernel's status).
    """
    out = stability_codes(batch, family, temperature_K, synthesis, rules)
    return {"phase_stability": out["phase_stability"], "stability_limit": out["stability_limit"],
            "stability_source": out["stability_sources"][out["stability_row"]], "stability_code": out["stability_code"]}


def family_range_summary(family: Family, synthesis: str = "bulk") -> dict[str, object]:
    """What the table holds for ``family``: rows that apply, reported and unknown, and the elements with no
    row (checked as unknown unless they are base elements of the prototype)."""
    rules = _shipped_rules(family, synthesis)
    a = rules.arrays
    keyed = set()
    for c, label in enumerate(rules.check_labels):
        if a["check_key_start"][c + 1] > a["check_key_start"][c]:
            keyed.add(label)
    base = [label for c, label in enumerate(rules.check_labels) if a["check_base"][c]]
    return {"rows": rules.n_rows, "reported": int(a["row_reported"].sum()),
            "unknown": int((~a["row_reported"]).sum()),
            "elements_without_rows": [e for e in rules.check_labels if e not in keyed and e not in base]}
