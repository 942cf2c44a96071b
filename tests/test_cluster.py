"""Cluster configurations: the [cluster] table and its command-line options, the job scripts dask-jobqueue
writes for them, and runs on a cluster started for the run."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.cli import app as cli
from magnetscreen.screening.engine import jobqueue
from magnetscreen.screening.engine.config import parse_config, with_cluster_options

dask_jobqueue = pytest.importorskip("dask_jobqueue")

PROLOGUE = ["module load python/3.11", "export NUMBA_CACHE_DIR=$HOME/.cache/magnetscreen-numba"]
PROFILER_OFF = "export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False"


def batch_table(kind, **overrides):
    table = {"kind": kind, "queue": "short", "account": "magnets", "cores": 16, "processes": 4, "memory": "64GB",
             "walltime": "00:45:00", "job_script_prologue": PROLOGUE, "jobs": 2}
    table.update(overrides)
    return table


def config(cluster, tmp_path=None, source="cfg.toml"):
    data = {"families": [{"name": "MnBi"}], "supply": {"as_of": "2026-01-15"}}
    if cluster is not None:
        data["cluster"] = cluster
    return parse_config(data, source, tmp_path)


def without_address(script):
    """The job script with the (per-scheduler) address replaced, so two clusters' scripts compare."""
    return re.sub(r"tcp://[0-9A-Za-z.\-\[\]:]+", "SCHEDULER", script)


# ------------------------------------------------------------------------------------------ job scripts

@pytest.mark.parametrize("kind, cls, expected_lines", [
    ("slurm", "SLURMCluster", ["#SBATCH -p short", "#SBATCH -A magnets", "#SBATCH --cpus-per-task=16",
                               "#SBATCH --mem=60G", "#SBATCH -t 00:45:00"]),
    ("pbs", "PBSCluster", ["#PBS -q short", "#PBS -A magnets", "#PBS -l select=1:ncpus=16:mem=60GB",
                           "#PBS -l walltime=00:45:00"]),
])
def test_job_script_is_dask_jobqueues_own_for_the_config(kind, cls, expected_lines):
    ours = jobqueue.job_script(config(batch_table(kind)).cluster)
    reference = getattr(dask_jobqueue, cls)(queue="short", account="magnets", cores=16, processes=4, memory="64GB",
                                            walltime="00:45:00", job_script_prologue=PROLOGUE + [PROFILER_OFF])
    try:
        theirs = reference.job_script()
    finally:
        reference.close()
    assert without_address(ours) == without_address(theirs)
    lines = ours.splitlines()
    for line in expected_lines + PROLOGUE + [PROFILER_OFF]:
        assert line in lines, (line, ours)
    assert lines.index(PROLOGUE[-1]) < lines.index(PROFILER_OFF)  # after the user's own lines
    assert "--nworkers 4" in ours and "--nthreads 4" in ours


def test_job_script_submits_nothing_and_closes_its_cluster(tmp_path, monkeypatch, capsys):
    made, requests = [], []

    class Recording(dask_jobqueue.SLURMCluster):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            made.append(self)

        def scale(self, n=None, jobs=0, **kwargs):
            requests.append((n, jobs))  # close() scales to 0
            return super().scale(n, jobs=jobs, **kwargs)

        def adapt(self, *args, **kwargs):
            raise AssertionError("printing a job script must not make the cluster adaptive")

    monkeypatch.setitem(jobqueue.CLUSTER_CLASSES, "slurm", lambda: Recording)
    path = tmp_path / "c.toml"
    path.write_text('families = [{ name = "MnBi" }]\n[cluster]\nkind = "slurm"\ncores = 4\nmemory = "8GB"\n'
                    'minimum_jobs = 1\nmaximum_jobs = 3\n')
    assert cli.main(["screen", str(path), "--print-job-script", "--queue", "debug", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "#SBATCH -p debug" in out and "#SBATCH --cpus-per-task=4" in out
    (cluster,) = made
    assert cluster.status.name == "closed"
    assert all(not n and not jobs for n, jobs in requests), requests  # no job was ever asked for
    assert not (tmp_path / "run").exists()


def test_print_job_script_through_the_command(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('families = [{ name = "MnBi" }]\n[cluster]\nkind = "pbs"\nqueue = "workq"\naccount = "mag"\n'
                    'cores = 8\nmemory = "16GB"\nwalltime = "01:30:00"\njobs = 1\n'
                    'job_script_prologue = ["source /opt/venv/bin/activate"]\n')
    cmd = [sys.executable, "-m", "magnetscreen.screening.cli", "screen", str(path), "--print-job-script"]
    result = subprocess.run(cmd + ["--walltime", "02:00:00", "--prologue", "ulimit -n 4096", "--quiet"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    for line in ("#PBS -q workq", "#PBS -A mag", "#PBS -l walltime=02:00:00", "ulimit -n 4096"):
        assert line in lines, (line, result.stdout)
    assert "source /opt/venv/bin/activate" not in lines  # --prologue replaces the file's lines
    assert result.stderr == "" and sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]
    local = subprocess.run(cmd + ["--cluster", "local"], capture_output=True, text=True, cwd=tmp_path)
    assert local.returncode == 2
    assert local.stderr.strip().splitlines() == [
        "magnetscreen screen: error: --print-job-script: needs a batch cluster (--cluster slurm or pbs, or [cluster] "
        "kind in the config), this run's cluster kind is 'local'"]


def test_a_missing_dask_jobqueue_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import dask_jobqueue raises ImportError
    with pytest.raises(ConfigError, match=r"needs dask-jobqueue, which is not installed: pip install "
                                          r"'magnetscreen\[hpc\]'"):
        jobqueue.job_script(config(batch_table("slurm")).cluster)


def test_dask_jobqueue_refusals_are_config_errors():
    cluster = config(batch_table("slurm", interface="no-such-interface0")).cluster
    with pytest.raises(ConfigError, match=r"cfg.toml: cluster: dask-jobqueue's SLURMCluster refused .*"
                                          r"interface='no-such-interface0'.*not a valid network interface"):
        jobqueue.job_script(cluster)


# ------------------------------------------------------------------------------------------- the table

def test_cluster_defaults_and_values(tmp_path):
    assert config(None).cluster.kind == "local"
    c = config(batch_table("slurm", interface="ib0"), tmp_path).cluster
    assert (c.kind, c.queue, c.account, c.cores, c.processes, c.memory, c.walltime, c.interface, c.jobs) == (
        "slurm", "short", "magnets", 16, 4, "64GB", "00:45:00", "ib0", 2)
    assert c.job_script_prologue == tuple(PROLOGUE)
    assert jobqueue.cluster_arguments(c) == {
        "cores": 16, "memory": "64GB", "processes": 4, "queue": "short", "account": "magnets",
        "walltime": "00:45:00", "interface": "ib0", "job_script_prologue": PROLOGUE + [PROFILER_OFF]}
    adaptive = config(batch_table("pbs", jobs=None, maximum_jobs=5), tmp_path).cluster
    assert (adaptive.jobs, adaptive.minimum_jobs, adaptive.maximum_jobs) == (None, None, 5)
    dask_file = config({"kind": "dask", "scheduler_file": "sched.json"}, tmp_path).cluster
    assert dask_file.scheduler_file == tmp_path / "sched.json"
    assert config({"kind": "dask", "address": "tcp://10.1.2.3:8786"}).cluster.address == "tcp://10.1.2.3:8786"


def _drop(table, *keys):
    return {k: v for k, v in table.items() if k not in keys}


@pytest.mark.parametrize("table, fragment", [
    ({"kind": "lsf"}, "cfg.toml: cluster.kind: expected one of 'local', 'dask', 'slurm', 'pbs', got 'lsf'"),
    ({"kind": "local", "queue": "short"}, "cfg.toml: cluster.queue: not a setting of kind 'local' (a setting of "
                                          "kind 'slurm' and 'pbs'; kind 'local' takes no other key)"),
    ({"kind": "local", "nodes": 2}, "cfg.toml: cluster.nodes: unknown key 'nodes' (allowed here: kind)"),
    ({"kind": "dask"}, "cfg.toml: cluster: kind 'dask' takes exactly one of 'address'"),
    ({"kind": "dask", "address": "tcp://h:1", "scheduler_file": "s.json"}, "got both"),
    ({"kind": "dask", "address": "my-laptop"}, "cluster.address: expected a Dask scheduler address such as "
                                               "'tcp://10.0.0.1:8786' (schemes: tcp, tls, inproc, ucx, ws, wss), "
                                               "got 'my-laptop'"),
    ({"kind": "dask", "address": "http://h:8786"}, "got 'http://h:8786'"),
    ({"kind": "dask", "address": "tcp://h:1", "cores": 4}, "cluster.cores: not a setting of kind 'dask'"),
    (_drop(batch_table("slurm"), "cores"), "cfg.toml: cluster.cores: missing required key"),
    (_drop(batch_table("slurm"), "memory"), "cfg.toml: cluster.memory: missing required key"),
    (batch_table("slurm", cores=0), "cluster.cores: expected an integer >= 1, got 0"),
    (batch_table("slurm", cores="16"), "cluster.cores: expected an integer, got str '16'"),
    (batch_table("slurm", processes=3), "cluster.processes: expected a divisor of cores = 16 (each Dask worker "
                                        "process gets cores / processes threads), got 3"),
    (batch_table("slurm", memory="64 gigs"), "cluster.memory: expected the memory per job such as '64GB' or "
                                             "'120 GiB', got '64 gigs'"),
    (batch_table("slurm", memory=64), "cluster.memory: expected a string, got int 64"),
    (batch_table("slurm", walltime="2h"), "cluster.walltime: expected a slurm time limit such as 'MM', "
                                          "'HH:MM:SS' or 'D-HH:MM:SS', got '2h'"),
    (batch_table("pbs", walltime="1-00:00:00"), "cluster.walltime: expected a pbs time limit such as 'SS', "
                                                "'MM:SS' or 'HH:MM:SS', got '1-00:00:00'"),
    (batch_table("slurm", queue=""), "cluster.queue: expected a non-empty string, got ''"),
    (batch_table("slurm", job_script_prologue="module load python"),
     "cluster.job_script_prologue: expected an array, got str 'module load python'"),
    (batch_table("slurm", job_script_prologue=["module load python", 3]),
     "cluster.job_script_prologue: expected an array of single-line shell commands, item 1 is 3"),
    (batch_table("slurm", job_script_prologue=["a\nb"]), "item 0 is 'a\\nb'"),
    (_drop(batch_table("slurm"), "jobs"), "cluster.jobs: kind 'slurm' needs the number of batch jobs"),
    (batch_table("slurm", maximum_jobs=4), "cluster.jobs: give either jobs = N (a fixed number of batch jobs) or "
                                           "maximum_jobs (and minimum_jobs: an adaptive cluster), not both; got "
                                           "jobs = 2 and maximum_jobs = 4"),
    (batch_table("slurm", jobs=None, minimum_jobs=1), "cfg.toml: cluster.maximum_jobs: an adaptive cluster "
                                                      "(minimum_jobs = 1) needs maximum_jobs too"),
    (batch_table("slurm", jobs=None, minimum_jobs=5, maximum_jobs=2),
     "cluster.minimum_jobs: expected at most maximum_jobs = 2, got 5"),
    (batch_table("slurm", jobs=0), "cluster.jobs: expected an integer >= 1, got 0"),
    (batch_table("pbs", partition="short"), "cluster.partition: unknown key 'partition'"),
    (batch_table("pbs", address="tcp://h:1"), "cluster.address: not a setting of kind 'pbs'"),
])
def test_bad_cluster_tables_name_file_key_value_and_expectation(table, fragment):
    with pytest.raises(ConfigError) as info:
        config({k: v for k, v in table.items() if v is not None})
    assert fragment in str(info.value), str(info.value)


# ------------------------------------------------------------------------------------ command-line options

def test_options_override_the_table_and_replace_its_alternatives(tmp_path):
    base = config(batch_table("slurm"), tmp_path)
    c = with_cluster_options(base, queue="debug", maximum_jobs=6, minimum_jobs=1, prologue=["set -e"]).cluster
    assert (c.queue, c.jobs, c.minimum_jobs, c.maximum_jobs, c.job_script_prologue) == ("debug", None, 1, 6,
                                                                                        ("set -e",))
    assert c.account == "magnets" and c.cores == 16  # the file's other keys stay
    assert with_cluster_options(base).cluster == base.cluster
    assert with_cluster_options(base, jobs=3).cluster.jobs == 3
    fresh = with_cluster_options(base, kind="pbs", cores=8, memory="16GB", jobs=1).cluster
    assert (fresh.kind, fresh.queue, fresh.account, fresh.cores) == ("pbs", None, None, 8)  # another kind: from scratch
    assert with_cluster_options(base, kind="local").cluster.kind == "local"
    dask = with_cluster_options(base, scheduler="tcp://10.0.0.1:8786").cluster
    assert (dask.kind, dask.address) == ("dask", "tcp://10.0.0.1:8786")
    from_file = with_cluster_options(config({"kind": "dask", "address": "tcp://h:1"}), scheduler_file="s.json",
                                     base_dir=tmp_path).cluster
    assert (from_file.address, from_file.scheduler_file) == (None, tmp_path / "s.json")
    local = with_cluster_options(base, dask_workers=3).cluster
    assert (local.kind, local.local_workers, local.address) == ("dask", 3, None)


@pytest.mark.parametrize("table, options, message", [
    (batch_table("slurm"), {"cores": 0}, "--cores: expected an integer >= 1, got 0"),
    (batch_table("slurm"), {"processes": 5}, "--processes: expected a divisor of cores = 16"),
    (batch_table("slurm"), {"cores": 10}, "cfg.toml: cluster.processes: expected a divisor of cores = 10"),
    (batch_table("slurm"), {"walltime": "soon"}, "--walltime: expected a slurm time limit"),
    (batch_table("slurm"), {"memory": "a lot"}, "--memory: expected the memory per job such as '64GB'"),
    (batch_table("slurm"), {"minimum_jobs": 3}, "cfg.toml: cluster.maximum_jobs or --maximum-jobs: an adaptive cluster "
                                              "(minimum_jobs = 3) needs maximum_jobs too"),
    (batch_table("slurm"), {"kind": "pbs"}, "--cores (or [cluster] cores in the config file): missing required key"),
    (None, {"queue": "short"}, "--queue is a setting of --cluster slurm or pbs; this run's cluster kind is 'local'"),
    (None, {"kind": "dask"}, "command-line options: kind 'dask' takes exactly one of 'address'"),
    (None, {"scheduler": "laptop"}, "--scheduler: expected a Dask scheduler address such as 'tcp://10.0.0.1:8786'"),
    (None, {"scheduler": "tcp://h:1", "scheduler_file": "s.json"}, "give either --scheduler"),
    (None, {"scheduler": "tcp://h:1", "kind": "slurm"}, "--scheduler connects to an existing Dask scheduler (kind "
                                                         "'dask'); it does not go with --cluster slurm"),
    (None, {"dask_workers": 2, "scheduler": "tcp://h:1"}, "give either --scheduler/--scheduler-file (an existing Dask "
                                                           "cluster) or --dask-workers (a local one)"),
    (None, {"dask_workers": 2, "kind": "pbs"}, "--dask-workers starts a Dask cluster on this machine; it does not go "
                                               "with --cluster pbs"),
    (batch_table("slurm"), {"dask_workers": 2, "queue": "x"}, "it does not go with --queue"),
    (None, {"dask_workers": 0}, "--dask-workers: expected an integer >= 1, got 0"),
])
def test_bad_options_name_the_option(table, options, message):
    with pytest.raises(ConfigError) as info:
        with_cluster_options(config(table), **options)
    assert message in str(info.value), str(info.value)


def test_cluster_options_through_the_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "magnetscreen.screening.cli", "screen", "--cluster", "slurm",
                             "--cores", "-2", "--print-job-script"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "magnetscreen screen: error: --cores: expected an integer >= 1, got -2"]


# ----------------------------------------------------------------------------------------------- runs

@pytest.mark.slow  # a batch cluster whose jobs run on this machine: about 20 s
def test_a_batch_cluster_run_scales_and_matches_the_local_ranking(tmp_path, monkeypatch):
    """dask-jobqueue's LocalCluster runs the same job machinery with jobs as local processes."""
    from dask_jobqueue.local import LocalCluster as LocalJobCluster

    from magnetscreen.screening.runner import screen

    started = []

    class LocalBatch(LocalJobCluster):
        def __init__(self, account=None, **kwargs):  # local jobs take no account
            super().__init__(**kwargs)
            started.append(self)

    monkeypatch.setitem(jobqueue.CLUSTER_CLASSES, "slurm", lambda: LocalBatch)
    data = {"families": [{"name": "SmCo5"}, {"name": "MnBi"}], "run": {"chunk_size": 100},
            "supply": {"as_of": "2026-01-15"}}
    local = screen(parse_config(data, "t.toml", tmp_path), out=tmp_path / "local", report=False)
    batch_config = parse_config({**data, "cluster": {"kind": "slurm", "account": "x", "cores": 2, "processes": 1,
                                                     "memory": "2GB", "jobs": 1}}, "t.toml", tmp_path)
    batch = screen(batch_config, out=tmp_path / "batch", report=False)
    assert batch.manifest.timings.backend == "slurm"
    for name in ("ranked.parquet", "shortlist.csv", "explore.csv"):
        assert (tmp_path / "batch" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert len(started) == 1 and started[0].status.name == "closed"
    manifest = json.loads((tmp_path / "batch" / "manifest.json").read_text())
    assert manifest["timings"]["backend"] == "slurm" and len(local.ranked) > 0 and manifest["status"] == "complete"
    import numba

    # one job of 2 cores as 1 worker process: that worker's 2 threads are its chunks' numba threads
    assert (manifest["timings"]["workers"], manifest["timings"]["threads_per_worker"]) == (
        1, min(2, numba.config.NUMBA_NUM_THREADS))
    assert manifest["timings"]["scheduler"].startswith("tcp://")


def test_local_dask_workers_run_without_the_statistical_profiler():
    """The LocalCluster a run starts gives its workers jobqueue.WORKER_CONFIG (profiler off), as batch jobs get
    it through WORKER_ENVIRONMENT."""
    import dask

    from magnetscreen.screening.engine.backends import Backend, _client
    from magnetscreen.screening.engine.config import ClusterConfig

    assert jobqueue.WORKER_ENVIRONMENT == {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    assert dask.config.get("distributed.worker.profile.enabled") is True  # Dask's default, untouched here
    client, cluster = _client(Backend("dask", 1, 1, ClusterConfig(kind="dask", local_workers=1)))
    try:
        seen = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    finally:
        client.close()
        cluster.close()
    assert list(seen.values()) == [False]
    assert dask.config.get("distributed.worker.profile.enabled") is True
