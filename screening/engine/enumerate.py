"""Enumerate the candidates of a run configuration, family by family, and write them out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.descriptors.enumeration import Chunk, EnumerationPlan, plan_enumeration
from magnetscreen.screening.engine.config import RunConfig
from magnetscreen.screening.engine.outputs import atomic_path

__all__ = ["plans", "iter_chunks", "write_candidates"]


def plans(config: RunConfig, max_candidates: int | None = None) -> list[EnumerationPlan]:
    """One enumeration plan per family of ``config``, in config order, refused before anything is enumerated
    when they hold more than ``max_candidates`` (default ``config.max_candidates``) candidates together.

    Raises
    ------
    ConfigError
        The plan is too large: the message gives its exact count per family and how to raise the limit.
    """
    limit = config.max_candidates if max_candidates is None else max_candidates
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"--max-candidates: expected an integer >= 1, got {limit!r}")
    out = [plan_enumeration(f, chunk_size=config.chunk_size, seed=config.seed) for f in config.families]
    total = sum(p.total for p in out)
    if total > limit:
        sizes = ", ".join(f"{p.family.name} {p.total:,}" for p in out)
        raise ConfigError(f"the plan has {total:,} candidates ({sizes}), more than the limit of {limit:,}: use a "
                          "coarser step, fewer samples or narrower bounds, or raise [run] max_candidates / "
                          "--max-candidates")
    return out


def iter_chunks(config: RunConfig) -> Iterator[Chunk]:
    """Every chunk of every family of ``config``, lazily, in a deterministic order."""
    for plan in plans(config):
        yield from plan.chunks()


def write_candidates(config: RunConfig, out: Path, fmt: str = "text",
                     max_candidates: int | None = None) -> dict[str, tuple[int, int]]:
    """Write the canonical formulas of every candidate of ``config`` to ``out`` (atomically).

    Parameters
    ----------
    config : RunConfig
    out : Path
        Output file; written under a temporary name and renamed when complete.
    fmt : {"text", "parquet"}
        ``text``: one canonical formula per line. ``parquet``: columns family, candidate_index, formula.

    Returns
    -------
    dict
        ``{family: (candidates before constraints, candidates written)}``.
    """
    if fmt not in ("text", "parquet"):
        raise ValueError(f"fmt must be 'text' or 'parquet', got {fmt!r}")
    summary: dict[str, tuple[int, int]] = {}
    planned = plans(config, max_candidates)
    with atomic_path(out) as tmp:
        if fmt == "text":
            with open(tmp, "w", encoding="ascii") as handle:
                for plan in planned:
                    kept = 0
                    for chunk in plan.chunks():
                        names = chunk.batch.names()
                        if len(names):
                            handle.write("\n".join(names.tolist()))
                            handle.write("\n")
                        kept += len(names)
                    summary[plan.family.name] = (plan.total, kept)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([("family", pa.string()), ("candidate_index", pa.int64()), ("formula", pa.string())])
            with pq.ParquetWriter(tmp, schema) as writer:
                for plan in planned:
                    kept = 0
                    for chunk in plan.chunks():
                        names = chunk.batch.names()
                        if len(names):
                            table = pa.table(
                                {
                                    "family": pa.array(np.full(len(names), plan.family.name, dtype=object),
                                                       pa.string()),
                                    "candidate_index": pa.array(chunk.candidate_index, pa.int64()),
                                    "formula": pa.array(names.tolist(), pa.string()),
                                },
                                schema=schema,
                            )
                            writer.write_table(table)
                        kept += len(names)
                    summary[plan.family.name] = (plan.total, kept)
    return summary
