"""The streaming merge: chunk results folded into the survivor pool, the explore pools and the counts.

The pool keeps, across chunks, every candidate dominated by fewer than ``keep`` others (pruning is
order-independent: see :mod:`magnetscreen.screening.engine.ranking`); the explore pool keeps, per
family, the best candidates by upside. :func:`explore_list` picks the final explore list from them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from magnetscreen.screening.engine.pipeline import (
    COLUMNS,
    ChunkResult,
    Context,
    empty_columns,
    explore_order,
    score_chunk,
    take,
)
from magnetscreen.screening.engine.ranking import Objectives, prune
from magnetscreen.screening.engine.settings import ScreenSettings

__all__ = ["Merger", "combine", "concat", "explore_list", "score_group"]


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Row-wise concatenation of column dicts (empty parts skipped)."""
    parts = [p for p in parts if len(p["formula"])]
    if not parts:
        return empty_columns()
    return {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS}


class Merger:
    """Keeps, across chunks, the candidates that can still reach the top ``keep`` and the explore pools.

    Survivors wait until there are as many as the pool holds (at least :attr:`MIN_PENDING` rows) and are then
    pruned together with the pool, so each pruning pass (O(n log^2 n) for up to three objectives) at least
    halves the rows it has to look at again: the merge's cost per candidate stays flat as chunks accumulate.
    Pruning in batches keeps the same rows as pruning after every chunk (the pruning lemma); :attr:`pool`
    flushes what is waiting.
    """

    #: Fewest waiting survivor rows that trigger a pruning pass.
    MIN_PENDING = 4096

    def __init__(self, settings: ScreenSettings, families: list[str]):
        self.s = settings
        self._pool = empty_columns()
        self._pending: list[dict[str, np.ndarray]] = []
        self._pending_rows = 0
        self.explore: dict[str, dict[str, np.ndarray]] = {}
        self.counts: dict[str, dict] = {f: {"composition_ok": 0, "passed": 0, "in_domain": 0, "removed_by": {}}
                                        for f in families}
        self.done = 0

    @property
    def pool(self) -> dict[str, np.ndarray]:
        """Every candidate dominated by fewer than ``keep`` others among all survivors added so far."""
        self._flush()
        return self._pool

    def _flush(self) -> None:
        if not self._pending:
            return
        merged = concat([self._pool, *self._pending])
        mask = prune(merged, self.s.keep, Objectives.of(self.s))
        self._pool = {c: v[mask] for c, v in merged.items()}
        self._pending, self._pending_rows = [], 0

    def add(self, family: str, result: ChunkResult) -> None:
        """Fold one chunk's result into the pools and counts."""
        n = len(result.survivors["formula"])
        if n:
            self._pending.append(result.survivors)
            self._pending_rows += n
            if self._pending_rows >= max(self.MIN_PENDING, len(self._pool["formula"])):
                self._flush()
        pool = concat([self.explore.get(family, empty_columns()), result.explore])
        order = explore_order(pool)[: self.s.explore_size + self.s.shortlist_size]
        self.explore[family] = take(pool, order)
        counts = self.counts[family]
        for key in ("composition_ok", "passed", "in_domain"):
            counts[key] += result.counts[key]
        for name, n in result.counts["removed_by"].items():
            counts["removed_by"][name] = counts["removed_by"].get(name, 0) + n
        self.done += 1


def combine(settings: ScreenSettings, family: str, results: list[ChunkResult]) -> ChunkResult:
    """One result for several chunks of one family: what a :class:`Merger` holds after them (the survivors pruned
    together, the explore candidates cut to what the explore pool keeps, the counts summed). Merging it later
    gives the same pools as merging the chunks one by one: rows dominated by ``keep`` others can never come back
    (the pruning lemma of :mod:`magnetscreen.screening.engine.ranking`), and the best of a union are among the
    best of its parts."""
    if len(results) == 1:
        return results[0]
    merger = Merger(settings, [family])
    for result in results:
        merger.add(family, result)
    return ChunkResult(merger.pool, merger.explore[family], merger.counts[family])


def score_group(ctx: Context, family_index: int, first: int, count: int) -> ChunkResult:
    """Score chunks ``first .. first + count - 1`` of a family and :func:`combine` them: the first level of the
    merge runs where the chunks are scored (a worker), so the main process merges one result per group."""
    results = [score_chunk(ctx, family_index, k) for k in range(first, first + count)]
    return combine(ctx.settings, ctx.plan(family_index).family.name, results)


def explore_list(explore: dict[str, dict[str, np.ndarray]], shortlisted: set[tuple[str, int]],
                 size: int) -> pd.DataFrame:
    """Round-robin over families (by name), each family's best remaining candidate by upside in turn."""
    queues = {}
    for family in sorted(explore):
        cols = explore[family]
        queues[family] = [i for i in range(len(cols["formula"]))
                          if (family, int(cols["candidate_index"][i])) not in shortlisted]
    picked: list[tuple[str, int]] = []
    while len(picked) < size and any(queues.values()):
        for family in sorted(queues):
            if queues[family] and len(picked) < size:
                picked.append((family, queues[family].pop(0)))
    frame = pd.DataFrame({c: [explore[f][c][i] for f, i in picked] for c in COLUMNS}, columns=list(COLUMNS))
    if not picked:
        frame = pd.DataFrame({c: v for c, v in empty_columns().items()})
    frame.insert(0, "explore_rank", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame
