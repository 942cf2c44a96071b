"""Candidate families: prototypes with crystallographic sites whose occupancy is substituted.

A family is data, not code: a TOML file with the schema below, whether built in
(``datasets/data/families/*.toml``) or written by a user. :func:`load_family` validates one into a
:class:`Family`; :func:`builtin_families` lists the shipped ones.

Schema (every key is checked; unknown keys are errors)::

    name = "2-14-1"                      # identifier, used on the command line and in outputs
    description = "..."                  # one line
    prototype = "Nd2Fe14B"               # formula of the prototype (first element of each site)
    structure = "Nd2Fe14B-type, P4_2/mnm, Z = 4"
    citation = "J. F. Herbst et al., Phys. Rev. B 29, 4176 (1984)"
    reference = "doi:10.1103/PhysRevB.29.4176"   # DOI or URL of the citation
    sampling = "grid"                    # default for every site: "grid" or "sobol"
    step = 0.1                           # default simplex-grid step on every site (1/step integer)
    n_samples = 1024                     # quasi-random samples when a site uses "sobol"
    prototype_variables = { x = 1.0 }   # variable values at which `prototype` is the formula unit

    [[variables]]                        # optional: variables that site multiplicities depend on
    name = "x"
    values = [0.5, 1.0, 1.5]

    [[sites]]
    name = "R"                           # e.g. Wyckoff-based label
    multiplicity = 2                     # atoms per formula unit: number > 0 or linear expression "12 - x"
                                         # (an expression may be 0 for some variable values: site absent)
    elements = ["Nd", "Pr", "Dy"]        # allowed elements; the first is the prototype's
    step = 0.05                          # optional, overrides the family step
    sampling = "grid"                    # optional, overrides the family sampling
    bounds = { Dy = [0.0, 0.3] }         # optional site-fraction bounds per element (default [0, 1])

    [[constraints]]                      # optional composition filters
    kind = "max_mass_fraction"           # min_/max_ atomic_fraction or mass_fraction
    elements = ["Dy", "Tb"]
    value = 0.06
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from magnetscreen.datasets.elements import symbol_to_z
from magnetscreen.datasets.errors import FamilyError
from magnetscreen.datasets.schema import Table, check_number, load_toml

__all__ = [
    "Family",
    "Site",
    "Variable",
    "CompositionConstraint",
    "Multiplicity",
    "SAMPLINGS",
    "CONSTRAINT_KINDS",
    "load_family",
    "parse_family",
    "builtin_families",
    "builtin_family",
    "builtin_family_names",
    "check_step",
]

SAMPLINGS = ("grid", "sobol")
CONSTRAINT_KINDS = ("min_atomic_fraction", "max_atomic_fraction", "min_mass_fraction", "max_mass_fraction")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")
_STEP_TOL = 1e-9
#: Finest grid: a site fraction step of 1/MAX_GRID_UNITS.
MAX_GRID_UNITS = 100_000
#: Largest number of quasi-random samples of a family.
MAX_SAMPLES = 10**12
#: Largest site multiplicity and largest absolute value of a family variable.
MAX_MULTIPLICITY = 1000.0


@dataclass(frozen=True)
class Multiplicity:
    """Atoms of a site per formula unit, ``constant + sum(coefficients[v] * v)`` over variables."""

    constant: float
    coefficients: tuple[tuple[str, float], ...] = ()

    def value(self, variables: dict[str, float]) -> float:
        return self.constant + sum(c * variables[name] for name, c in self.coefficients)

    def __str__(self) -> str:
        text = f"{self.constant:g}" if self.constant or not self.coefficients else ""
        for name, c in self.coefficients:
            sign = "-" if c < 0 else "+"
            mag = "" if abs(c) == 1 else f"{abs(c):g}*"
            text = f"{text} {sign} {mag}{name}" if text else f"{'-' if c < 0 else ''}{mag}{name}"
        return text


_TERM = re.compile(r"\s*([+-])?\s*(?:(\d+(?:\.\d*)?|\.\d+)\s*(\*)?\s*)?([A-Za-z_]\w*)?\s*")


def _parse_multiplicity(value: Any, where: str, variables: tuple[str, ...]) -> Multiplicity:
    if isinstance(value, bool):
        raise FamilyError(f"{where}: expected a positive number or an expression such as '12 - x', got {value!r}")
    if isinstance(value, (int, float)):
        return Multiplicity(check_number(value, where, FamilyError, low=0.0, low_open=True, high=MAX_MULTIPLICITY))
    if not isinstance(value, str) or not value.strip():
        raise FamilyError(f"{where}: expected a positive number or an expression such as '12 - x', got {value!r}")
    constant = 0.0
    coefficients: dict[str, float] = {}
    pos = 0
    first = True
    text = value.strip()
    while pos < len(text):
        m = _TERM.match(text, pos)
        sign, number, star, name = m.groups() if m else (None, None, None, None)
        if m is None or m.end() == pos or (not number and not name) or (star and not name) or (not first and not sign):
            raise FamilyError(f"{where}: cannot read {value!r} as a linear expression (at {text[pos:]!r})")
        coef = float(number) if number else 1.0
        if coef > MAX_MULTIPLICITY:
            raise FamilyError(f"{where}: coefficient {number} in {value!r} is larger than {MAX_MULTIPLICITY:g}")
        coef = -coef if sign == "-" else coef
        if name:
            if name not in variables:
                raise FamilyError(f"{where}: unknown variable {name!r} in {value!r} (declared: {list(variables)})")
            coefficients[name] = coefficients.get(name, 0.0) + coef
        else:
            constant += coef
        pos = m.end()
        first = False
    return Multiplicity(constant, tuple(sorted(coefficients.items())))


@dataclass(frozen=True)
class Variable:
    """A family variable (such as ``x`` in ``R(Fe,Co)12-x(Ti,V)x``) and the values it takes."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Site:
    """A crystallographic site: its multiplicity and the elements allowed on it with fraction bounds."""

    name: str
    multiplicity: Multiplicity
    elements: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    step: float | None = None
    sampling: str | None = None

    def bound(self, element: str) -> tuple[float, float]:
        return self.bounds[self.elements.index(element)]


@dataclass(frozen=True)
class CompositionConstraint:
    """Keep a candidate only if the atomic or mass fraction of ``elements`` (summed) is within ``value``."""

    kind: str
    elements: tuple[str, ...]
    value: float

    @property
    def basis(self) -> str:
        return "mass" if "mass" in self.kind else "atomic"

    @property
    def is_max(self) -> bool:
        return self.kind.startswith("max")

    def __str__(self) -> str:
        op = "<=" if self.is_max else ">="
        return f"{self.basis} fraction of {'+'.join(self.elements)} {op} {self.value:g}"


@dataclass(frozen=True)
class Family:
    """A validated candidate family (see the module docstring for the TOML schema)."""

    name: str
    description: str
    prototype: str
    structure: str
    citation: str
    reference: str
    sites: tuple[Site, ...]
    variables: tuple[Variable, ...] = ()
    constraints: tuple[CompositionConstraint, ...] = ()
    sampling: str = "grid"
    step: float = 0.1
    n_samples: int = 1024
    prototype_variables: tuple[tuple[str, float], ...] = ()
    source: str = field(default="", compare=False)

    @property
    def elements(self) -> tuple[str, ...]:
        """Every element that can occur, in order of first appearance."""
        seen: dict[str, None] = {}
        for site in self.sites:
            for element in site.elements:
                seen.setdefault(element, None)
        return tuple(seen)

    def site_step(self, site: Site) -> float:
        return site.step if site.step is not None else self.step

    def site_sampling(self, site: Site) -> str:
        return site.sampling if site.sampling is not None else self.sampling

    def prototype_amounts(self) -> dict[str, float]:
        """Amounts of the formula unit with the first element of every site, at ``prototype_variables``."""
        values = dict(self.prototype_variables)
        amounts: dict[str, float] = {}
        for site in self.sites:
            first = site.elements[0]
            atoms = site.multiplicity.value(values)
            if atoms > 0:
                amounts[first] = amounts.get(first, 0.0) + atoms
        return amounts

    def with_overrides(self, *, step: float | None = None, sampling: str | None = None,
                       n_samples: int | None = None, bounds: dict[str, dict[str, tuple[float, float]]] | None = None,
                       constraints: tuple[CompositionConstraint, ...] = (), where: str = "") -> Family:
        """A copy with run-time overrides (validated like the file itself). Site-level steps and samplings
        are replaced by the overriding family-level ones."""
        where = where or f"family {self.name!r}"
        sites = list(self.sites)
        if step is not None:
            check_step(step, f"{where}: step")
            sites = [replace(s, step=None) for s in sites]
        if sampling is not None:
            sites = [replace(s, sampling=None) for s in sites]
        for site_name, element_bounds in (bounds or {}).items():
            names = [s.name for s in sites]
            if site_name not in names:
                raise FamilyError(f"{where}: bounds.{site_name}: unknown site {site_name!r} (sites: {names})")
            i = names.index(site_name)
            site = sites[i]
            new = list(site.bounds)
            for element, (lo, hi) in element_bounds.items():
                if element not in site.elements:
                    raise FamilyError(
                        f"{where}: bounds.{site_name}.{element}: element not allowed on site {site_name!r} "
                        f"(allowed: {list(site.elements)})"
                    )
                _check_bound((lo, hi), f"{where}: bounds.{site_name}.{element}")
                new[site.elements.index(element)] = (float(lo), float(hi))
            sites[i] = replace(site, bounds=tuple(new))
        family = replace(
            self,
            sites=tuple(sites),
            step=self.step if step is None else float(step),
            sampling=self.sampling if sampling is None else sampling,
            n_samples=self.n_samples if n_samples is None else int(n_samples),
            constraints=self.constraints + tuple(constraints),
        )
        _check_feasible(family, where)
        return family


def check_step(step: float, where: str) -> int:
    """Number of grid units ``1/step``; raise FamilyError unless it is a whole number in 1..:data:`MAX_GRID_UNITS`."""
    step = check_number(step, where, FamilyError, low=0.0, high=1.0, low_open=True)
    if step < 1.0 / MAX_GRID_UNITS:
        raise FamilyError(f"{where}: step {step:g} is finer than the finest grid supported, 1/{MAX_GRID_UNITS} "
                          f"= {1.0 / MAX_GRID_UNITS:g} (use Sobol sampling for dense coverage)")
    units = 1.0 / step
    if abs(units - round(units)) > _STEP_TOL * units:
        raise FamilyError(f"{where}: step {step:g} does not divide 1 into a whole number of parts (1/step = {units:g})")
    return int(round(units))


def _check_bound(pair: Any, where: str) -> tuple[float, float]:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise FamilyError(f"{where}: expected [low, high] with 0 <= low <= high <= 1, got {pair!r}")
    lo = check_number(pair[0], where, FamilyError, low=0.0, high=1.0)
    hi = check_number(pair[1], where, FamilyError, low=0.0, high=1.0)
    if lo > hi:
        raise FamilyError(f"{where}: expected [low, high] with 0 <= low <= high <= 1, got [{lo:g}, {hi:g}]")
    return lo, hi


def _check_feasible(family: Family, where: str) -> None:
    for i, site in enumerate(family.sites):
        lows = sum(lo for lo, _ in site.bounds)
        highs = sum(hi for _, hi in site.bounds)
        if lows > 1 + 1e-12 or highs < 1 - 1e-12:
            raise FamilyError(
                f"{where}: sites[{i}] ({site.name!r}): bounds admit no occupancy summing to 1 "
                f"(sum of lower bounds {lows:g}, sum of upper bounds {highs:g})"
            )
        if family.site_sampling(site) == "grid" and len(site.elements) > 1:
            units = check_step(family.site_step(site), f"{where}: sites[{i}] ({site.name!r}).step")
            lo_u = sum(math.ceil(lo * units - 1e-9) for lo, _ in site.bounds)
            hi_u = sum(math.floor(hi * units + 1e-9) for _, hi in site.bounds)
            if lo_u > units or hi_u < units:
                raise FamilyError(
                    f"{where}: sites[{i}] ({site.name!r}): no grid point at step {family.site_step(site):g} "
                    f"satisfies the bounds {dict(zip(site.elements, site.bounds))}"
                )


def _parse_constraint(data: Any, where: str) -> CompositionConstraint:
    t = Table(data, where, FamilyError)
    kind = t.string("kind", choices=CONSTRAINT_KINDS)
    elements = t.array("elements")
    known = symbol_to_z()
    if not elements:
        raise t.fail("elements", "expected a non-empty array of element symbols")
    for e in elements:
        if not isinstance(e, str) or e not in known:
            raise t.fail("elements", f"unknown element {e!r}")
    if len(set(elements)) != len(elements):
        raise t.fail("elements", f"repeated element in {elements}")
    value = t.number("value", low=0.0, high=1.0)
    t.finish()
    return CompositionConstraint(kind, tuple(elements), value)


def parse_family(data: dict[str, Any], source: str = "<family>") -> Family:
    """Validate a family given as a TOML-like mapping; ``source`` names it in error messages."""
    t = Table(data, f"{source}:", FamilyError)
    name = t.string("name")
    if not _NAME.match(name):
        raise t.fail("name", f"expected letters, digits and . _ + -, got {name!r}")
    description = t.string("description")
    prototype = t.string("prototype")
    structure = t.string("structure")
    citation = t.string("citation")
    reference = t.string("reference")
    sampling = t.string("sampling", "grid", choices=SAMPLINGS)
    step = t.number("step", 0.1)
    check_step(step, t.path("step"))
    n_samples = t.integer("n_samples", 1024, low=1, high=MAX_SAMPLES)

    variables: list[Variable] = []
    for i, raw in enumerate(t.array("variables", [])):
        vt = Table(raw, f"{source}: variables[{i}]", FamilyError)
        vname = vt.string("name")
        if not re.match(r"^[A-Za-z_]\w*$", vname):
            raise vt.fail("name", f"expected an identifier, got {vname!r}")
        values = vt.array("values")
        if not values:
            raise vt.fail("values", "expected a non-empty array of numbers")
        if len(values) > 1000:
            raise vt.fail("values", f"{len(values)} values, more than the 1000 a variable may take")
        nums = tuple(check_number(v, vt.path("values"), FamilyError, low=-MAX_MULTIPLICITY, high=MAX_MULTIPLICITY)
                     for v in values)
        if len(set(nums)) != len(nums):
            raise vt.fail("values", f"repeated value in {list(nums)}")
        vt.finish()
        if any(v.name == vname for v in variables):
            raise FamilyError(f"{source}: variables[{i}].name: variable {vname!r} declared twice")
        variables.append(Variable(vname, nums))
    var_names = tuple(v.name for v in variables)

    proto_vars_table = t.table("prototype_variables", {})
    proto_vars: dict[str, float] = {}
    if isinstance(proto_vars_table, Table):
        for key in list(proto_vars_table.data):
            if key not in var_names:
                raise proto_vars_table.fail(key, f"unknown variable (declared: {list(var_names)})")
            proto_vars[key] = proto_vars_table.number(key)
        proto_vars_table.finish()
    missing = [v for v in var_names if v not in proto_vars]
    if missing:
        raise FamilyError(f"{source}: prototype_variables: missing value for variable(s) {missing}")

    known = symbol_to_z()
    sites: list[Site] = []
    raw_sites = t.array("sites")
    if not raw_sites:
        raise t.fail("sites", "expected at least one [[sites]] table")
    for i, raw in enumerate(raw_sites):
        st = Table(raw, f"{source}: sites[{i}]", FamilyError)
        sname = st.string("name")
        if any(s.name == sname for s in sites):
            raise st.fail("name", f"site {sname!r} declared twice")
        mult = _parse_multiplicity(st.raw("multiplicity"), st.path("multiplicity"), var_names)
        mult_values = [mult.value(c) for c in _variable_combinations(variables)]
        if min(mult_values) < 0 or max(mult_values) <= 0:
            raise st.fail(
                "multiplicity",
                f"{str(mult)!r} must be >= 0 for every variable value and > 0 for some, got {mult_values}",
            )
        elements = st.array("elements")
        if not elements:
            raise st.fail("elements", "expected a non-empty array of element symbols")
        for e in elements:
            if not isinstance(e, str) or e not in known:
                raise st.fail("elements", f"unknown element {e!r}")
        if len(set(elements)) != len(elements):
            raise st.fail("elements", f"repeated element in {elements}")
        site_step = st.number("step", None)
        if site_step is not None:
            check_step(site_step, st.path("step"))
        site_sampling = st.string("sampling", None, choices=SAMPLINGS)
        bounds = {e: (0.0, 1.0) for e in elements}
        bt = st.table("bounds", {})
        if isinstance(bt, Table):
            for key in list(bt.data):
                if key not in bounds:
                    raise bt.fail(key, f"element not allowed on site {sname!r} (allowed: {elements})")
                bounds[key] = _check_bound(bt.raw(key), bt.path(key))
            bt.finish()
        st.finish()
        sites.append(Site(sname, mult, tuple(elements), tuple(bounds[e] for e in elements), site_step, site_sampling))

    constraints = tuple(
        _parse_constraint(raw, f"{source}: constraints[{i}]") for i, raw in enumerate(t.array("constraints", []))
    )
    t.finish()
    family = Family(
        name=name,
        description=description,
        prototype=prototype,
        structure=structure,
        citation=citation,
        reference=reference,
        sites=tuple(sites),
        variables=tuple(variables),
        constraints=constraints,
        sampling=sampling,
        step=step,
        n_samples=n_samples,
        prototype_variables=tuple(sorted(proto_vars.items())),
        source=source,
    )
    _check_feasible(family, source)
    return family


def _variable_combinations(variables: list[Variable] | tuple[Variable, ...]) -> list[dict[str, float]]:
    combos: list[dict[str, float]] = [{}]
    for var in variables:
        combos = [{**c, var.name: v} for c in combos for v in var.values]
    return combos


def load_family(path: str | Path) -> Family:
    """Load and validate a family TOML file.

    Raises
    ------
    FamilyError
        If the file is missing or does not follow the schema; the message names file and key path.
    """
    return parse_family(load_toml(path, FamilyError), str(path))


def _builtin_dir():
    return resources.files("magnetscreen.datasets") / "data" / "families"


@lru_cache(maxsize=1)
def builtin_families() -> tuple[Family, ...]:
    """Every built-in family, sorted by name."""
    families = []
    for entry in _builtin_dir().iterdir():
        if entry.name.endswith(".toml"):
            with resources.as_file(entry) as path:
                families.append(load_family(path))
    names = [f.name for f in families]
    if len(set(names)) != len(names):
        raise FamilyError(f"built-in families: duplicate names in {sorted(names)}")
    return tuple(sorted(families, key=lambda f: f.name))


def builtin_family_names() -> tuple[str, ...]:
    return tuple(f.name for f in builtin_families())


def builtin_family(name: str) -> Family:
    """The built-in family called ``name``; FamilyError listing the valid names otherwise."""
    for family in builtin_families():
        if family.name == name:
            return family
    raise FamilyError(f"unknown built-in family {name!r} (built-in: {', '.join(builtin_family_names())})")
