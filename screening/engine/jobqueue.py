"""Batch-system clusters through dask-jobqueue: a ``[cluster]`` of kind ``slurm`` or ``pbs`` becomes a
``dask_jobqueue.SLURMCluster`` or ``PBSCluster``.

Nothing of the batch system is re-implemented here: the settings are passed under dask-jobqueue's own
argument names (``queue``, ``account``, ``cores``, ``processes``, ``memory``, ``walltime``,
``job_script_prologue``, ``interface``; ``account`` and ``job_script_prologue`` exist since dask-jobqueue
0.8.1), settings left out keep dask-jobqueue's defaults from its ``jobqueue.yaml``, and the job script is
the one dask-jobqueue writes. dask-jobqueue is an optional dependency (the ``hpc`` extra).

Constructing a cluster object starts a Dask scheduler in this process and submits nothing; jobs are
submitted only by :func:`start_cluster` with ``submit=True`` (``scale`` or ``adapt``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine.config import JOBQUEUE_KINDS, ClusterConfig

__all__ = ["CLUSTER_CLASSES", "EXTRA", "WORKER_CONFIG", "WORKER_ENVIRONMENT", "cluster_arguments", "start_cluster",
           "job_script"]

#: The optional-dependency extra that installs dask-jobqueue.
EXTRA = "hpc"

#: Dask configuration of the workers a run starts: the statistical profiler off. It samples each worker's stack
#: every 10 ms, which holds the interpreter lock against the chunks' numpy code; on the 2-core development machine
#: the chunks' compute time summed over a 10^6-candidate run fell from 7.1-7.6 s to 6.8-6.9 s without it
#: (docs/benchmarks.md).
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
#: The same as environment variables (Dask's ``DASK_`` + key with ``.`` as ``__``), exported in every batch job
#: after the user's own prologue lines.
WORKER_ENVIRONMENT = {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
                      for key, value in WORKER_CONFIG.items()}


def _dask_jobqueue() -> Any:
    try:
        import dask_jobqueue
    except ImportError:
        raise ConfigError(f"a slurm or pbs cluster needs dask-jobqueue, which is not installed: "
                          f"pip install 'magnetscreen[{EXTRA}]'") from None
    return dask_jobqueue


#: The dask-jobqueue class of each batch kind, looked up when a cluster starts.
CLUSTER_CLASSES: dict[str, Callable[[], type]] = {
    "slurm": lambda: _dask_jobqueue().SLURMCluster,
    "pbs": lambda: _dask_jobqueue().PBSCluster,
}


def cluster_arguments(cluster: ClusterConfig) -> dict[str, Any]:
    """Keyword arguments of the dask-jobqueue cluster class for ``cluster`` (only the settings it gives).

    Parameters
    ----------
    cluster : ClusterConfig
        Of kind ``slurm`` or ``pbs``.

    Returns
    -------
    dict
        ``cores`` and ``memory``; ``processes``, ``queue``, ``account``, ``walltime`` and ``interface`` where
        set; ``job_script_prologue``: the configured shell lines, then an ``export`` of each
        :data:`WORKER_ENVIRONMENT` variable.
    """
    if cluster.kind not in JOBQUEUE_KINDS:
        raise ConfigError(f"{cluster.source}: a batch job needs kind 'slurm' or 'pbs', got {cluster.kind!r}")
    args: dict[str, Any] = {"cores": cluster.cores, "memory": cluster.memory}
    for key in ("processes", "queue", "account", "walltime", "interface"):
        value = getattr(cluster, key)
        if value is not None:
            args[key] = value
    args["job_script_prologue"] = [*cluster.job_script_prologue,
                                   *(f"export {k}={v}" for k, v in WORKER_ENVIRONMENT.items())]
    return args


def start_cluster(cluster: ClusterConfig, *, submit: bool) -> Any:
    """The dask-jobqueue cluster of ``cluster``; with ``submit``, its jobs are asked for.

    Parameters
    ----------
    cluster : ClusterConfig
        Of kind ``slurm`` or ``pbs``.
    submit : bool
        True: ``scale(jobs=jobs)``, or ``adapt(minimum_jobs=..., maximum_jobs=...)`` for adaptive limits.
        False: nothing is submitted (for :func:`job_script`).

    Returns
    -------
    dask_jobqueue.JobQueueCluster
        Running its scheduler in this process; close it when done (that cancels its jobs).

    Raises
    ------
    ConfigError
        dask-jobqueue is not installed (naming the extra), or it refused the settings (naming them).
    """
    args = cluster_arguments(cluster)
    cls = CLUSTER_CLASSES[cluster.kind]()
    try:
        instance = cls(**args)
    except (ValueError, TypeError, RuntimeError) as exc:  # e.g. an interface this machine does not have
        raise ConfigError(f"{cluster.source}: dask-jobqueue's {cls.__name__} refused "
                          f"{', '.join(f'{k}={v!r}' for k, v in args.items())}: {exc}") from None
    if submit:
        try:
            if cluster.jobs is not None:
                instance.scale(jobs=cluster.jobs)
            else:
                instance.adapt(minimum_jobs=cluster.minimum_jobs or 0, maximum_jobs=cluster.maximum_jobs)
        except BaseException:
            instance.close()
            raise
    return instance


def job_script(cluster: ClusterConfig) -> str:
    """The job script dask-jobqueue would submit for ``cluster``, without submitting anything.

    The script names the scheduler address of a temporary scheduler started to build it; a run starts its
    own scheduler, so the address in a run's jobs differs.

    Parameters
    ----------
    cluster : ClusterConfig
        Of kind ``slurm`` or ``pbs``.

    Returns
    -------
    str
        ``cluster.job_script()`` of the dask-jobqueue cluster object.
    """
    instance = start_cluster(cluster, submit=False)
    try:
        return str(instance.job_script())
    finally:
        instance.close()
