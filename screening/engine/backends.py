"""Where chunks run: this process, local worker processes (joblib/loky), a Dask cluster (a LocalCluster
started for the run, or an existing scheduler by address or scheduler file), or a batch cluster started
through dask-jobqueue (SLURM, PBS: :mod:`magnetscreen.screening.engine.jobqueue`).

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
from magnetscreen.screening.engine.config import JOBQUEUE_KINDS, ClusterConfig
from magnetscreen.screening.engine.pipeline import ChunkResult, Context, score_chunk

__all__ = ["Backend", "run_tasks", "choose_backend", "check_backend"]

_WATCHDOG: dict[str, object] = {}


@dataclass(frozen=True)
class Backend:
    """How a run executes.

    ``kind`` is the cluster kind: ``local`` (this process or joblib workers), ``dask`` (a LocalCluster or an
    existing scheduler), ``slurm`` or ``pbs``; ``workers`` and ``threads_per_worker`` are 0 where the
    cluster decides them (an existing scheduler, a batch cluster).
    """

    kind: str
    workers: int
    threads_per_worker: int
    cluster: ClusterConfig = ClusterConfig()

    @property
    def scheduler(self) -> str | None:
        """The scheduler a Dask run connects to: its address, scheduler file, or None (started for the run)."""
        c = self.cluster
        return c.address if c.address is not None else str(c.scheduler_file) if c.scheduler_file else None


def choose_backend(workers: int, cluster: ClusterConfig) -> Backend:
    """The backend for ``cluster``; numba threads share the cores among local worker processes."""
    cores = os.cpu_count() or 1
    if cluster.kind == "local":
        return Backend("local", workers, max(1, cores // workers) if workers > 1 else cores, cluster)
    if cluster.local_workers is not None:
        return Backend("dask", cluster.local_workers, max(1, cores // cluster.local_workers), cluster)
    return Backend(cluster.kind, 0, 0, cluster)


def check_backend(backend: Backend) -> None:
    """Raise ConfigError now, before a run starts, if ``backend`` needs a package that is not installed."""
    if backend.kind == "local":
        return
    if backend.kind in JOBQUEUE_KINDS:
        from magnetscreen.screening.engine.jobqueue import CLUSTER_CLASSES

        CLUSTER_CLASSES[backend.kind]()
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("the Dask backend needs dask[distributed]: pip install 'magnetscreen[dask]'") from None


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


def _same(ctx: Context) -> Context:
    return ctx


def _dask_task(ctx: Context, task: tuple[int, int], threads: int) -> tuple[tuple[int, int], ChunkResult]:
    if threads > 0:
        _set_threads(threads)
    return task, score_chunk(ctx, *task)


def run_tasks(ctx: Context, tasks: list[tuple[int, int]], backend: Backend
              ) -> Iterator[tuple[tuple[int, int], ChunkResult]]:
    """Yield ``(task, result)`` as tasks finish, on ``backend``."""
    if backend.kind != "local":
        yield from _run_dask(ctx, tasks, backend)
        return
    if backend.workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, score_chunk(ctx, *task)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=backend.workers, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(_worker_task)(ctx, task, backend.threads_per_worker) for task in tasks)


def _client(backend: Backend):
    """A Dask client for ``backend`` and the cluster started for it (None for an existing scheduler)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("the Dask backend needs dask[distributed]: pip install 'magnetscreen[dask]'") from None
    c = backend.cluster
    cluster = None
    if c.kind in JOBQUEUE_KINDS:
        from magnetscreen.screening.engine.jobqueue import start_cluster

        cluster = start_cluster(c, submit=True)
    elif c.local_workers is not None:
        cluster = LocalCluster(n_workers=c.local_workers, threads_per_worker=1, processes=True, dashboard_address=None)
    if cluster is not None:
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise
    try:
        if c.address is not None:
            return Client(c.address, timeout="20s"), None
        return Client(scheduler_file=str(c.scheduler_file), timeout="60s"), None
    except (OSError, TimeoutError) as exc:
        what = f"at {c.address}" if c.address is not None else f"of the scheduler file {c.scheduler_file}"
        raise ConfigError(f"{c.source}: cannot connect to the Dask scheduler {what} ({exc})") from None


def _run_dask(ctx: Context, tasks: list[tuple[int, int]], backend: Backend
              ) -> Iterator[tuple[tuple[int, int], ChunkResult]]:
    from distributed import as_completed

    client, cluster = _client(backend)
    try:
        # the context goes to the cluster once, as the result of a task: unlike scatter, that waits for workers
        # a batch system starts later; each worker fetches it once
        shared = client.submit(_same, ctx, pure=False)
        futures = [client.submit(_dask_task, shared, task, backend.threads_per_worker, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
