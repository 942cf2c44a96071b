"""Read and check a run directory for the report: ``manifest.json``, ``ranked.parquet``, ``references.parquet``.

The run-directory contract (written by the screening loop)::

    manifest.json        schema "magnetscreen-run" version 1: status, versions, config, counts, models,
                         timings, warnings
    ranked.parquet       one row per survivor, sorted by rank (1-based): RANKED_COLUMNS
    references.parquet   the reference magnets scored by the same pipeline: REFERENCE_COLUMNS

Every problem raises :class:`ReportError` naming the file, the key or column, and what was expected.
A run whose status is not ``"complete"`` may lack the Parquet files: the report then says the run is
incomplete instead of failing. Columns beyond the contract are allowed and ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from magnetscreen.datasets.errors import MagnetscreenError

__all__ = [
    "ReportError",
    "RunData",
    "RANKED_COLUMNS",
    "REFERENCE_COLUMNS",
    "STATUSES",
    "load_run",
]

SCHEMA_NAME = "magnetscreen-run"
SCHEMA_VERSION = 1
STATUSES = ("complete", "running", "failed")

_INT_COLUMNS = ("rank", "front", "candidate_index")
_STR_COLUMNS = ("family", "formula", "BHmax_branch", "grade", "risk_weighted_driver", "risk_weakest_driver", "label")
_BOOL_COLUMNS = ("in_domain",)

#: Columns of ``ranked.parquet``, in the contract's order.
RANKED_COLUMNS = (
    "rank", "front", "family", "candidate_index", "formula",
    "Js_T", "Js_T_sigma", "K1_MJm3", "K1_MJm3_sigma", "Tc_K", "Tc_K_sigma", "in_domain",
    "Js_op_T", "muHA_T", "kappa", "muHc_T", "Br_T", "BHmax_kJm3", "BHmax_branch", "BHmax_bound_kJm3", "grade",
    "hree_g_per_kg", "performance", "perf_per_hree",
    "risk_weighted", "risk_weighted_driver", "risk_weakest", "risk_weakest_driver",
)
#: Columns of ``references.parquet``: the ranked columns less rank, front and candidate_index, plus label.
REFERENCE_COLUMNS = tuple(c for c in RANKED_COLUMNS if c not in _INT_COLUMNS) + ("label",)


class ReportError(MagnetscreenError):
    """A run directory that cannot be reported: a missing or malformed file, named with the problem."""


@dataclass(frozen=True)
class RunData:
    """The checked contents of a run directory.

    Attributes
    ----------
    path : Path
        The run directory.
    manifest : dict
        ``manifest.json`` as read (schema checked, ``config``/``counts``/``models`` always dicts).
    ranked : DataFrame or None
        ``ranked.parquet`` sorted by rank; None only for an incomplete run without the file.
    references : DataFrame or None
        ``references.parquet``; None only for an incomplete run without the file.
    """

    path: Path
    manifest: dict
    ranked: pd.DataFrame | None
    references: pd.DataFrame | None
    notes: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        return self.manifest["status"]

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def config(self) -> dict:
        return self.manifest["config"]

    @property
    def counts(self) -> dict:
        return self.manifest["counts"]

    @property
    def models(self) -> dict:
        return self.manifest["models"]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expect(condition: bool, where: str, expected: str, value: Any) -> None:
    if not condition:
        raise ReportError(f"{where}: expected {expected}, got {value!r}")


def _check_manifest(data: Any, where: str) -> dict:
    _expect(isinstance(data, dict), where, "a JSON object", type(data).__name__)
    _expect(data.get("schema") == SCHEMA_NAME, f"{where}: schema", repr(SCHEMA_NAME), data.get("schema"))
    _expect(data.get("schema_version") == SCHEMA_VERSION, f"{where}: schema_version", str(SCHEMA_VERSION),
            data.get("schema_version"))
    _expect(data.get("status") in STATUSES, f"{where}: status", f"one of {', '.join(STATUSES)}", data.get("status"))
    for key in ("config", "counts", "models", "versions", "timings"):
        value = data.setdefault(key, {})
        _expect(isinstance(value, dict), f"{where}: {key}", "a JSON object", value)
    warnings = data.setdefault("warnings", [])
    _expect(isinstance(warnings, list) and all(isinstance(w, str) for w in warnings), f"{where}: warnings",
            "a list of strings", warnings)
    counts = data["counts"]
    for key in ("enumerated", "passed", "survivors"):
        if key in counts:
            _expect(isinstance(counts[key], int) and not isinstance(counts[key], bool) and counts[key] >= 0,
                    f"{where}: counts.{key}", "an integer >= 0", counts[key])
    if "in_domain_share" in counts:
        share = counts["in_domain_share"]
        _expect(_is_number(share) and 0.0 <= share <= 1.0, f"{where}: counts.in_domain_share",
                "a number in [0, 1]", share)
    for key in ("families", "removed_by"):
        value = counts.setdefault(key, {})
        _expect(isinstance(value, dict), f"{where}: counts.{key}", "a JSON object", value)
    for name, removed in counts["removed_by"].items():
        _expect(isinstance(removed, int) and not isinstance(removed, bool) and removed >= 0,
                f"{where}: counts.removed_by[{name!r}]", "an integer >= 0", removed)
    for family, block in counts["families"].items():
        _expect(isinstance(block, dict), f"{where}: counts.families[{family!r}]", "a JSON object", block)
        for key, value in block.items():
            _expect(_is_number(value), f"{where}: counts.families[{family!r}].{key}", "a number", value)
    config = data["config"]
    constraints = config.setdefault("constraints", [])
    _expect(isinstance(constraints, list) and all(isinstance(c, dict) for c in constraints),
            f"{where}: config.constraints", "a list of objects", constraints)
    families = config.setdefault("families", [])
    _expect(isinstance(families, list), f"{where}: config.families", "a list of names", families)
    route = config.setdefault("route", {})
    _expect(isinstance(route, dict), f"{where}: config.route", "a JSON object", route)
    for key in ("operating_temperature_K", "pessimistic_k", "h0_g_per_kg"):
        if key in config:
            _expect(_is_number(config[key]) and math.isfinite(config[key]), f"{where}: config.{key}",
                    "a finite number", config[key])
    for target, card in data["models"].items():
        _expect(isinstance(card, dict), f"{where}: models[{target!r}]", "a JSON object (model card)", card)
    return data


def _read_manifest(path: Path) -> dict:
    where = str(path)
    if not path.is_file():
        raise ReportError(f"{where}: missing (a run directory holds manifest.json, ranked.parquet and "
                          f"references.parquet)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{where}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    return _check_manifest(data, where)


def _check_frame(frame: pd.DataFrame, columns: tuple[str, ...], where: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(f"{where}: missing columns {missing}")
    frame = frame.reset_index(drop=True)
    for column in columns:
        series = frame[column]
        if column in _INT_COLUMNS:
            _expect(pd.api.types.is_integer_dtype(series), f"{where}: column {column!r}", "integers", str(series.dtype))
        elif column in _BOOL_COLUMNS:
            _expect(pd.api.types.is_bool_dtype(series) and not series.isna().any(), f"{where}: column {column!r}",
                    "booleans without nulls", str(series.dtype))
            frame[column] = series.astype(bool)
        elif column in _STR_COLUMNS:
            bad = [v for v in series if not (isinstance(v, str) or v is None)]
            _expect(not bad, f"{where}: column {column!r}", "strings", bad[:1])
            if column in ("formula", "family", "label") and series.isna().any():
                row = int(series.isna().to_numpy().nonzero()[0][0])
                raise ReportError(f"{where}: column {column!r}: empty at row {row}")
            frame[column] = series.fillna("").astype(object)
        else:
            _expect(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series),
                    f"{where}: column {column!r}", "numbers", str(series.dtype))
            frame[column] = series.astype("float64")
    return frame


def _read_parquet(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"{path}: not a readable Parquet file ({first})") from None
    return _check_frame(frame, columns, str(path))


def load_run(run_dir: str | Path) -> RunData:
    """Read and check a run directory.

    Parameters
    ----------
    run_dir : str or Path
        Folder written by ``magnetscreen screen``.

    Returns
    -------
    RunData

    Raises
    ------
    ReportError
        The folder or a required file is missing, or a file does not follow the contract (the message
        names the file, the key or column, the value and what was expected).
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise ReportError(f"{path}: not a run directory (no such folder)")
    manifest = _read_manifest(path / "manifest.json")
    complete = manifest["status"] == "complete"
    notes = []
    tables = {}
    for name, columns in (("ranked", RANKED_COLUMNS), ("references", REFERENCE_COLUMNS)):
        file = path / f"{name}.parquet"
        if not file.is_file():
            if complete:
                raise ReportError(f"{file}: missing (status 'complete' requires {name}.parquet)")
            notes.append(f"{name}.parquet is not written yet (status {manifest['status']!r})")
            tables[name] = None
            continue
        tables[name] = _read_parquet(file, columns)
    ranked = tables["ranked"]
    if ranked is not None and len(ranked):
        ranks = ranked["rank"].to_numpy()
        expected = list(range(1, len(ranked) + 1))
        if ranks.tolist() != expected:
            first = next(i for i, (a, b) in enumerate(zip(ranks.tolist(), expected)) if a != b)
            raise ReportError(f"{path / 'ranked.parquet'}: column 'rank': expected 1..{len(ranked)} in row order, "
                              f"row {first} has rank {int(ranks[first])}")
    return RunData(path=path, manifest=manifest, ranked=ranked, references=tables["references"], notes=tuple(notes))
