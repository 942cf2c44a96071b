"""Resume state: one set of files per finished task (one or more consecutive chunks of a family), in a folder
named by the run's resume key.

A task's survivors and explore candidates are written as Parquet and its counts as JSON, the JSON last:
its presence marks the task as done. A run restarted with the same resolved inputs (same resume key)
skips the finished tasks; any change of an input gives another key and a fresh state.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from magnetscreen.screening.engine.contract import SCORED_COLUMNS
from magnetscreen.screening.engine.outputs import atomic_path
from magnetscreen.screening.engine.pipeline import COLUMNS, ChunkResult

__all__ = ["ChunkState"]

_DTYPES = {c.name: c.dtype for c in SCORED_COLUMNS}


def _column(values: np.ndarray, name: str) -> np.ndarray:
    kind = _DTYPES[name]
    if kind == "str":
        return np.asarray(values, dtype=str)
    return np.asarray(values, dtype={"float64": np.float64, "int64": np.int64, "bool": bool}[kind])


class ChunkState:
    """The finished tasks of one resume key under ``folder``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def prepare(self) -> None:
        """Create the folder and remove the states of other keys (they cannot be reused)."""
        parent = self.folder.parent
        if parent.is_dir():
            for other in parent.iterdir():
                if other != self.folder:
                    shutil.rmtree(other, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _base(self, task: tuple[int, int, int]) -> Path:
        family, first, count = task
        return self.folder / f"f{family:03d}-c{first:06d}-n{count:03d}"

    def save(self, task: tuple[int, int, int], result: ChunkResult) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        base = self._base(task)
        for part, cols in (("survivors", result.survivors), ("explore", result.explore)):
            with atomic_path(base.with_suffix(f".{part}.parquet")) as tmp:
                pq.write_table(pa.table({c: cols[c] for c in COLUMNS}), tmp)
        with atomic_path(base.with_suffix(".json")) as tmp:  # written last: marks the task as done
            tmp.write_text(json.dumps(result.counts, sort_keys=True), encoding="utf-8")

    def load(self, task: tuple[int, int, int]) -> ChunkResult | None:
        """The saved result of ``task``, or None if it did not finish."""
        import pyarrow.parquet as pq

        base = self._base(task)
        done = base.with_suffix(".json")
        if not done.exists():
            return None
        parts = {}
        for part in ("survivors", "explore"):
            table = pq.read_table(base.with_suffix(f".{part}.parquet"))
            parts[part] = {c: _column(table.column(c).to_numpy(zero_copy_only=False), c) for c in COLUMNS}
        return ChunkResult(parts["survivors"], parts["explore"], json.loads(done.read_text(encoding="utf-8")))

    def remove(self) -> None:
        """Remove every state folder (the run finished)."""
        shutil.rmtree(self.folder.parent, ignore_errors=True)
