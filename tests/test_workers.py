"""Worker processes and numba threads: what ``workers = "auto"`` chooses, explicit numbers, and the numbers
the manifest records for local and Dask runs."""

from __future__ import annotations

import os

import numba
import pytest

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine import workers as w
from magnetscreen.screening.engine.config import parse_config
from magnetscreen.screening.runner import screen

RESULTS = ("ranked.parquet", "shortlist.csv", "explore.csv", "references.parquet")
NUMBA_THREADS = numba.config.NUMBA_NUM_THREADS


def fake_cores(monkeypatch, n):
    monkeypatch.setattr(os, "cpu_count", lambda: n)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(n)), raising=False)


SIZES = [(0, 0), (1, 5), (3, 3 * 65536), (3, 3_000_000), (4, 999_999), (4, 1_000_000), (13, 231_571),
         (40, 2_600_000), (459, 30_017_520), (5000, 10**9)]


@pytest.mark.parametrize("cores", [1, 2, 3, 4, 6, 8, 16, 48, 64, 128, 256])
@pytest.mark.parametrize("chunks, candidates", SIZES)
def test_auto_never_oversubscribes(monkeypatch, cores, chunks, candidates):
    fake_cores(monkeypatch, cores)
    plan = w.plan_workers("auto", chunks=chunks, candidates=candidates)
    p, t = plan.processes, plan.threads
    assert plan.cores == cores
    assert p >= 1 and t >= 1
    assert p * t <= cores, plan.describe()
    assert p * t > cores - p, plan.describe()  # and leaves no core unused that a thread could take
    # a second process only with chunks and work enough for it
    assert p == 1 or (chunks >= w.MIN_CHUNKS_PER_PROCESS * p and candidates >= w.MIN_CANDIDATES_PER_PROCESS * p)
    if chunks < 2 * w.MIN_CHUNKS_PER_PROCESS or candidates < 2 * w.MIN_CANDIDATES_PER_PROCESS:
        assert p == 1 and t == cores
    line = plan.describe()
    assert line.startswith("workers auto: ") and "\n" not in line and f"on {cores} core" in line


def test_auto_on_the_embedded_default_and_a_large_plan():
    small = w.plan_workers("auto", chunks=13, candidates=231_571, cores=2)
    assert (small.processes, small.threads) == (1, 2)
    assert "a second process would cost more to start than it saves" in small.reason
    large = w.plan_workers("auto", chunks=459, candidates=30_017_520, cores=64)
    assert (large.processes, large.threads) == (60, 1)
    assert "at least 500,000 candidates per process" in large.reason
    full = w.plan_workers("auto", chunks=459, candidates=30_017_520, cores=16)
    assert (full.processes, full.threads) == (16, 1) and full.reason.endswith("one process per core")


def test_explicit_numbers_are_kept(monkeypatch):
    fake_cores(monkeypatch, 4)
    plan = w.plan_workers(8, chunks=100, candidates=10**6)
    assert (plan.processes, plan.threads) == (8, 1)  # asked for: more processes than cores
    assert plan.describe() == "workers 8: 8 processes x 1 numba thread on 4 cores (as asked; 8 processes " \
                              "oversubscribe 4 cores)"
    assert (w.plan_workers(2, chunks=100, candidates=10).processes, w.plan_workers(2, chunks=100, candidates=10).threads
            ) == (2, 2)
    one_chunk = w.plan_workers(3, chunks=1, candidates=10**7)
    assert (one_chunk.processes, one_chunk.threads) == (1, 4) and "1 chunk to score, so 1 process" in one_chunk.reason


def test_cores_follow_the_affinity_set(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5, 9}, raising=False)
    assert w.available_cores() == 3
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert w.available_cores() == 64
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert w.available_cores() == 1


@pytest.mark.parametrize("value, message", [
    (0, '--workers: expected "auto" or an integer from 1 to 4096, got 0'),
    (5000, "got 5000"),
    ("many", "got str 'many'"),
    (2.0, "got float 2.0"),
    (True, "got bool True"),
])
def test_bad_requests_name_the_value(value, message):
    with pytest.raises(ConfigError) as info:
        w.check_workers(value)
    assert message in str(info.value)


def test_run_workers_in_the_config():
    base = {"families": [{"name": "MnBi"}]}
    assert parse_config(base, "c.toml").workers == "auto"
    assert parse_config({**base, "run": {"workers": "auto"}}, "c.toml").workers == "auto"
    assert parse_config({**base, "run": {"workers": 3}}, "c.toml").workers == 3
    with pytest.raises(ConfigError, match=r'c.toml: run.workers: expected "auto" or an integer from 1 to 4096, '
                                          r"got str 'Auto'"):
        parse_config({**base, "run": {"workers": "Auto"}}, "c.toml")
    from magnetscreen.screening import default_config

    assert default_config().workers == "auto"


# ------------------------------------------------------------------------------------- recorded numbers

def small_config(tmp_path):
    data = {"families": [{"name": "SmCo5"}, {"name": "MnBi"}], "run": {"chunk_size": 100},
            "supply": {"as_of": "2026-01-15"}}
    return parse_config(data, "t.toml", tmp_path)  # 4 chunks: SmCo5 231 candidates in 3, MnBi 5 in 1


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    result = screen(small_config(tmp), out=tmp / "run", report=False, workers=1)
    return result, {name: (tmp / "run" / name).read_bytes() for name in RESULTS}


def same_results(run_dir, expected):
    return all((run_dir / name).read_bytes() == expected[name] for name in RESULTS)


def test_manifest_records_auto_in_this_process(tmp_path, reference, capsys):
    cores = w.available_cores()
    result = screen(small_config(tmp_path), out=tmp_path / "run", report=False, quiet=False)
    t = result.manifest.timings
    assert (t.backend, t.workers, t.threads_per_worker, t.workers_requested) == (
        "local", 1, min(cores, NUMBA_THREADS), "auto")
    assert t.scheduler is None
    line = f"workers auto: 1 process x {cores} numba thread{'s' if cores != 1 else ''} on {cores} core"
    assert t.workers_note.startswith(line)
    err = capsys.readouterr().err
    assert f"magnetscreen: {t.workers_note}\n" in err
    assert same_results(tmp_path / "run", reference[1])
    screen(small_config(tmp_path), out=tmp_path / "quiet", report=False, quiet=True)
    assert "workers auto" not in capsys.readouterr().err


def test_manifest_records_joblib_processes_and_their_threads(tmp_path, reference):
    cores = w.available_cores()
    result = screen(small_config(tmp_path), out=tmp_path / "run", report=False, workers=2)
    t = result.manifest.timings
    assert (t.backend, t.workers, t.workers_requested) == ("local", 2, "2")
    assert t.threads_per_worker == min(max(1, cores // 2), NUMBA_THREADS)
    assert same_results(tmp_path / "run", reference[1])
    assert reference[0].manifest.timings.workers == 1  # workers=1: this process


def test_manifest_records_an_existing_schedulers_workers(tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    # in-process workers: two of 1 thread, so the numbers differ from this machine's defaults
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        result = screen(small_config(tmp_path), out=tmp_path / "run", report=False, scheduler=lc.scheduler_address)
    t = result.manifest.timings
    assert (t.backend, t.workers, t.threads_per_worker, t.workers_requested) == ("dask", 2, 1, None)
    assert t.scheduler == lc.scheduler_address
    assert same_results(tmp_path / "run", reference[1])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as lc:
        result = screen(small_config(tmp_path), out=tmp_path / "run2", report=False, scheduler=lc.scheduler_address)
    t = result.manifest.timings
    assert (t.workers, t.threads_per_worker) == (1, min(2, NUMBA_THREADS))  # numba threads = the worker's threads
    assert same_results(tmp_path / "run2", reference[1])


@pytest.mark.slow  # a LocalCluster of worker processes: about 15 s
def test_manifest_records_a_local_dask_clusters_workers(tmp_path, reference):
    pytest.importorskip("distributed")
    cores = w.available_cores()
    result = screen(small_config(tmp_path), out=tmp_path / "run", report=False, dask_workers=2)
    t = result.manifest.timings
    assert (t.backend, t.workers, t.workers_requested) == ("dask", 2, None)
    assert t.threads_per_worker == min(max(1, cores // 2), NUMBA_THREADS)
    assert t.scheduler.startswith("tcp://") and "LocalCluster of 2 worker processes" in t.workers_note
    assert same_results(tmp_path / "run", reference[1])


def test_scheduler_option_of_the_command(tmp_path, reference, capsys):
    distributed = pytest.importorskip("distributed")
    from magnetscreen.screening.cli import app

    path = tmp_path / "c.toml"
    path.write_text('families = [{ name = "SmCo5" }, { name = "MnBi" }]\n[run]\nchunk_size = 100\n'
                    '[supply]\nas_of = 2026-01-15\n')
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        code = app.main(["screen", str(path), "--scheduler", lc.scheduler_address, "--out", str(tmp_path / "run"),
                         "--no-report"])
    assert code == 0
    err = capsys.readouterr().err
    assert f"magnetscreen: cluster dask: the workers of the scheduler {lc.scheduler_address}" in err
    assert "on 2 dask workers x 1 numba thread)" in err
    assert same_results(tmp_path / "run", reference[1])
