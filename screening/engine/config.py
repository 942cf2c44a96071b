"""Run configuration: a TOML file validated into a typed :class:`RunConfig`.

Schema (every key is checked; unknown keys are errors, so typos are caught)::

    [run]
    name = "my-screen"              # label of the run (default: the file name without suffix)
    seed = 0                        # seed of every random or quasi-random choice (default 0)
    chunk_size = 65536              # candidates per chunk (default 65536)
    workers = 1                     # worker processes (default 1)
    output_dir = "runs/my-screen"   # relative to the config file (default "magnetscreen-run")

    [conditions]
    operating_temperature_K = 423.15  # default 423.15 K (150 C)
    hree_set = "default"              # "default", "china-2025-04" or "china-2025-10"

    families = "all"                # every built-in family at its defaults, or an array of tables:

    [[families]]
    name = "2-14-1"                 # a built-in family, or
    # file = "my_family.toml"       # a user family file (relative to the config file)
    step = 0.05                     # optional overrides: grid step, sampling, n_samples,
    sampling = "grid"               # and site-fraction bounds per site and element
    [families.bounds.R]
    Dy = [0.0, 0.2]

    [[constraints]]                 # composition constraints applied to every family
    kind = "max_hree_mass_fraction" # or min_/max_ atomic_fraction / mass_fraction with `elements`
    value = 0.01

Screening settings ([screen], [requirements], [route], [supply]) and the [campaign] table: see
:mod:`magnetscreen.screening.engine.settings`.

Every error names the file, the key path, the bad value and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from magnetscreen.datasets.elements import symbol_to_z
from magnetscreen.datasets.errors import ConfigError, DataError, FamilyError
from magnetscreen.datasets.families import (
    CONSTRAINT_KINDS,
    MAX_SAMPLES,
    SAMPLINGS,
    CompositionConstraint,
    Family,
    builtin_families,
    builtin_family,
    load_family,
)
from magnetscreen.datasets.hree import hree_set, hree_set_names
from magnetscreen.datasets.schema import Table, load_toml
from magnetscreen.screening.engine.settings import CampaignSettings, ScreenSettings, parse_campaign, parse_settings

__all__ = ["RunConfig", "load_config", "parse_config", "default_config", "config_for_command",
           "DEFAULT_OPERATING_TEMPERATURE_K"]

DEFAULT_OPERATING_TEMPERATURE_K = 423.15
_CONSTRAINT_KINDS = CONSTRAINT_KINDS + ("max_hree_mass_fraction",)


@dataclass(frozen=True)
class RunConfig:
    """A validated screening-run configuration (see the module docstring for the schema)."""

    name: str
    families: tuple[Family, ...]
    operating_temperature_K: float = DEFAULT_OPERATING_TEMPERATURE_K
    hree_set: str = "default"
    constraints: tuple[CompositionConstraint, ...] = ()
    output_dir: Path = Path("magnetscreen-run")
    seed: int = 0
    chunk_size: int = 65536
    workers: int = 1
    max_candidates: int = 10**9
    screen: ScreenSettings = ScreenSettings()
    campaign: CampaignSettings | None = None
    source: str = field(default="<config>", compare=False)


def _constraint(raw: Any, where: str, hree: str) -> CompositionConstraint:
    t = Table(raw, where, ConfigError)
    kind = t.string("kind", choices=_CONSTRAINT_KINDS)
    if kind == "max_hree_mass_fraction":
        value = t.number("value", low=0.0, high=1.0)
        t.finish()
        return CompositionConstraint("max_mass_fraction", hree_set(hree).elements, value)
    elements = t.array("elements")
    if not elements:
        raise t.fail("elements", "expected a non-empty array of element symbols")
    for e in elements:
        if not isinstance(e, str) or e not in symbol_to_z():
            raise t.fail("elements", f"unknown element {e!r}")
    value = t.number("value", low=0.0, high=1.0)
    t.finish()
    return CompositionConstraint(kind, tuple(elements), value)


def _family(raw: Any, where: str, base_dir: Path, constraints: tuple[CompositionConstraint, ...]) -> Family:
    t = Table(raw, where, ConfigError)
    has_name, has_file = t.has("name"), t.has("file")
    if has_name == has_file:
        raise ConfigError(f"{where}: give exactly one of 'name' (a built-in family) or 'file' (a family TOML)")
    try:
        if has_name:
            family = builtin_family(t.string("name"))
        else:
            path = Path(t.string("file"))
            family = load_family(path if path.is_absolute() else base_dir / path)
    except FamilyError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    step = t.number("step", None, low=0.0, high=1.0, low_open=True)
    sampling = t.string("sampling", None, choices=SAMPLINGS)
    n_samples = t.integer("n_samples", None, low=1, high=MAX_SAMPLES)
    bounds: dict[str, dict[str, tuple[float, float]]] = {}
    bt = t.table("bounds", {})
    if isinstance(bt, Table):
        for site in list(bt.data):
            st = bt.table(site)
            bounds[site] = {}
            for element in list(st.data):
                pair = st.raw(element)
                if not isinstance(pair, list) or len(pair) != 2:
                    raise st.fail(element, f"expected [low, high], got {pair!r}")
                bounds[site][element] = (pair[0], pair[1])
            st.finish()
        bt.finish()
    t.finish()
    try:
        return family.with_overrides(step=step, sampling=sampling, n_samples=n_samples, bounds=bounds,
                                     constraints=constraints, where=where)
    except FamilyError as exc:
        raise ConfigError(str(exc)) from None


def parse_config(data: dict[str, Any], source: str = "<config>", base_dir: Path | None = None) -> RunConfig:
    """Validate a configuration mapping (as read from TOML); ``source`` names it in errors."""
    base_dir = base_dir if base_dir is not None else Path.cwd()
    top = Table(data, f"{source}:", ConfigError)
    run = top.table("run", {})
    default_name = Path(source).stem if source != "<config>" else "run"
    if isinstance(run, Table):
        name = run.string("name", default_name)
        seed = run.integer("seed", 0, low=0, high=2**63 - 1)
        chunk_size = run.integer("chunk_size", 65536, low=1, high=2**24)
        workers = run.integer("workers", 1, low=1, high=4096)
        max_candidates = run.integer("max_candidates", RunConfig.max_candidates, low=1, high=10**15)
        output_dir = Path(run.string("output_dir", "magnetscreen-run"))
        run.finish()
    else:
        name, seed, chunk_size, workers, output_dir = default_name, 0, 65536, 1, Path("magnetscreen-run")
        max_candidates = RunConfig.max_candidates
    if not output_dir.is_absolute():
        output_dir = base_dir / output_dir

    cond = top.table("conditions", {})
    temperature, hree = DEFAULT_OPERATING_TEMPERATURE_K, "default"
    if isinstance(cond, Table):
        temperature = cond.number("operating_temperature_K", DEFAULT_OPERATING_TEMPERATURE_K, low=0.0, high=2000.0,
                                  low_open=True)
        hree = cond.string("hree_set", "default", choices=hree_set_names())
        cond.finish()

    raw_constraints = top.array("constraints", [])
    try:
        constraints = tuple(_constraint(c, f"{source}: constraints[{i}]", hree) for i, c in enumerate(raw_constraints))
    except DataError as exc:
        raise ConfigError(f"{source}: constraints: {exc}") from None

    raw_families = top.raw("families", required=True)
    if raw_families == "all":
        families = tuple(f.with_overrides(constraints=constraints) for f in builtin_families())
    elif isinstance(raw_families, list) and raw_families:
        families = tuple(
            _family(raw, f"{source}: families[{i}]", base_dir, constraints) for i, raw in enumerate(raw_families)
        )
    else:
        raise top.fail("families", f'expected "all" or a non-empty array of [[families]] tables, got {raw_families!r}')
    names = [f.name for f in families]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise top.fail("families", f"family {duplicates[0]!r} listed more than once")
    screen = parse_settings(top, source, base_dir)
    campaign = parse_campaign(top, seed)
    top.finish()
    return RunConfig(
        name=name,
        families=families,
        operating_temperature_K=temperature,
        hree_set=hree,
        constraints=constraints,
        output_dir=output_dir,
        seed=seed,
        chunk_size=chunk_size,
        workers=workers,
        max_candidates=max_candidates,
        screen=screen,
        campaign=campaign,
        source=source,
    )


def load_config(path: str | Path) -> RunConfig:
    """Load and validate a run configuration file; relative paths in it are relative to its folder.

    Raises
    ------
    ConfigError
        Naming the file, key path, bad value and what was expected.
    """
    path = Path(path)
    return parse_config(load_toml(path, ConfigError), str(path), path.resolve().parent)


def default_config(base_dir: Path | None = None) -> RunConfig:
    """The embedded default configuration (every built-in family), outputs under ``base_dir`` (default cwd)."""
    ref = resources.files("magnetscreen.screening.engine") / "configs" / "default.toml"
    with resources.as_file(ref) as path:
        return parse_config(load_toml(path, ConfigError), "default.toml", base_dir or Path.cwd())


def config_for_command(path: str | Path | None, chunk_size: int | None = None) -> RunConfig:
    """The configuration a subcommand runs: ``path`` (default: the embedded default), with the
    ``--chunk-size`` override applied and checked."""
    config = load_config(path) if path else default_config()
    if chunk_size is not None:
        if chunk_size < 1:
            raise ConfigError(f"--chunk-size: expected a positive integer, got {chunk_size}")
        from dataclasses import replace

        config = replace(config, chunk_size=chunk_size)
    return config
