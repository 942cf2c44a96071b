"""How many worker processes and numba threads a run on this machine uses.

``workers = "auto"`` (the default of ``[run] workers`` and ``--workers``) chooses from the cores this
process may run on and from the size of what is left to score:

- processes = the smallest of the cores, the chunks to score // :data:`MIN_CHUNKS_PER_PROCESS` and the
  candidates to score // :data:`MIN_CANDIDATES_PER_PROCESS`, and at least 1;
- numba threads per process = cores // processes (every core once).

So processes x threads never exceeds the cores. A second process must have chunks of its own to keep busy
(two each, so that one slow chunk does not leave it idle), and enough work to pay for its start-up: a loky
worker imports the stack, loads the models and the cached kernels before its first chunk, measured at
5.3-5.9 s on the 2-core development machine, while one process scores about 54,000 candidates/s there with
both cores as numba threads; two processes are 1.49x faster than one (README), so the second process wins
back its start-up only from about 10^6 candidates, 500,000 per process.

Explicit numbers are kept: ``workers = N`` starts N processes (fewer when there are fewer chunks, since a
process without a chunk only costs its start-up) with cores // N threads each, at least 1; N above the
cores oversubscribes them, because it was asked for.

The cores are ``os.sched_getaffinity(0)`` where the platform has it (a batch job's or container's CPU set),
else ``os.cpu_count()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from magnetscreen.datasets.errors import ConfigError

__all__ = ["AUTO", "WorkersRequest", "WorkerPlan", "MIN_CHUNKS_PER_PROCESS", "MIN_CANDIDATES_PER_PROCESS",
           "MAX_WORKERS", "available_cores", "check_workers", "plan_workers"]

AUTO: Literal["auto"] = "auto"
#: ``"auto"`` or a number of worker processes.
WorkersRequest = int | Literal["auto"]
#: Chunks each process of an ``auto`` choice has at least.
MIN_CHUNKS_PER_PROCESS = 2
#: Candidates each process of an ``auto`` choice has at least (see the module docstring for the measurement).
MIN_CANDIDATES_PER_PROCESS = 500_000
#: Largest explicit number of worker processes.
MAX_WORKERS = 4096


@dataclass(frozen=True)
class WorkerPlan:
    """Processes and numba threads per process for a local run, with what was asked and why.

    Attributes
    ----------
    processes : int
        Worker processes (1: the run's own process).
    threads : int
        Numba threads per process.
    requested : int or "auto"
    cores : int
        Cores this process may run on.
    reason : str
        Why these numbers, in words.
    """

    processes: int
    threads: int
    requested: WorkersRequest
    cores: int
    reason: str

    def describe(self) -> str:
        """One line: what was chosen and why."""
        p, t = self.processes, self.threads
        chosen = f"{p} process{'es' if p != 1 else ''} x {t} numba thread{'s' if t != 1 else ''}"
        cores = f"{self.cores} core{'s' if self.cores != 1 else ''}"
        return f"workers {self.requested}: {chosen} on {cores} ({self.reason})"


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity set where the platform has one, else ``os.cpu_count()``."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:
            pass
    return max(1, os.cpu_count() or 1)


def check_workers(value: object, where: str = "--workers") -> WorkersRequest:
    """``value`` as a workers request: ``"auto"`` or an integer in 1..:data:`MAX_WORKERS`.

    Raises
    ------
    ConfigError
        Naming ``where``, the value and what was expected.
    """
    if value == AUTO:
        return AUTO
    expected = f"{where}: expected \"auto\" or an integer from 1 to {MAX_WORKERS}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{expected}, got {type(value).__name__} {value!r}")
    if not 1 <= value <= MAX_WORKERS:
        raise ConfigError(f"{expected}, got {value}")
    return value


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def plan_workers(requested: WorkersRequest, *, chunks: int, candidates: int, cores: int | None = None) -> WorkerPlan:
    """Processes and threads for ``chunks`` chunks of ``candidates`` candidates in all (see the module docstring).

    Parameters
    ----------
    requested : int or "auto"
    chunks : int
        Chunks left to score.
    candidates : int
        Candidates in those chunks.
    cores : int, optional
        Cores to share (default :func:`available_cores`).

    Returns
    -------
    WorkerPlan
    """
    request = check_workers(requested)
    cores = available_cores() if cores is None else max(1, int(cores))
    work = f"{_plural(chunks, 'chunk')}, {_plural(candidates, 'candidate')} to score"
    if request == AUTO:
        by_chunks = chunks // MIN_CHUNKS_PER_PROCESS
        by_size = candidates // MIN_CANDIDATES_PER_PROCESS
        processes = max(1, min(cores, by_chunks, by_size))
        if processes == cores:
            why = "one process per core" if cores > 1 else "one core"
        elif by_chunks <= by_size:
            why = (f"at least {MIN_CHUNKS_PER_PROCESS} chunks per process" if processes > 1 else
                   f"fewer than {2 * MIN_CHUNKS_PER_PROCESS} chunks: a second process would wait for them")
        else:
            why = (f"at least {MIN_CANDIDATES_PER_PROCESS:,} candidates per process to pay for its start-up"
                   if processes > 1 else f"fewer than 2 x {MIN_CANDIDATES_PER_PROCESS:,}: a second process would "
                   "cost more to start than it saves")
        reason = f"{work}; {why}"
    else:
        processes = min(request, max(1, chunks))
        notes = ["as asked"]
        if processes < request:
            notes.append(f"{_plural(chunks, 'chunk')} to score, so {processes} process{'es' if processes != 1 else ''}")
        if processes > cores:
            notes.append(f"{processes} processes oversubscribe {_plural(cores, 'core')}")
        reason = "; ".join(notes)
    threads = max(1, cores // processes)
    return WorkerPlan(processes, threads, request, cores, reason)
