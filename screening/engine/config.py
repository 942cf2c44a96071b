"""Run configuration: a TOML file validated into a typed :class:`RunConfig`.

Schema (every key is checked; unknown keys are errors, so typos are caught)::

    [run]
    name = "my-screen"              # label of the run (default: the file name without suffix)
    seed = 0                        # seed of every random or quasi-random choice (default 0)
    chunk_size = 65536              # candidates per chunk (default 65536)
    workers = "auto"                # worker processes on this machine: "auto" (default: from the cores and
                                    # the size of the run, see magnetscreen.screening.engine.workers) or N
    output_dir = "runs/my-screen"   # relative to the config file (default "magnetscreen-run")

    [cluster]                       # where chunks run (default: kind = "local")
    kind = "slurm"                  # "local" (joblib on this machine), "dask" (an existing scheduler), or a
                                    # batch cluster started through dask-jobqueue: "slurm" or "pbs"
    # address = "tcp://10.0.0.1:8786"   # kind "dask": the scheduler's address, or
    # scheduler_file = "sched.json"     # the file `dask scheduler --scheduler-file` wrote (relative to this file)
    queue = "compute"               # slurm/pbs (optional unless marked): batch queue or partition
    account = "my-project"          # account charged for the jobs
    cores = 32                      # required: cores per job
    processes = 4                   # Dask worker processes per job (a divisor of cores)
    memory = "120GB"                # required: memory per job
    walltime = "02:00:00"           # time limit of each job
    job_script_prologue = ["module load python", "source ~/venvs/magnetscreen/bin/activate"]
    interface = "ib0"               # network interface the workers and scheduler talk over
    jobs = 4                        # required, or adaptive: minimum_jobs = 0 and maximum_jobs = 8

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
:mod:`magnetscreen.screening.engine.settings`. The batch-cluster keys go to dask-jobqueue's ``SLURMCluster``
and ``PBSCluster`` under their own names (:mod:`magnetscreen.screening.engine.jobqueue`); the command line
can override each of them (:func:`with_cluster_options`). The [cluster] table never changes a score, so it
is not part of a run's resume key.

Every error names the file, the key path, the bad value and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

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
from magnetscreen.screening.engine.workers import WorkersRequest, check_workers

__all__ = ["RunConfig", "ClusterConfig", "ClusterKind", "CLUSTER_KINDS", "JOBQUEUE_KINDS", "load_config",
           "parse_config", "default_config", "config_for_command", "with_cluster_options",
           "DEFAULT_OPERATING_TEMPERATURE_K"]

DEFAULT_OPERATING_TEMPERATURE_K = 423.15
_CONSTRAINT_KINDS = CONSTRAINT_KINDS + ("max_hree_mass_fraction",)

ClusterKind = Literal["local", "dask", "slurm", "pbs"]
#: Values of ``[cluster] kind``.
CLUSTER_KINDS: tuple[str, ...] = get_args(ClusterKind)
#: Kinds started through dask-jobqueue (a batch job per group of Dask workers).
JOBQUEUE_KINDS = ("slurm", "pbs")
_JOBQUEUE_KEYS = ("queue", "account", "cores", "processes", "memory", "walltime", "job_script_prologue",
                  "interface", "jobs", "minimum_jobs", "maximum_jobs")
#: The keys each kind of [cluster] table takes besides ``kind``.
_CLUSTER_KEYS: dict[str, tuple[str, ...]] = {"local": (), "dask": ("address", "scheduler_file"),
                                             "slurm": _JOBQUEUE_KEYS, "pbs": _JOBQUEUE_KEYS}
#: Command-line option of each [cluster] key (``magnetscreen screen``).
CLUSTER_FLAGS = {"kind": "--cluster", "address": "--scheduler", "scheduler_file": "--scheduler-file",
                 "job_script_prologue": "--prologue",
                 **{k: "--" + k.replace("_", "-") for k in _JOBQUEUE_KEYS if k != "job_script_prologue"}}
_ADDRESS_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")
#: Walltime forms: SLURM takes minutes, MM:SS, HH:MM:SS and the same with a leading "days-"; PBS [[HH:]MM:]SS.
_WALLTIME = {"slurm": re.compile(r"[0-9]+(-[0-9]+)?(:[0-9]{2}){0,2}"), "pbs": re.compile(r"[0-9]+(:[0-9]{2}){0,2}")}
_MAX_JOBS = 100_000


@dataclass(frozen=True)
class ClusterConfig:
    """Where the chunks of a run execute: the validated ``[cluster]`` table (see the module docstring).

    Parameters
    ----------
    kind : {"local", "dask", "slurm", "pbs"}, default="local"
        ``local``: this process or joblib worker processes (``[run] workers``); ``dask``: an existing Dask
        scheduler (``address`` or ``scheduler_file``), or a Dask LocalCluster of ``local_workers`` processes;
        ``slurm``/``pbs``: a dask-jobqueue ``SLURMCluster``/``PBSCluster`` started for the run.
    address : str, optional
        Scheduler address of kind ``dask`` (``tcp://host:8786``).
    scheduler_file : Path, optional
        Scheduler file of kind ``dask`` (absolute: resolved against the config file's folder).
    local_workers : int, optional
        Worker processes of a Dask LocalCluster started for the run (``--dask-workers``; not a TOML key).
    queue, account, cores, processes, memory, walltime, job_script_prologue, interface
        Passed to dask-jobqueue under these names (kinds ``slurm`` and ``pbs``); None leaves dask-jobqueue's
        own default (its ``jobqueue.yaml``) in place.
    jobs : int, optional
        A fixed number of batch jobs (``cluster.scale(jobs=jobs)``).
    minimum_jobs, maximum_jobs : int, optional
        Adaptive limits instead of ``jobs`` (``cluster.adapt(minimum_jobs=..., maximum_jobs=...)``).
    source : str
        Where the settings came from (file and key path, or command-line options), for errors found when
        the cluster starts.
    """

    kind: ClusterKind = "local"
    address: str | None = None
    scheduler_file: Path | None = None
    local_workers: int | None = None
    queue: str | None = None
    account: str | None = None
    cores: int | None = None
    processes: int | None = None
    memory: str | None = None
    walltime: str | None = None
    job_script_prologue: tuple[str, ...] = ()
    interface: str | None = None
    jobs: int | None = None
    minimum_jobs: int | None = None
    maximum_jobs: int | None = None
    source: str = field(default="cluster", compare=False)

    def as_table(self) -> dict[str, Any]:
        """The TOML keys this configuration sets (``kind`` and every key that is not None or empty)."""
        out: dict[str, Any] = {"kind": self.kind}
        for key in _CLUSTER_KEYS[self.kind]:
            value = getattr(self, key)
            if value is None or value == ():
                continue
            out[key] = list(value) if isinstance(value, tuple) else str(value) if isinstance(value, Path) else value
        return out


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
    workers: WorkersRequest = "auto"
    max_candidates: int = 10**9
    screen: ScreenSettings = ScreenSettings()
    campaign: CampaignSettings | None = None
    cluster: ClusterConfig = ClusterConfig()
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


class _ClusterTable(Table):
    """A [cluster] table with command-line options laid over it: an error names the option for a value the
    command line gave, the file's key path for a value the file gave, and both for a missing key."""

    def __init__(self, data: Mapping[str, Any], where: str, file_where: str | None, flags: set[str],
                 from_file: set[str]):
        super().__init__(data, where, ConfigError)
        self.file_where = file_where
        self.flags = flags
        self.from_file = from_file

    def path(self, key: str) -> str:
        flag = CLUSTER_FLAGS.get(key, key)
        in_file = f"{self.file_where}.{key}" if self.file_where else None
        if key in self.flags:
            return flag
        if in_file is None:
            return f"{flag} (or [cluster] {key} in the config file)"
        return in_file if key in self.from_file else f"{in_file} or {flag}"


def _optional_text(t: Table, key: str) -> str | None:
    value = t.string(key, None)
    if value is not None and not value.strip():
        raise t.fail(key, f"expected a non-empty string, got {value!r}")
    return value


def _address(t: Table, key: str) -> str | None:
    """A Dask scheduler address: ``scheme://host:port`` (``tcp`` when no scheme is given) or ``inproc://...``."""
    value = _optional_text(t, key)
    if value is None:
        return None
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "tcp", value
    host, _, port = rest.rpartition(":")
    if scheme not in _ADDRESS_SCHEMES or any(c.isspace() for c in value) or not (
            scheme == "inproc" or (host and port.isdigit())):
        raise t.fail(key, f"expected a Dask scheduler address such as 'tcp://10.0.0.1:8786' (schemes: "
                          f"{', '.join(_ADDRESS_SCHEMES)}), got {value!r}")
    return value


def _is_size(text: str) -> bool:
    """Whether ``text`` is a memory size as Dask reads it (``dask.utils.parse_bytes``); without dask installed
    only non-empty (a batch cluster cannot start then anyway, and says which extra to install)."""
    try:
        from dask.utils import parse_bytes
    except ImportError:
        return bool(text.strip())
    try:
        return parse_bytes(text) > 0
    except (ValueError, TypeError):
        return False


def _parse_cluster(t: Table, base_dir: Path) -> ClusterConfig:
    """Validate a [cluster] table (every key checked; keys of another kind name the kinds that take them)."""
    kind = t.string("kind", "local", choices=CLUSTER_KINDS)
    own = _CLUSTER_KEYS[kind]
    for key in t.data:
        takers = [k for k, keys in _CLUSTER_KEYS.items() if key in keys]
        if takers and key not in own:
            raise t.fail(key, f"not a setting of kind {kind!r} (a setting of kind {' and '.join(map(repr, takers))}; "
                              f"kind {kind!r} takes {', '.join(own) if own else 'no other key'})")
    if kind == "local":
        t.finish()
        return ClusterConfig(source=t.where)
    if kind == "dask":
        address = _address(t, "address")
        file = _optional_text(t, "scheduler_file")
        t.finish()
        if (address is None) == (file is None):
            raise ConfigError(f"{t.where}: kind 'dask' takes exactly one of 'address' (a running scheduler, e.g. "
                              f"'tcp://10.0.0.1:8786') and 'scheduler_file' (the file `dask scheduler "
                              f"--scheduler-file` wrote), got {'both' if address else 'neither'}")
        path = None if file is None else Path(file) if Path(file).is_absolute() else base_dir / file
        return ClusterConfig(kind="dask", address=address, scheduler_file=path, source=t.where)

    cores = t.integer("cores", low=1, high=4096)
    processes = t.integer("processes", None, low=1, high=4096)
    if processes is not None and cores % processes:
        raise t.fail("processes", f"expected a divisor of cores = {cores} (each Dask worker process gets "
                                  f"cores / processes threads), got {processes}")
    memory = t.string("memory")
    if not _is_size(memory):
        raise t.fail("memory", f"expected the memory per job such as '64GB' or '120 GiB', got {memory!r}")
    walltime = _optional_text(t, "walltime")
    if walltime is not None and not _WALLTIME[kind].fullmatch(walltime):
        forms = "'MM', 'HH:MM:SS' or 'D-HH:MM:SS'" if kind == "slurm" else "'SS', 'MM:SS' or 'HH:MM:SS'"
        raise t.fail("walltime", f"expected a {kind} time limit such as {forms}, got {walltime!r}")
    prologue = t.array("job_script_prologue", [])
    for i, line in enumerate(prologue):
        if not isinstance(line, str) or "\n" in line or "\r" in line:
            raise t.fail("job_script_prologue", f"expected an array of single-line shell commands, item {i} is "
                                                f"{line!r}")
    queue, account, interface = (_optional_text(t, k) for k in ("queue", "account", "interface"))
    jobs = t.integer("jobs", None, low=1, high=_MAX_JOBS)
    minimum = t.integer("minimum_jobs", None, low=0, high=_MAX_JOBS)
    maximum = t.integer("maximum_jobs", None, low=1, high=_MAX_JOBS)
    t.finish()
    if jobs is not None and (minimum is not None or maximum is not None):
        adaptive = ", ".join(f"{k} = {v}" for k, v in (("minimum_jobs", minimum), ("maximum_jobs", maximum))
                             if v is not None)
        raise t.fail("jobs", f"give either jobs = N (a fixed number of batch jobs) or maximum_jobs (and "
                             f"minimum_jobs: an adaptive cluster), not both; got jobs = {jobs} and {adaptive}")
    if minimum is not None and maximum is None:
        raise t.fail("maximum_jobs", f"an adaptive cluster (minimum_jobs = {minimum}) needs maximum_jobs too")
    if jobs is None and maximum is None:
        raise t.fail("jobs", f"kind {kind!r} needs the number of batch jobs: jobs = N, or maximum_jobs = N (with "
                             "minimum_jobs, default 0) for an adaptive cluster")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise t.fail("minimum_jobs", f"expected at most maximum_jobs = {maximum}, got {minimum}")
    return ClusterConfig(kind=kind, queue=queue, account=account, cores=cores, processes=processes, memory=memory,
                         walltime=walltime, job_script_prologue=tuple(prologue), interface=interface, jobs=jobs,
                         minimum_jobs=minimum, maximum_jobs=maximum, source=t.where)


def with_cluster_options(config: RunConfig, *, kind: str | None = None, scheduler: str | None = None,
                         scheduler_file: str | Path | None = None, dask_workers: int | None = None,
                         prologue: Sequence[str] | None = None, base_dir: Path | None = None,
                         **options: Any) -> RunConfig:
    """``config`` with its [cluster] table overridden by command-line options (None: not given).

    Parameters
    ----------
    config : RunConfig
    kind : {"local", "dask", "slurm", "pbs"}, optional
        ``--cluster``. A kind other than the config's starts from an empty table of that kind.
    scheduler, scheduler_file : optional
        ``--scheduler`` / ``--scheduler-file``: kind ``dask`` with this address or file.
    dask_workers : int, optional
        ``--dask-workers``: a Dask LocalCluster of this many worker processes.
    prologue : sequence of str, optional
        ``--prologue`` lines (``job_script_prologue``).
    base_dir : path, optional
        Folder a relative ``scheduler_file`` is resolved against (default the working directory).
    **options
        ``queue``, ``account``, ``cores``, ``processes``, ``memory``, ``walltime``, ``interface``, ``jobs``,
        ``minimum_jobs``, ``maximum_jobs``: the [cluster] keys of the same names.

    Returns
    -------
    RunConfig
        With the merged cluster, validated like the TOML table.

    Raises
    ------
    ConfigError
        Naming the option (or the file's key) and the bad value, or options that contradict each other.
    """
    unknown = sorted(set(options) - set(_JOBQUEUE_KEYS))
    if unknown:
        raise TypeError(f"with_cluster_options: unknown option {unknown[0]!r}")  # a bug in the caller
    given = {k: v for k, v in options.items() if v is not None}
    if prologue is not None:
        given["job_script_prologue"] = list(prologue)
    if kind is not None and kind not in CLUSTER_KINDS:
        raise ConfigError(f"--cluster: expected one of {', '.join(map(repr, CLUSTER_KINDS))}, got {kind!r}")
    if scheduler is not None and scheduler_file is not None:
        raise ConfigError("give either --scheduler (the address of a running Dask scheduler) or --scheduler-file, "
                          "not both")
    if dask_workers is not None:
        if scheduler is not None or scheduler_file is not None:
            raise ConfigError("give either --scheduler/--scheduler-file (an existing Dask cluster) or --dask-workers "
                              "(a local one)")
        if kind not in (None, "dask") or given:
            other = f"--cluster {kind}" if kind not in (None, "dask") else CLUSTER_FLAGS[sorted(given)[0]]
            raise ConfigError(f"--dask-workers starts a Dask cluster on this machine; it does not go with {other}")
        if dask_workers < 1:
            raise ConfigError(f"--dask-workers: expected an integer >= 1, got {dask_workers}")
        return replace(config, cluster=ClusterConfig(kind="dask", local_workers=dask_workers, source="--dask-workers"))
    if scheduler is not None or scheduler_file is not None:
        if kind not in (None, "dask"):
            flag = "--scheduler" if scheduler is not None else "--scheduler-file"
            raise ConfigError(f"{flag} connects to an existing Dask scheduler (kind 'dask'); it does not go with "
                              f"--cluster {kind}")
        kind = "dask"
        given["address" if scheduler is not None else "scheduler_file"] = str(scheduler or scheduler_file)
    if kind is None and not given:
        return config
    base = config.cluster
    new_kind = kind if kind is not None else base.kind
    same = new_kind == base.kind and base.local_workers is None
    raw = base.as_table() if same else {"kind": new_kind}
    # a command-line choice replaces the file's alternatives to it
    if "jobs" in given:
        raw.pop("minimum_jobs", None)
        raw.pop("maximum_jobs", None)
    if {"minimum_jobs", "maximum_jobs"} & set(given):
        raw.pop("jobs", None)
    if "address" in given:
        raw.pop("scheduler_file", None)
    if "scheduler_file" in given:
        raw.pop("address", None)
    raw.update(given)
    for key in given:
        if key not in _CLUSTER_KEYS[new_kind]:
            takers = [k for k, keys in _CLUSTER_KEYS.items() if key in keys]
            raise ConfigError(f"{CLUSTER_FLAGS[key]} is a setting of --cluster {' or '.join(takers)}; this run's "
                              f"cluster kind is {new_kind!r}")
    from_file = {k for k in raw if k != "kind" and k not in given} if same else set()
    file_where = f"{config.source}: cluster" if same and base.kind != "local" else None
    where = f"{file_where} with command-line options" if file_where else "command-line options"
    flags = set(given) | ({"kind"} if kind is not None else set())
    table = _ClusterTable(raw, where, file_where, flags, from_file)
    return replace(config, cluster=_parse_cluster(table, base_dir if base_dir is not None else Path.cwd()))


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
        workers = check_workers(run.raw("workers", "auto"), run.path("workers"))
        max_candidates = run.integer("max_candidates", RunConfig.max_candidates, low=1, high=10**15)
        output_dir = Path(run.string("output_dir", "magnetscreen-run"))
        run.finish()
    else:
        name, seed, chunk_size, workers, output_dir = default_name, 0, 65536, "auto", Path("magnetscreen-run")
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
    raw_cluster = top.table("cluster", {})
    cluster = _parse_cluster(raw_cluster, base_dir) if isinstance(raw_cluster, Table) else ClusterConfig()
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
        cluster=cluster,
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
        config = replace(config, chunk_size=chunk_size)
    return config
