"""Where chunks run: this process, local worker processes (joblib/loky) or a Dask cluster.

:func:`run_tasks` yields ``(task, ChunkResult)`` as chunks finish, in any order (the merge does not depend
on it). Worker processes set numba's thread count so that processes x threads does not exceed the cores,
and watch their parent: a worker whose parent died (killed with SIGKILL, say) exits instead of running on.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine.pipeline import ChunkResult, Context, score_chunk

__all__ = ["Backend", "run_tasks", "choose_backend"]

_WATCHDOG: dict[str, object] = {}


@dataclass(frozen=True)
class Backend:
    """How a run executes: ``kind`` ``local`` (this process or joblib workers) or ``dask``."""

    kind: str
    workers: int
    threads_per_worker: int
    scheduler: str | None = None


def choose_backend(workers: int, scheduler: str | None, dask_workers: int | None) -> Backend:
    """The backend for the CLI/API options; numba threads share the cores among local worker processes."""
    cores = os.cpu_count() or 1
    if scheduler is not None:
        return Backend("dask", 0, 0, scheduler)
    if dask_workers is not None:
        return Backend("dask", dask_workers, max(1, cores // dask_workers))
    return Backend("local", workers, max(1, cores // workers) if workers > 1 else cores)


def _watch_parent(parent: int) -> None:
    """Exit this worker process soon after its parent process is gone."""
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def _set_threads(threads: int) -> None:
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]


def _worker_setup(threads: int) -> None:
    _set_threads(threads)
    if "thread" not in _WATCHDOG:
        parent = os.getppid()
        thread = threading.Thread(target=_watch_parent, args=(parent,), name="magnetscreen-parent-watch",
                                  daemon=True)
        thread.start()
        _WATCHDOG["thread"] = thread


def _worker_task(ctx: Context, task: tuple[int, int], threads: int) -> tuple[tuple[int, int], ChunkResult]:
    _worker_setup(threads)
    return task, score_chunk(ctx, *task)


def _dask_task(ctx: Context, task: tuple[int, int], threads: int) -> tuple[tuple[int, int], ChunkResult]:
    if threads > 0:
        _set_threads(threads)
    return task, score_chunk(ctx, *task)


def run_tasks(ctx: Context, tasks: list[tuple[int, int]], backend: Backend
              ) -> Iterator[tuple[tuple[int, int], ChunkResult]]:
    """Yield ``(task, result)`` as tasks finish, on ``backend``."""
    if backend.kind == "dask":
        yield from _run_dask(ctx, tasks, backend)
        return
    if backend.workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, score_chunk(ctx, *task)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=backend.workers, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(_worker_task)(ctx, task, backend.threads_per_worker) for task in tasks)


def _run_dask(ctx: Context, tasks: list[tuple[int, int]], backend: Backend
              ) -> Iterator[tuple[tuple[int, int], ChunkResult]]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("the Dask backend needs dask[distributed]: pip install 'magnetscreen[dask]'") from None
    cluster = None
    if backend.scheduler is None:
        cluster = LocalCluster(n_workers=backend.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(backend.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--scheduler {backend.scheduler}: cannot connect to the Dask scheduler "
                              f"({exc})") from None
    try:
        shared = client.scatter(ctx, broadcast=True)
        futures = [client.submit(_dask_task, shared, task, backend.threads_per_worker, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
