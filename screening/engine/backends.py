"""Where chunks run: this process, local worker processes (joblib/loky), a Dask cluster (a LocalCluster
started for the run, or an existing scheduler by address or scheduler file), or a batch cluster started
through dask-jobqueue (SLURM, PBS: :mod:`magnetscreen.screening.engine.jobqueue`).

:func:`run_tasks` yields ``(task, ChunkResult)`` as chunks finish, in any order (the merge does not depend
on it), and fills a :class:`Usage` with what the run really ran on. Every chunk runs its numba kernels with
a set number of threads: on this machine the :class:`~magnetscreen.screening.engine.workers.WorkerPlan`'s
(processes x threads never above the cores for ``auto``); on a Dask LocalCluster cores // workers; on the
workers of an existing scheduler or a batch cluster the worker's own thread count (what its job or command
line gave it). Local worker processes watch their parent: a worker whose parent died (killed with SIGKILL,
say) exits instead of running on.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine.config import JOBQUEUE_KINDS, ClusterConfig
from magnetscreen.screening.engine.merge import score_group
from magnetscreen.screening.engine.pipeline import ChunkResult, Context
from magnetscreen.screening.engine.workers import WorkerPlan, WorkersRequest, available_cores, plan_workers

__all__ = ["Backend", "Usage", "run_tasks", "choose_backend", "check_backend"]

_WATCHDOG: dict[str, object] = {}
#: Seconds between two looks at a Dask scheduler's worker list while chunks run.
_CENSUS_INTERVAL_S = 2.0

#: A task: (family index, first chunk, number of chunks), scored and combined by one worker (:func:`score_group`).
Task = tuple[int, int, int]


@dataclass(frozen=True)
class Backend:
    """How a run executes.

    Attributes
    ----------
    kind : str
        The cluster kind: ``local`` (this process or joblib workers), ``dask`` (a LocalCluster or an existing
        scheduler), ``slurm`` or ``pbs``.
    workers, threads_per_worker : int
        Worker processes and numba threads per worker where the run decides them; 0 where the cluster does
        (an existing scheduler, a batch cluster: each worker then uses its own thread count).
    cluster : ClusterConfig
    plan : WorkerPlan, optional
        The choice behind ``workers`` and ``threads_per_worker`` of kind ``local``.
    """

    kind: str
    workers: int
    threads_per_worker: int
    cluster: ClusterConfig = ClusterConfig()
    plan: WorkerPlan | None = None

    @property
    def scheduler(self) -> str | None:
        """The scheduler a Dask run connects to: its address or scheduler file, or None (started for the run)."""
        c = self.cluster
        return c.address if c.address is not None else str(c.scheduler_file) if c.scheduler_file else None

    def describe(self) -> str:
        """One line for the log: what runs the chunks, and why."""
        if self.plan is not None:
            return self.plan.describe()
        c = self.cluster
        if c.local_workers is not None:
            return (f"cluster dask: a LocalCluster of {c.local_workers} worker process"
                    f"{'es' if c.local_workers != 1 else ''} x {self.threads_per_worker} numba thread"
                    f"{'s' if self.threads_per_worker != 1 else ''} ({c.source})")
        if self.kind == "dask":
            return f"cluster dask: the workers of the scheduler {self.scheduler}, numba threads = each worker's threads"
        size = f"{c.jobs} job{'s' if c.jobs != 1 else ''}" if c.jobs is not None else (
            f"{c.minimum_jobs or 0} to {c.maximum_jobs} jobs (adaptive)")
        processes = f" as {c.processes} Dask worker processes" if c.processes is not None else ""
        return (f"cluster {self.kind}: {size} of {c.cores} cores{processes} through dask-jobqueue, numba threads = "
                "each worker's threads")


@dataclass
class Usage:
    """What a run's chunks really ran on, filled in by :func:`run_tasks`.

    Attributes
    ----------
    workers : int
        Worker processes: 1 for this process, the joblib processes started, or for Dask the most workers
        the scheduler had at once while the run worked.
    threads_per_worker : int
        Numba threads the chunks ran their kernels with (the largest, if workers differ); 0 until a chunk ran.
    scheduler : str, optional
        The Dask scheduler's address (``LocalCluster`` or a batch cluster's scheduler included).
    """

    workers: int = 0
    threads_per_worker: int = 0
    scheduler: str | None = None
    _threads_seen: set[int] = field(default_factory=set, repr=False)

    def ran_with(self, threads: int) -> None:
        """Record that a chunk ran its kernels with ``threads`` numba threads."""
        self._threads_seen.add(threads)
        self.threads_per_worker = max(self._threads_seen)

    @property
    def mixed_threads(self) -> bool:
        """Whether chunks ran with different thread counts (workers of different sizes)."""
        return len(self._threads_seen) > 1


def choose_backend(workers: WorkersRequest, cluster: ClusterConfig, *, chunks: int, candidates: int,
                   cores: int | None = None) -> Backend:
    """The backend for ``cluster`` and, for kind ``local``, the worker plan for the work left.

    Parameters
    ----------
    workers : int or "auto"
        Local worker processes (kind ``local`` only).
    cluster : ClusterConfig
    chunks, candidates : int
        Chunks and candidates left to score.
    cores : int, optional
        Cores of this machine to share (default :func:`~magnetscreen.screening.engine.workers.available_cores`).

    Returns
    -------
    Backend
    """
    cores = available_cores() if cores is None else cores
    if cluster.kind == "local":
        plan = plan_workers(workers, chunks=chunks, candidates=candidates, cores=cores)
        return Backend("local", plan.processes, plan.threads, cluster, plan)
    if cluster.local_workers is not None:
        return Backend("dask", cluster.local_workers, max(1, cores // cluster.local_workers), cluster)
    return Backend(cluster.kind, 0, 0, cluster)


def check_backend(cluster: ClusterConfig) -> None:
    """Raise ConfigError now, before a run starts, if ``cluster`` needs a package that is not installed."""
    if cluster.kind == "local":
        return
    if cluster.kind in JOBQUEUE_KINDS:
        from magnetscreen.screening.engine.jobqueue import CLUSTER_CLASSES

        CLUSTER_CLASSES[cluster.kind]()
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


def _set_threads(threads: int) -> int:
    """Set this thread's numba thread count (capped by NUMBA_NUM_THREADS); returns the count in force."""
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    return int(numba.get_num_threads())


def _worker_setup(threads: int) -> int:
    applied = _set_threads(threads)
    if "thread" not in _WATCHDOG:
        parent = os.getppid()
        thread = threading.Thread(target=_watch_parent, args=(parent,), name="magnetscreen-parent-watch",
                                  daemon=True)
        thread.start()
        _WATCHDOG["thread"] = thread
    return applied


def _worker_task(ctx: Context, task: Task, threads: int) -> tuple[Task, ChunkResult, int]:
    applied = _worker_setup(threads)
    return task, score_group(ctx, *task), applied


def _same(ctx: Context) -> Context:
    return ctx


def _dask_task(ctx: Context, task: Task, threads: int) -> tuple[Task, ChunkResult, int]:
    """Score a task's chunks on a Dask worker, with ``threads`` numba threads (0: the worker's own thread count)."""
    if threads <= 0:
        from distributed import get_worker

        threads = get_worker().state.nthreads
    applied = _set_threads(threads)
    return task, score_group(ctx, *task), applied


def run_tasks(ctx: Context, tasks: list[Task], backend: Backend, usage: Usage | None = None,
              log: Callable[[str], None] | None = None) -> Iterator[tuple[Task, ChunkResult]]:
    """Yield ``(task, result)`` as tasks finish, on ``backend``.

    Parameters
    ----------
    ctx : Context
    tasks : list of (family index, first chunk, number of chunks)
    backend : Backend
    usage : Usage, optional
        Filled in with the workers and threads the chunks really ran on.
    log : callable, optional
        Called with a line of progress worth telling (a run waiting for Dask workers to join).
    """
    usage = usage if usage is not None else Usage()
    if backend.kind != "local":
        yield from _run_dask(ctx, tasks, backend, usage, log)
        return
    if backend.workers <= 1 or len(tasks) <= 1:
        yield from _run_here(ctx, tasks, backend, usage)
        return
    from joblib import Parallel, delayed

    usage.workers = backend.workers
    parallel = Parallel(n_jobs=backend.workers, backend="loky", return_as="generator_unordered")
    for task, result, threads in parallel(delayed(_worker_task)(ctx, task, backend.threads_per_worker)
                                          for task in tasks):
        usage.ran_with(threads)
        yield task, result


def _run_here(ctx: Context, tasks: list[Task], backend: Backend, usage: Usage) -> Iterator[tuple[Task, ChunkResult]]:
    """Score the tasks in this process, with the plan's numba threads (the caller's count restored after)."""
    import numba

    usage.workers = 1
    previous = int(numba.get_num_threads())
    try:
        usage.ran_with(_set_threads(backend.threads_per_worker))
        for task in tasks:
            yield task, score_group(ctx, *task)
    finally:
        numba.set_num_threads(previous)


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
        import dask

        from magnetscreen.screening.engine.jobqueue import WORKER_CONFIG

        # the workers' configuration of batch jobs (profiler off); the nannies hand it to the workers they start
        with dask.config.set(WORKER_CONFIG):
            cluster = LocalCluster(n_workers=c.local_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
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


class _Census:
    """The most workers a Dask scheduler had at once, from ``client.scheduler_info()``, looked at every few
    seconds while the run works."""

    def __init__(self, client) -> None:
        self.client = client
        self.peak = 0
        self.last = float("-inf")

    def workers(self) -> int:
        try:
            info = self.client.scheduler_info(n_workers=-1)  # every worker (newer distributed lists 5 by default)
        except TypeError:  # older distributed: no n_workers, every worker listed
            info = self.client.scheduler_info()
        return len(info.get("workers", {}))

    def look(self, force: bool = False) -> int:
        now = time.monotonic()
        if force or now - self.last >= _CENSUS_INTERVAL_S:
            self.last = now
            self.peak = max(self.peak, self.workers())
        return self.peak


def _run_dask(ctx: Context, tasks: list[Task], backend: Backend, usage: Usage,
              log: Callable[[str], None] | None) -> Iterator[tuple[Task, ChunkResult]]:
    from distributed import as_completed

    client, cluster = _client(backend)
    try:
        usage.scheduler = str(client.scheduler.address)
        census = _Census(client)
        if census.look(force=True) == 0 and tasks and log is not None:
            log(f"waiting for Dask workers to join the scheduler at {usage.scheduler}")
        # the context goes to the cluster once, as the result of a task: unlike scatter, that waits for workers
        # a batch system starts later; each worker fetches it once
        shared = client.submit(_same, ctx, pure=False)
        futures = [client.submit(_dask_task, shared, task, backend.threads_per_worker, pure=False) for task in tasks]
        for future in as_completed(futures):
            task, result, threads = future.result()
            future.release()
            usage.ran_with(threads)
            usage.workers = census.look()
            yield task, result
        usage.workers = census.look(force=True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
