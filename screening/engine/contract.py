"""The run contract: what a screening run writes, in one place, with one writer and one reader.

A run folder holds

==========================  =============================================================================
``manifest.json``           :class:`Manifest`: status, resolved inputs and resume key, settings, counts,
                            model cards, timings, warnings, outputs. ``status`` is ``running`` while the
                            run works, ``complete`` only after every other file (the report included) is
                            written, ``failed`` (with ``error``) when it stopped on an error.
``ranked.parquet``          every ranked survivor: :data:`RANKED_COLUMNS`, sorted by ``rank`` (1 = best)
``shortlist.csv``           the first ``shortlist_size`` rows of ``ranked.parquet``
``explore.csv``             next experiments: :data:`EXPLORE_COLUMNS`
``references.parquet``      the reference magnets scored the same way: :data:`REFERENCE_COLUMNS`
``supply.json``             :class:`SupplyRecord`: the scenario as resolved, the as-of date, the element
                            risks, the risk breakdown of the shortlist and the disclosures of its top rows
``report.html``             the self-contained report (it reads the files above and recomputes nothing)
``candidates/``             every scored candidate, when ``write_all`` is set
``.state/<key>/``           finished chunks of an unfinished run, keyed by the resolved inputs
``.lock``                   held while a run writes the folder (pid, host, start time)
==========================  =============================================================================

Every column has a :class:`ColumnSpec` (name, dtype, unit, description); :class:`RunFolder` writes and
reads every file, checking columns and dtypes both ways. The engine, the report, ``magnetscreen bench``
and the tests all go through this module.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from magnetscreen.datasets.errors import MagnetscreenError
from magnetscreen.screening.engine.outputs import atomic_path
from magnetscreen.screening.engine.records import RecordError, from_json, to_json

__all__ = [
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "STATUSES",
    "ColumnSpec",
    "SCORED_COLUMNS",
    "RANKED_COLUMNS",
    "EXPLORE_COLUMNS",
    "REFERENCE_COLUMNS",
    "STRING_COLUMNS",
    "column_names",
    "RunError",
    "RouteRecord",
    "ConstraintRecord",
    "RunSettings",
    "FamilyCounts",
    "Counts",
    "Timings",
    "NumbaCacheRecord",
    "ResolvedInputs",
    "Manifest",
    "ScenarioRecord",
    "RiskBreakdown",
    "ControlRecord",
    "SupplyRecord",
    "RunFolder",
    "RunData",
    "load_run",
    "RESULT_FILES",
    "check_frame",
]

_PANDAS_MAJOR = int(pd.__version__.split(".")[0])
SCHEMA_NAME = "magnetscreen-run"
SCHEMA_VERSION = 3
Status = Literal["running", "complete", "failed"]
STATUSES: tuple[str, ...] = ("running", "complete", "failed")


class RunError(MagnetscreenError):
    """A run folder that cannot be read or written: a missing or malformed file, or a folder in use."""


# ------------------------------------------------------------------------------------------- columns

@dataclass(frozen=True)
class ColumnSpec:
    """One column of a run's tables: name, dtype (``float64``, ``int64``, ``bool`` or ``str``), unit, meaning."""

    name: str
    dtype: Literal["float64", "int64", "bool", "str"]
    unit: str = ""
    description: str = ""


def _f(name: str, unit: str, description: str) -> ColumnSpec:
    return ColumnSpec(name, "float64", unit, description)


#: Columns of a scored candidate, in the order of ``ranked.parquet`` (after ``rank`` and ``front``).
SCORED_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("family", "str", "", "candidate family"),
    ColumnSpec("candidate_index", "int64", "", "index of the candidate in its family's enumeration"),
    ColumnSpec("formula", "str", "", "canonical formula"),
    _f("Js_T", "T", "saturation polarization at 295 K"),
    _f("Js_T_sigma", "T", "1-sigma of Js_T"),
    _f("K1_MJm3", "MJ/m^3", "first anisotropy constant at 295 K"),
    _f("K1_MJm3_sigma", "MJ/m^3", "1-sigma of K1_MJm3"),
    _f("Tc_K", "K", "Curie temperature"),
    _f("Tc_K_sigma", "K", "1-sigma of Tc_K"),
    ColumnSpec("in_domain", "bool", "", "inside the models' domain of applicability for every target"),
    ColumnSpec("prototype", "str", "", "structure prototype from the stoichiometry"),
    ColumnSpec("domain_note", "str", "", "what the domain flag is missing, per target (empty: in domain)"),
    ColumnSpec("phase_stability", "str", "", "reported, beyond_reported_range or unknown: inside the composition "
               "ranges where the family's phase was reported to form (docs/stability-ranges.md)"),
    ColumnSpec("stability_limit", "str", "", "element, element group or T_op that decided a flag other than reported"),
    ColumnSpec("stability_source", "str", "", "source of the deciding range (or why there is none)"),
    _f("Js_op_T", "T", "saturation polarization at the operating temperature"),
    _f("Js_op_T_sigma", "T", "1-sigma of Js_op_T"),
    _f("K1_op_MJm3", "MJ/m^3", "first anisotropy constant at the operating temperature"),
    _f("muHA_T", "T", "anisotropy field mu0 HA at the operating temperature"),
    _f("muHA_T_sigma", "T", "1-sigma of muHA_T"),
    _f("kappa", "1", "hardness parameter at the operating temperature"),
    _f("kappa_sigma", "1", "1-sigma of kappa"),
    _f("muHc_T", "T", "coercivity mu0 Hc at the operating temperature (Kronmueller, processing route)"),
    _f("muHc_T_sigma", "T", "1-sigma of muHc_T"),
    _f("Br_T", "T", "remanence at the operating temperature"),
    _f("BHmax_kJm3", "kJ/m^3", "energy product of the ideal square loop at the operating temperature"),
    _f("BHmax_kJm3_sigma", "kJ/m^3", "1-sigma of BHmax_kJm3"),
    ColumnSpec("BHmax_branch", "str", "", "what bounds (BH)max: remanence or coercivity"),
    _f("BHmax_bound_kJm3", "kJ/m^3", "upper bound Js^2 / (4 mu0) at the operating temperature"),
    ColumnSpec("grade", "str", "", "sintered-NdFeB grade met by mu0 Hc at 295 K (empty: none)"),
    _f("hree_g_per_kg", "g/kg", "heavy-rare-earth intensity of the run's HREE set"),
    _f("performance", "", "the ranking metric at the operating temperature (mean - k sigma)"),
    _f("performance_sigma", "", "1-sigma of the ranking metric"),
    _f("perf_per_hree", "", "performance / (HREE intensity + h0)"),
    _f("upside", "", "ranking metric + explore_k sigma"),
    _f("risk_value", "1", "composition supply risk, each element weighted by its share of the raw-material value "
       "(the default risk of the ranking)"),
    ColumnSpec("risk_value_driver", "str", "", "element that lifts risk_value most above its value-weighted mean"),
    _f("risk_weighted", "1", "composition supply risk, mass-exposure weighted"),
    ColumnSpec("risk_weighted_driver", "str", "", "element that contributes most to risk_weighted"),
    _f("risk_weakest", "1", "composition supply risk, weakest link above the mass threshold"),
    ColumnSpec("risk_weakest_driver", "str", "", "element of risk_weakest"),
    _f("cost_usd_per_kg", "USD/kg", "raw-material cost per kg of magnet at the run's element prices (a lower bound "
       "where cost_priced_fraction < 1)"),
    _f("cost_usd_per_kg_low", "USD/kg", "cost_usd_per_kg at the low end of every element's price band"),
    _f("cost_usd_per_kg_high", "USD/kg", "cost_usd_per_kg at the high end of every element's price band"),
    _f("cost_priced_fraction", "1", "mass fraction of the composition with a price"),
    _f("cost_per_BHmax", "USD/kg per kJ/m^3", "cost_usd_per_kg / BHmax_kJm3 at the operating temperature"),
    ColumnSpec("controlled_elements", "str", "", "elements of the composition under export control at as_of"),
)
_RANK = (ColumnSpec("rank", "int64", "", "rank, 1 = best"),
         ColumnSpec("front", "int64", "", "Pareto front, 1 = not dominated"),
         ColumnSpec("p_top", "float64", "1", "probability of ranking in the top shortlist_size under the "
                    "predictive distribution of the ranking metric (seeded Monte Carlo)"))
#: Columns of ``ranked.parquet`` and ``shortlist.csv``.
RANKED_COLUMNS: tuple[ColumnSpec, ...] = _RANK + SCORED_COLUMNS
#: Columns of ``explore.csv``.
EXPLORE_COLUMNS: tuple[ColumnSpec, ...] = (
    (ColumnSpec("explore_rank", "int64", "", "explore-list rank"),) + SCORED_COLUMNS)
#: Columns of ``references.parquet``.
REFERENCE_COLUMNS: tuple[ColumnSpec, ...] = (ColumnSpec("label", "str", "", "reference magnet"),) + tuple(
    c for c in SCORED_COLUMNS if c.name != "candidate_index")
STRING_COLUMNS: tuple[str, ...] = tuple(c.name for c in SCORED_COLUMNS if c.dtype == "str")


def column_names(specs: tuple[ColumnSpec, ...]) -> tuple[str, ...]:
    """The names of ``specs``, in order."""
    return tuple(c.name for c in specs)


def check_frame(frame: pd.DataFrame, specs: tuple[ColumnSpec, ...], where: str) -> pd.DataFrame:
    """``frame`` with exactly the columns of ``specs`` in order and of their dtypes; RunError otherwise.

    Strings may be read back as objects and integers as any integer dtype; they are normalized here.
    """
    names = column_names(specs)
    if tuple(frame.columns) != names:
        missing = [c for c in names if c not in frame.columns]
        extra = [c for c in frame.columns if c not in names]
        raise RunError(f"{where}: columns differ from the run contract (missing {missing}, unexpected {extra})")
    out = frame.reset_index(drop=True).copy()
    for spec in specs:
        series = out[spec.name]
        if len(series) == 0:  # an empty table read back has no dtypes to check
            kind = {"float64": "float64", "int64": "int64", "bool": bool, "str": object}[spec.dtype]
            out[spec.name] = series.astype(kind)
            continue
        if spec.dtype == "float64":
            if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
                raise RunError(f"{where}: column {spec.name!r}: expected numbers, got {series.dtype}")
            out[spec.name] = series.astype("float64")
        elif spec.dtype == "int64":
            if not pd.api.types.is_integer_dtype(series):
                raise RunError(f"{where}: column {spec.name!r}: expected integers, got {series.dtype}")
            out[spec.name] = series.astype("int64")
        elif spec.dtype == "bool":
            if not pd.api.types.is_bool_dtype(series) or series.isna().any():
                raise RunError(f"{where}: column {spec.name!r}: expected booleans without nulls, got {series.dtype}")
            out[spec.name] = series.astype(bool)
        else:
            bad = [v for v in series if not (isinstance(v, str) or v is None or (isinstance(v, float) and np.isnan(v)))]
            if bad:
                raise RunError(f"{where}: column {spec.name!r}: expected strings, got {bad[0]!r}")
            out[spec.name] = series.fillna("").astype(object)
    return out


# ------------------------------------------------------------------------------------------ manifest

@dataclass(frozen=True)
class RouteRecord:
    """Processing route and temperature scaling of a run."""

    alpha: float
    n_eff: float
    remanence_factor: float
    kuzmin_s: float
    k1_exponent: float
    temperature_law: str = "uniform"
    #: family -> the law its candidates were scaled with (s, n and where each came from)
    family_laws: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConstraintRecord:
    """One requirement of the ranking: ``column op value``."""

    name: str
    column: str
    op: str
    value: float | str | bool


@dataclass(frozen=True)
class CompositionConstraintRecord:
    """A composition filter applied while enumerating."""

    kind: str
    elements: list[str]
    value: float


@dataclass(frozen=True)
class RunSettings:
    """The settings a run used, as the report and a reader need them."""

    name: str
    source: str
    seed: int
    chunk_size: int
    families: list[str]
    operating_temperature_K: float
    hree_set: str
    scenario: str
    as_of: str
    risk_threshold: float
    route: RouteRecord
    metric: str
    risk_objective: str
    pessimistic_k: float
    h0_g_per_kg: float
    shortlist_size: int
    keep: int
    explore_size: int
    explore_k: float
    constraints: list[ConstraintRecord]
    composition_constraints: list[CompositionConstraintRecord]
    objectives: list[str] = field(default_factory=lambda: ["performance", "hree", "risk"])


@dataclass(frozen=True)
class FamilyCounts:
    """Candidates of one family at each step of the run."""

    enumerated: int
    composition_ok: int
    passed: int
    in_domain: int
    survivors: int


@dataclass(frozen=True)
class Counts:
    """Candidates at each step of the run, in total and per family, and what removed them."""

    enumerated: int
    scored: int
    passed: int
    survivors: int
    in_domain_share: float | None
    survivors_in_domain_share: float | None
    families: dict[str, FamilyCounts]
    removed_by: dict[str, int]
    removed_by_family: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Timings:
    """Wall-clock times of a run and how it ran.

    ``backend`` is the cluster kind (``local``, ``dask``, ``slurm`` or ``pbs``); ``workers`` the worker
    processes that ran chunks (1: the run's own process; for Dask the most workers the scheduler had at once
    during the run) and ``threads_per_worker`` the numba threads the chunks ran their kernels with (the
    largest, if workers differed). ``workers_requested`` is what ``[run] workers`` / ``--workers`` asked
    for (``auto`` or a number; None on a Dask cluster), ``workers_note`` the log line saying what was chosen
    and why, ``scheduler`` the Dask scheduler's address.
    """

    total_s: float
    loop_s: float
    chunks: int
    chunks_resumed: int
    candidates_per_s: float | None
    backend: str
    workers: int
    threads_per_worker: int
    workers_requested: str | None = None
    workers_note: str | None = None
    scheduler: str | None = None


@dataclass(frozen=True)
class NumbaCacheRecord:
    """Numba's cache of the screening's kernels as the run found it when it started.

    ``cache_dir`` is ``NUMBA_CACHE_DIR`` (None: numba's default, the ``__pycache__`` beside each kernel
    module), ``folders`` the folders holding the kernels' cache files, ``cold`` whether kernels had to be
    compiled (``missing``: those without a current index file; see
    :mod:`magnetscreen.screening.engine.numba_cache`).
    """

    cache_dir: str | None
    folders: list[str]
    cold: bool
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ResolvedInputs:
    """Everything that can change a score, resolved: its hash is the resume key.

    ``config`` is the configuration as parsed (families with their full content, settings, as-of date);
    the other fields are SHA-256 checksums of the content the run used: scenario file, model files, data
    tables, the element-risk array, and the package version.
    """

    config: dict[str, Any]
    scenario: dict[str, str]
    model_files: dict[str, str]
    data: dict[str, str]
    element_risk_sha256: str
    package_version: str
    element_price_sha256: str = ""

    @property
    def key(self) -> str:
        """SHA-256 of the canonical JSON of these inputs."""
        from magnetscreen.datasets.provenance import json_sha256

        return json_sha256(to_json(self))


@dataclass(frozen=True)
class Manifest:
    """``manifest.json`` of a run folder."""

    status: Status
    created: str
    magnetscreen_version: str
    versions: dict[str, str | None]
    resume_key: str
    inputs: ResolvedInputs
    config: RunSettings
    counts: Counts | None = None
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: Timings | None = None
    numba_cache: NumbaCacheRecord | None = None
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    finished: str | None = None
    error: str | None = None
    schema: str = SCHEMA_NAME
    schema_version: int = SCHEMA_VERSION

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def finish(self, status: Status, error: str | None = None, **changes: Any) -> Manifest:
        """A copy with ``status`` (and ``error``), the finishing time and other ``changes``."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return replace(self, status=status, error=error, finished=now, **changes)


# -------------------------------------------------------------------------------------------- supply

@dataclass(frozen=True)
class ScenarioRecord:
    """The supply scenario as the run resolved it."""

    name: str
    date: str
    description: str
    origin: str
    sha256: str


@dataclass(frozen=True)
class RiskBreakdown:
    """One shortlisted candidate's supply risk split into element contributions (mass fraction x risk)."""

    rank: int
    family: str
    candidate_index: int
    formula: str
    contributions: dict[str, float]
    covered_mass_fraction: float


@dataclass(frozen=True)
class ControlRecord:
    """An export control in force at ``as_of`` on an element that shortlisted or explore candidates contain."""

    element: str
    event_id: str
    action: str
    country: str
    announcement: str
    effective: str
    candidates: int


@dataclass(frozen=True)
class SupplyRecord:
    """``supply.json``: the supply-risk inputs as resolved and the derived records the report shows."""

    as_of: str
    scenario: ScenarioRecord
    element_risk: dict[str, float]
    breakdown: list[RiskBreakdown]
    disclosures: list[dict[str, Any]]
    element_price: dict[str, dict[str, Any]] = field(default_factory=dict)
    controls: list[ControlRecord] = field(default_factory=list)
    vintage: dict[str, str] = field(default_factory=dict)
    vintage_warning: str | None = None


# ------------------------------------------------------------------------------------------- folder

_TABLES: dict[str, tuple[str, tuple[ColumnSpec, ...]]] = {
    "ranked": ("ranked.parquet", RANKED_COLUMNS),
    "shortlist": ("shortlist.csv", RANKED_COLUMNS),
    "explore": ("explore.csv", EXPLORE_COLUMNS),
    "references": ("references.parquet", REFERENCE_COLUMNS),
}
#: Result files, removed when a run starts and written atomically when it ends.
RESULT_FILES = ("ranked.parquet", "shortlist.csv", "explore.csv", "references.parquet", "supply.json",
                "report.html")


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunError(f"{path}: missing") from None
    except UnicodeDecodeError as exc:
        raise RunError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise RunError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise RunError(f"{path}: JSON nested too deeply") from None


def _write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_json(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")


class RunFolder:
    """The files of one run folder: the only writer and reader of :data:`RESULT_FILES` and the manifest."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    # -- paths
    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    @property
    def report_path(self) -> Path:
        return self.path / "report.html"

    @property
    def candidates_dir(self) -> Path:
        return self.path / "candidates"

    def state_dir(self, key: str) -> Path:
        """Folder of the finished chunks of an unfinished run with resume key ``key``."""
        return self.path / ".state" / key[:16]

    def table_path(self, name: str) -> Path:
        return self.path / _TABLES[name][0]

    # -- manifest
    def write_manifest(self, manifest: Manifest) -> None:
        _write_json(self.manifest_path, manifest)

    def read_manifest(self) -> Manifest:
        """The checked manifest; RunError naming the file and key path if it does not follow the contract."""
        data = _read_json(self.manifest_path)
        where = str(self.manifest_path)
        if not isinstance(data, dict):
            raise RunError(f"{where}: expected a JSON object, got {type(data).__name__}")
        if data.get("schema") != SCHEMA_NAME:
            raise RunError(f"{where}: schema: expected {SCHEMA_NAME!r}, got {data.get('schema')!r}; is "
                           f"{self.path} a magnetscreen run folder?")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise RunError(f"{where}: schema_version: expected {SCHEMA_VERSION}, got {data.get('schema_version')!r} "
                           "(written by another magnetscreen version: rerun the screening)")
        try:
            return from_json(Manifest, data, f"{where}:")
        except RecordError as exc:
            raise RunError(str(exc)) from None

    def previous_manifest(self) -> Manifest | None:
        """The manifest of an earlier run in this folder, None when there is none or it is unreadable."""
        if not self.manifest_path.exists():
            return None
        try:
            return self.read_manifest()
        except RunError:
            return None

    # -- tables
    def write_table(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Write a result table after checking it against the contract; returns it as a reader will see it."""
        filename, specs = _TABLES[name]
        frame = check_frame(frame, specs, f"{name} (being written)")
        path = self.path / filename
        with atomic_path(path) as tmp:
            if filename.endswith(".parquet"):
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
            else:
                frame.to_csv(tmp, index=False)  # shortest repr of each float: reads back exactly
        return frame

    def read_table(self, name: str) -> pd.DataFrame:
        """A result table, checked against the contract; RunError names the file and the problem."""
        filename, specs = _TABLES[name]
        path = self.path / filename
        if not path.is_file():
            raise RunError(f"{path}: missing")
        try:
            if filename.endswith(".parquet"):
                frame = pd.read_parquet(path)
            else:
                dtypes = {c.name: (str if c.dtype == "str" else None) for c in specs}
                exact = {} if _PANDAS_MAJOR >= 3 else {"float_precision": "round_trip"}  # exact by default from 3
                frame = pd.read_csv(path, dtype={k: v for k, v in dtypes.items() if v}, keep_default_na=False,
                                    na_values={c.name: [""] for c in specs if c.dtype != "str"}, **exact)
        except (OSError, ValueError) as exc:  # pyarrow's errors are ValueErrors or OSErrors
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            kind = "Parquet" if filename.endswith(".parquet") else "CSV"
            raise RunError(f"{path}: not a readable {kind} file ({first})") from None
        frame = check_frame(frame, specs, str(path))
        if name == "ranked" and len(frame):
            ranks = frame["rank"].to_numpy()
            if not np.array_equal(ranks, np.arange(1, len(frame) + 1)):
                row = int(np.flatnonzero(ranks != np.arange(1, len(frame) + 1))[0])
                raise RunError(f"{path}: column 'rank': expected 1..{len(frame)} in row order, row {row} has rank "
                               f"{int(ranks[row])}")
        return frame

    # -- supply
    def write_supply(self, record: SupplyRecord) -> None:
        _write_json(self.path / "supply.json", record)

    def read_supply(self) -> SupplyRecord:
        path = self.path / "supply.json"
        try:
            return from_json(SupplyRecord, _read_json(path), f"{path}:")
        except RecordError as exc:
            raise RunError(str(exc)) from None

    # -- lifecycle
    def clear_results(self) -> None:
        """Remove the result files of an earlier run (a new run must not leave them looking current)."""
        for name in RESULT_FILES:
            (self.path / name).unlink(missing_ok=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``.lock`` while the block runs: a second run into the same folder is refused, naming the holder.

        A lock left by a process that no longer runs on this host is taken over.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.path / ".lock"
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _lock_holder(path)
                if holder is not None and _alive(holder):
                    raise RunError(f"{self.path}: in use by another magnetscreen run (pid {holder.get('pid')} on "
                                   f"{holder.get('host')}, started {holder.get('started')}); wait for it to finish "
                                   f"or choose another --out") from None
                path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(me, handle)
            break
        else:  # pragma: no cover - another process took the stale lock between our two tries
            raise RunError(f"{self.path}: in use by another magnetscreen run (lock {path})")
        try:
            yield
        finally:
            holder = _lock_holder(path)
            if holder is not None and holder.get("pid") == me["pid"] and holder.get("host") == me["host"]:
                path.unlink(missing_ok=True)


def _lock_holder(path: Path) -> dict | None:
    for _ in range(20):  # a lock being written by its holder can be empty for an instant
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            time.sleep(0.05)
            continue
        return data if isinstance(data, dict) else {}
    return {}


def _alive(holder: dict) -> bool:
    """Whether the lock's process runs (on another host we cannot tell, and assume it does)."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname():
        return True
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True



@dataclass(frozen=True)
class RunData:
    """The contents of a run folder as one reader sees them (tables None while an incomplete run lacks them)."""

    path: Path
    manifest: Manifest
    ranked: pd.DataFrame | None
    references: pd.DataFrame | None
    explore: pd.DataFrame | None
    supply: SupplyRecord | None
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.manifest.complete


def load_run(path: str | Path) -> RunData:
    """Read and check every file of a run folder.

    A complete run must have every table and ``supply.json``; a running or failed run may lack them,
    and :attr:`RunData.notes` says which are not written yet.

    Raises
    ------
    RunError
        The folder or a required file is missing, or a file does not follow the contract (the message names
        the file, the key or column, the value and what was expected).
    """
    folder = RunFolder(path)
    if not folder.path.is_dir():
        raise RunError(f"{folder.path}: not a run folder (no such folder)")
    manifest = folder.read_manifest()
    notes: list[str] = []
    tables: dict[str, pd.DataFrame | None] = {}
    for name in ("ranked", "references", "explore"):
        if not folder.table_path(name).is_file() and not manifest.complete:
            notes.append(f"{folder.table_path(name).name} is not written yet (status {manifest.status!r})")
            tables[name] = None
            continue
        tables[name] = folder.read_table(name)
    supply: SupplyRecord | None = None
    if (folder.path / "supply.json").is_file() or manifest.complete:
        supply = folder.read_supply()
    else:
        notes.append(f"supply.json is not written yet (status {manifest.status!r})")
    return RunData(folder.path, manifest, tables["ranked"], tables["references"], tables["explore"], supply,
                   tuple(notes))
