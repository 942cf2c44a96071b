"""Enumerate the candidates of a run configuration, family by family, and write them out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from magnetscreen.descriptors.enumeration import Chunk, EnumerationPlan, plan_enumeration
from magnetscreen.screening.engine.config import RunConfig
from magnetscreen.screening.engine.outputs import atomic_path

__all__ = ["plans", "iter_chunks", "write_candidates"]


def plans(config: RunConfig) -> list[EnumerationPlan]:
    """One enumeration plan per family of ``config``, in config order."""
    return [plan_enumeration(f, chunk_size=config.chunk_size, seed=config.seed) for f in config.families]


def iter_chunks(config: RunConfig) -> Iterator[Chunk]:
    """Every chunk of every family of ``config``, lazily, in a deterministic order."""
    for plan in plans(config):
        yield from plan.chunks()


def write_candidates(config: RunConfig, out: Path, fmt: str = "text") -> dict[str, tuple[int, int]]:
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
    with atomic_path(out) as tmp:
        if fmt == "text":
            with open(tmp, "w", encoding="ascii") as handle:
                for plan in plans(config):
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
                for plan in plans(config):
                    kept = 0
                    for chunk in plan.chunks():
                        names = chunk.batch.names()
                        if len(names):
                            table = pa.table(
                                {
                                    "family": pa.array(np.full(len(names), plan.family.name, dtype=object), pa.string()),
                                    "candidate_index": pa.array(chunk.candidate_index, pa.int64()),
                                    "formula": pa.array(names.tolist(), pa.string()),
                                },
                                schema=schema,
                            )
                            writer.write_table(table)
                        kept += len(names)
                    summary[plan.family.name] = (plan.total, kept)
    return summary
