"""``magnetscreen screen``: the main job, a streaming screening run with a ranked shortlist and report."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from magnetscreen.screening.engine.config import RunConfig

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``screen`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "screen", help="run a screening: rank candidates, write the shortlist and report",
        description="Enumerate, featurize, predict, apply the physics at the operating temperature, HREE "
        "intensity and supply risk, the requirements and the Pareto ranking, chunk by chunk; write "
        "ranked.parquet, shortlist.csv, explore.csv, references.parquet, manifest.json and report.html. "
        "A killed run restarted with the same command resumes.",
        epilog="examples: magnetscreen screen | magnetscreen screen examples/low-dy-2-14-1.toml --workers 2 | "
        "magnetscreen screen my.toml --dask-workers 4 | magnetscreen screen my.toml --scheduler tcp://host:8786 | "
        "magnetscreen screen my.toml --cluster slurm --cores 32 --memory 120GB --jobs 4 --print-job-script "
        "(docs/hpc.md)")
    p.add_argument("config", nargs="?", metavar="CONFIG.toml", help="run configuration (default: embedded default)")
    p.add_argument("--out", default=None, metavar="DIR", help="run directory (default: the config's output_dir)")
    p.add_argument("--workers", type=_workers, default=None, metavar="auto|N",
                   help="local worker processes (joblib): auto (the config's default) chooses processes and numba "
                   "threads from the cores and the size of the run, never more threads than cores; or N")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="override the config's chunk size")
    p.add_argument("--dask-workers", type=int, default=None, metavar="N",
                   help="start a Dask LocalCluster with N worker processes")
    c = p.add_argument_group("cluster", "where chunks run; each option overrides the config's [cluster] key of the "
                             "same name (docs/hpc.md)")
    c.add_argument("--cluster", default=None, choices=("local", "dask", "slurm", "pbs"),
                   help="local: joblib on this machine; dask: an existing scheduler; slurm, pbs: batch jobs of Dask "
                   "workers through dask-jobqueue (pip install 'magnetscreen[hpc]')")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address (multi-node)")
    c.add_argument("--scheduler-file", default=None, metavar="FILE",
                   help="the file `dask scheduler --scheduler-file FILE` wrote (multi-node)")
    c.add_argument("--queue", default=None, help="slurm partition / pbs queue")
    c.add_argument("--account", default=None, help="account charged for the batch jobs")
    c.add_argument("--cores", type=int, default=None, metavar="N", help="cores per batch job")
    c.add_argument("--processes", type=int, default=None, metavar="N", help="Dask worker processes per batch job")
    c.add_argument("--memory", default=None, metavar="SIZE", help="memory per batch job, e.g. 120GB")
    c.add_argument("--walltime", default=None, metavar="TIME", help="time limit of each batch job, e.g. 02:00:00")
    c.add_argument("--prologue", action="append", default=None, metavar="LINE",
                   help="a shell line the job script runs before the workers start (repeatable)")
    c.add_argument("--interface", default=None, metavar="NAME", help="network interface, e.g. ib0")
    c.add_argument("--jobs", type=int, default=None, metavar="N", help="a fixed number of batch jobs")
    c.add_argument("--minimum-jobs", type=int, default=None, metavar="N", help="adaptive: at least N batch jobs")
    c.add_argument("--maximum-jobs", type=int, default=None, metavar="N", help="adaptive: at most N batch jobs")
    c.add_argument("--print-job-script", action="store_true",
                   help="print the job script dask-jobqueue would submit and exit (runs and submits nothing)")
    p.add_argument("--models", default=None, metavar="DIR", help="model folder (default: the shipped models)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="numba's cache folder (sets NUMBA_CACHE_DIR for this run and its local workers; "
                   "magnetscreen warmup fills it ahead of time)")
    p.add_argument("--max-candidates", type=int, default=None, metavar="N",
                   help="refuse a plan of more candidates (default: the config's [run] max_candidates, 10^9)")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)
    return p


def _workers(text: str) -> int | str:
    """``--workers``: "auto" or an integer (its range is checked by the run, which names the option)."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected "auto" or an integer, got {text!r}') from None


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from magnetscreen.screening.engine.numba_cache import use_cache_dir

    if args.cache_dir is not None:
        use_cache_dir(args.cache_dir)  # before anything imports numba
    from magnetscreen.screening.engine.config import config_for_command, with_cluster_options

    config = with_cluster_options(
        config_for_command(args.config, args.chunk_size), kind=args.cluster, scheduler=args.scheduler,
        scheduler_file=args.scheduler_file, dask_workers=args.dask_workers, prologue=args.prologue, queue=args.queue,
        account=args.account, cores=args.cores, processes=args.processes, memory=args.memory, walltime=args.walltime,
        interface=args.interface, jobs=args.jobs, minimum_jobs=args.minimum_jobs, maximum_jobs=args.maximum_jobs)
    if args.print_job_script:
        return _print_job_script(config, args.quiet)

    from magnetscreen.screening.runner import screen

    result = screen(config, out=Path(args.out) if args.out else None, workers=args.workers, models_dir=args.models,
                    quiet=args.quiet, report=not args.no_report, max_candidates=args.max_candidates)
    if not args.quiet:
        counts, timings = result.manifest.counts, result.manifest.timings
        assert counts is not None and timings is not None
        print(f"screened {counts.enumerated} candidates in {timings.total_s:.1f} s "
              f"({timings.candidates_per_s or 0:,.0f}/s in the loop on {timings.workers} {timings.backend} worker"
              f"{'s' if timings.workers != 1 else ''} x {timings.threads_per_worker} numba thread"
              f"{'s' if timings.threads_per_worker != 1 else ''}); {counts.passed} met the requirements; "
              f"{counts.survivors} ranked", file=sys.stderr)
        show = ["rank", "front", "formula", "family", result.manifest.config.metric, "hree_g_per_kg",
                "risk_value", "risk_value_driver", "cost_usd_per_kg", "controlled_elements", "in_domain"]
        head = result.shortlist.head(10)
        if len(head):
            import pandas as pd

            with pd.option_context("display.width", 200, "display.max_columns", None,
                                   "display.float_format", "{:.4g}".format):
                print(head[show].to_string(index=False))
        else:
            print("no candidate met every requirement; see manifest.json counts.removed_by", file=sys.stderr)
        print(f"results in {result.run_dir}/ (shortlist.csv, ranked.parquet, explore.csv, manifest.json"
              + (", report.html)" if "report" in result.manifest.outputs else ")"), file=sys.stderr)
    return 0


def _print_job_script(config: RunConfig, quiet: bool) -> int:
    """Print the batch job script of the run's slurm/pbs cluster; nothing is run or submitted."""
    from magnetscreen.datasets.errors import ConfigError
    from magnetscreen.screening.engine.config import JOBQUEUE_KINDS
    from magnetscreen.screening.engine.jobqueue import job_script

    if config.cluster.kind not in JOBQUEUE_KINDS:
        raise ConfigError(f"--print-job-script: needs a batch cluster (--cluster slurm or pbs, or [cluster] kind in "
                          f"the config), this run's cluster kind is {config.cluster.kind!r}")
    print(job_script(config.cluster), end="")
    if not quiet:
        print("(the scheduler address above is that of a temporary scheduler; a run starts its own)", file=sys.stderr)
    return 0
