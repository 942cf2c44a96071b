"""Screening settings of a run configuration: metric, requirements, processing route, supply scenario.

Sections of the run TOML (every key optional; unknown keys are errors)::

    [screen]
    metric = "BHmax_kJm3"       # performance metric at T_op: BHmax_kJm3, BHmax_bound_kJm3, muHc_T,
                                # Js_op_T, Br_T, muHA_T or kappa
    risk = "value_weighted"     # composition supply risk of the ranking: "value_weighted" (elements weighted
                                # by their share of the raw-material value), "mass_weighted" or "weakest_link"
    objectives = ["performance", "hree", "risk"]  # Pareto objectives: "performance" first, then two or three
                                # of "hree" (HREE intensity), "risk" (supply risk) and "cost" (USD per kg)
    pessimistic_k = 0.0         # rank and test requirements on mean - k*sigma (0: on the means)
    h0_g_per_kg = 1.0           # floor of "performance per HREE intensity" = P / (h + h0)
    shortlist_size = 50         # rows of shortlist.csv
    keep = 100                  # ranked.parquet keeps every candidate dominated by fewer than `keep`
    explore_size = 20           # rows of explore.csv (next experiments)
    explore_k = 2.0             # upside = P + explore_k * sigma_P
    write_all = false           # also write every scored candidate (candidates/ Parquet dataset)

    [requirements]              # on predictions; defaults Tc_K >= 550 and kappa >= 1
    Tc_K = { min = 550 }        # any numeric column of ranked.parquet, with min and/or max
    kappa = { min = 1.0 }
    grade = "SH"                # sintered-NdFeB grade by mu0 Hc at 295 K, and T_op within its range
    in_domain = false           # true: drop candidates outside the models' domain
    phase_stability = "reported" # "reported": only candidates inside every reported formation range of their
                                # family (docs/stability-ranges.md); "not_beyond": also those whose range is
                                # unknown; "any": no requirement (the flag is still reported)

    [route]                     # processing route and temperature scaling
    alpha = 0.4
    n_eff = 1.0
    remanence_factor = 0.9
    kuzmin_s = 0.5              # Kuz'min s of Js(T) for families without a fitted law
    k1_exponent = 3.0           # K1(T) ~ m(T)^k1_exponent for families without a fitted law
    temperature_law = "family"  # "family": each built-in family's law fitted on the shipped series
                                # (magnetscreen.models.temperature_laws); "uniform": the two values above
    synthesis = "bulk"          # synthesis route the formation ranges are read for: bulk, melt-spun,
                                # thin-film or mechanical-alloying (bulk ranges apply to every route)

    [campaign]                  # used only by `magnetscreen campaign` (docs/campaigns.md)
    batch_size = 5              # candidates per round
    rule = "ucb"                # random, greedy, ucb, ei or chebyshev
    objective = "performance"   # the ranking metric, or Tc_K, Js_T, K1_MJm3
    kappa = 2.0                 # weight of sigma (ucb, chebyshev); xi = 0.0 is the margin of ei
    min_distance = 0.05         # batch diversity (L1 atomic fraction); seed defaults to [run] seed

    [supply]
    scenario = "baseline"       # built-in scenario name or a scenario TOML (relative to the config)
    as_of = "2026-12-01"        # date of the export-control status (default: the day the run starts)
    threshold = 0.005           # mass fraction of the weakest link
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.datasets.schema import Table, parse_date
from magnetscreen.datasets.tables import SYNTHESIS_ROUTES
from magnetscreen.models.physics import GRADES
from magnetscreen.models.predictions import TEMPERATURE_LAWS

__all__ = ["Requirement", "ScreenSettings", "parse_settings", "METRICS", "RISKS", "OBJECTIVES", "REQUIREMENT_COLUMNS",
           "PHASE_STABILITY", "CampaignSettings", "CAMPAIGN_OBJECTIVES", "parse_campaign"]

#: Values of ``[requirements] phase_stability``.
PHASE_STABILITY = ("reported", "not_beyond", "any")
METRICS = ("BHmax_kJm3", "BHmax_bound_kJm3", "muHc_T", "Js_op_T", "Br_T", "muHA_T", "kappa")
RISKS = ("value_weighted", "mass_weighted", "weakest_link")
#: Objectives of the Pareto ranking (``performance`` up, the others down).
OBJECTIVES = ("performance", "hree", "risk", "cost")
#: Numeric columns a requirement may name (each has a ``_sigma`` for the pessimistic bound, except
#: hree_g_per_kg, the risks and the costs).
REQUIREMENT_COLUMNS = ("Js_T", "K1_MJm3", "Tc_K", "Js_op_T", "K1_op_MJm3", "muHA_T", "kappa", "muHc_T", "Br_T",
                       "BHmax_kJm3", "BHmax_bound_kJm3", "hree_g_per_kg", "risk_value", "risk_weighted",
                       "risk_weakest", "cost_usd_per_kg", "cost_per_BHmax")


@dataclass(frozen=True)
class Requirement:
    """``column op value`` on the predictions (``op`` is ">=" or "<=")."""

    column: str
    op: str
    value: float

    @property
    def name(self) -> str:
        return f"{self.column} {self.op} {self.value:g}"


DEFAULT_REQUIREMENTS = (Requirement("Tc_K", ">=", 550.0), Requirement("kappa", ">=", 1.0))


@dataclass(frozen=True)
class ScreenSettings:
    metric: str = "BHmax_kJm3"
    risk: str = "value_weighted"
    objectives: tuple[str, ...] = ("performance", "hree", "risk")
    pessimistic_k: float = 0.0
    h0_g_per_kg: float = 1.0
    shortlist_size: int = 50
    keep: int = 100
    explore_size: int = 20
    explore_k: float = 2.0
    write_all: bool = False
    requirements: tuple[Requirement, ...] = DEFAULT_REQUIREMENTS
    grade: str | None = None
    require_in_domain: bool = False
    phase_stability: str = "reported"
    alpha: float = 0.4
    n_eff: float = 1.0
    remanence_factor: float = 0.9
    kuzmin_s: float = 0.5
    k1_exponent: float = 3.0
    temperature_law: str = "family"
    synthesis: str = "bulk"
    scenario: str = "baseline"
    scenario_path: Path | None = field(default=None, compare=False)
    as_of: dt.date | None = None
    risk_threshold: float = 0.005

    @property
    def constraint_names(self) -> list[str]:
        names = [r.name for r in self.requirements]
        if self.grade:
            names.append(f"grade {self.grade} at T_op")
        if self.require_in_domain:
            names.append("in_domain")
        if self.phase_stability != "any":
            names.append(f"phase_stability {self.phase_stability}")
        return names


def _requirements(t: Table) -> tuple[tuple[Requirement, ...], str | None, bool, str]:
    out: list[Requirement] = []
    grade = t.string("grade", None, choices=tuple(g[0] for g in GRADES))
    in_domain = t.boolean("in_domain", False)
    stability = t.string("phase_stability", _default("phase_stability"), choices=PHASE_STABILITY)
    for column in list(t.data):
        if column in ("grade", "in_domain", "phase_stability"):
            continue
        if column not in REQUIREMENT_COLUMNS:
            t.raw(column)
            raise t.fail(column, f"unknown column {column!r} (requirements can name: "
                         f"{', '.join(REQUIREMENT_COLUMNS)}, grade, in_domain, phase_stability)")
        bounds = t.table(column)
        low = bounds.number("min", None)
        high = bounds.number("max", None)
        bounds.finish()
        if low is None and high is None:
            raise t.fail(column, "give min and/or max, e.g. { min = 550 }")
        if low is not None and high is not None and low > high:
            raise t.fail(column, f"min {low:g} is above max {high:g}")
        if low is not None:
            out.append(Requirement(column, ">=", float(low)))
        if high is not None:
            out.append(Requirement(column, "<=", float(high)))
    t.finish()
    return tuple(out), grade, in_domain, stability


def _objectives(s: Table) -> tuple[str, ...]:
    raw = s.raw("objectives", None)
    if raw is None:
        return _default("objectives")
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise s.fail("objectives", f"expected an array of names, got {raw!r}")
    for name in raw:
        if name not in OBJECTIVES:
            raise s.fail("objectives", f"unknown objective {name!r} (known: {', '.join(OBJECTIVES)})")
    if len(set(raw)) != len(raw):
        raise s.fail("objectives", f"an objective is named twice in {raw!r}")
    if not raw or raw[0] != "performance" or len(raw) < 2:
        raise s.fail("objectives", f"expected \"performance\" first and at least one other objective, got {raw!r}")
    return tuple(raw)


#: What a campaign can maximize: the run's ranking metric or an intrinsic target.
CAMPAIGN_OBJECTIVES = ("performance", "Tc_K", "Js_T", "K1_MJm3")


@dataclass(frozen=True)
class CampaignSettings:
    """The ``[campaign]`` table of a run configuration (used by ``magnetscreen campaign``; docs/campaigns.md)."""

    batch_size: int = 5
    rule: str = "ucb"
    objective: str = "performance"
    kappa: float = 2.0
    xi: float = 0.0
    min_distance: float = 0.05
    seed: int = 0


def parse_campaign(top: Table, run_seed: int) -> CampaignSettings | None:
    """Read the optional [campaign] table (its seed defaults to the run's)."""
    from magnetscreen.models.acquisition import RULES

    t = top.table("campaign", None)
    if t is None:
        return None
    d = CampaignSettings()
    settings = CampaignSettings(
        batch_size=t.integer("batch_size", d.batch_size, low=1, high=10_000),
        rule=t.string("rule", d.rule, choices=RULES),
        objective=t.string("objective", d.objective, choices=CAMPAIGN_OBJECTIVES),
        kappa=t.number("kappa", d.kappa, low=0.0, high=100.0),
        xi=t.number("xi", d.xi, low=0.0),
        min_distance=t.number("min_distance", d.min_distance, low=0.0, high=2.0),
        seed=t.integer("seed", min(run_seed, 2**31 - 1), low=0, high=2**31 - 1),
    )
    t.finish()
    return settings


def _default(name: str) -> Any:
    """The default of a setting: the one place defaults are declared is :class:`ScreenSettings`."""
    return getattr(ScreenSettings(), name)


def parse_settings(top: Table, source: str, base_dir: Path) -> ScreenSettings:
    """Read the [screen], [requirements], [route] and [supply] sections of a run configuration."""
    d = _default
    values: dict[str, Any] = {}
    s = top.table("screen", None)
    if s is not None:
        values["metric"] = s.string("metric", d("metric"), choices=METRICS)
        values["risk"] = s.string("risk", d("risk"), choices=RISKS)
        values["objectives"] = _objectives(s)
        values["pessimistic_k"] = s.number("pessimistic_k", d("pessimistic_k"), low=0.0, high=10.0)
        values["h0_g_per_kg"] = s.number("h0_g_per_kg", d("h0_g_per_kg"), low=0.0, high=1000.0, low_open=True)
        values["shortlist_size"] = s.integer("shortlist_size", d("shortlist_size"), low=1, high=100000)
        values["keep"] = s.integer("keep", d("keep"), low=1, high=100000)
        values["explore_size"] = s.integer("explore_size", d("explore_size"), low=0, high=100000)
        values["explore_k"] = s.number("explore_k", d("explore_k"), low=0.0, high=10.0)
        values["write_all"] = s.boolean("write_all", d("write_all"))
        s.finish()
        if values["keep"] < values["shortlist_size"]:
            raise ConfigError(f"{source}: screen.keep: expected an integer >= shortlist_size "
                              f"({values['shortlist_size']}), got {values['keep']}")
    r = top.table("requirements", None)
    if r is not None:
        (values["requirements"], values["grade"], values["require_in_domain"],
         values["phase_stability"]) = _requirements(r)
    route = top.table("route", None)
    if route is not None:
        values["alpha"] = route.number("alpha", d("alpha"), low=0.0, high=1.0)
        values["n_eff"] = route.number("n_eff", d("n_eff"), low=0.0, high=1.0)
        values["remanence_factor"] = route.number("remanence_factor", d("remanence_factor"), low=0.0, high=1.0,
                                                  low_open=True)
        values["kuzmin_s"] = route.number("kuzmin_s", d("kuzmin_s"), low=0.0, high=2.5, low_open=True)
        if values["kuzmin_s"] >= 2.5:
            raise route.fail("kuzmin_s", f"expected 0 < s < 2.5, got {values['kuzmin_s']!r}")
        values["k1_exponent"] = route.number("k1_exponent", d("k1_exponent"), low=-20.0, high=20.0)
        values["temperature_law"] = route.string("temperature_law", d("temperature_law"), choices=TEMPERATURE_LAWS)
        values["synthesis"] = route.string("synthesis", d("synthesis"), choices=SYNTHESIS_ROUTES)
        route.finish()
    supply = top.table("supply", None)
    if supply is not None:
        scenario = supply.string("scenario", d("scenario"))
        if scenario.endswith(".toml"):
            path = Path(scenario)
            values["scenario_path"] = path if path.is_absolute() else base_dir / path
        values["scenario"] = scenario
        from magnetscreen.datasets.errors import MagnetscreenError
        from magnetscreen.datasets.supply import load_scenario

        try:
            load_scenario(values.get("scenario_path") or scenario)
        except MagnetscreenError as exc:
            raise supply.fail("scenario", str(exc)) from None
        as_of = supply.raw("as_of", None)
        if as_of is not None:
            values["as_of"] = parse_date(as_of, supply.path("as_of"), ConfigError)
        values["risk_threshold"] = supply.number("threshold", d("risk_threshold"), low=0.0, high=1.0)
        supply.finish()
    return ScreenSettings(**values)
