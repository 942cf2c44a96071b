"""Warm start: the first-run notice on a cold numba cache, ``magnetscreen warmup``, the cache folder option
and the cache record in the manifest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine import numba_cache
from magnetscreen.screening.engine.warmup import warmup

ROOT = Path(__file__).resolve().parent.parent
NOTICE = "numba is compiling the screening's kernels"
CONFIG = 'families = [{ name = "SmCo5" }, { name = "MnBi" }]\n[run]\nchunk_size = 100\n[supply]\nas_of = 2026-01-15\n'


def command(*args):
    return [sys.executable, "-m", "magnetscreen.screening.cli", *args]


def environment(cache_dir=None):
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    return env


def wait_for_line(proc, fragment, timeout_s):
    """Lines of ``proc``'s stderr up to the first holding ``fragment`` (or all until it ends or times out)."""
    lines = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if fragment in line:
            break
    return lines


@pytest.fixture(scope="module")
def warm():
    """This session's numba cache, warm: the warm-up in this process (quick when the cache is warm already)."""
    return warmup()


def test_cold_cache_gets_a_one_line_notice_before_compiling(tmp_path):
    (tmp_path / "c.toml").write_text(CONFIG)
    proc = subprocess.Popen(command("screen", "c.toml", "--out", "run", "--no-report"), cwd=tmp_path,
                            env=environment(tmp_path / "empty-cache"), stderr=subprocess.PIPE, text=True)
    try:
        lines = wait_for_line(proc, NOTICE, 60)
    finally:
        proc.send_signal(signal.SIGKILL)  # the notice is all this test needs; the compile would take a minute
        proc.wait()
        proc.stderr.close()
    assert lines and NOTICE in lines[-1], lines
    notice = lines[-1]
    assert notice.startswith("magnetscreen: ") and notice.count("\n") == 1
    assert f"{sum(map(len, numba_cache.SCREENING_KERNELS.values()))} not in its cache at {tmp_path / 'empty-cache'}" \
        in notice
    assert "`magnetscreen warmup` does this ahead of time" in notice


def test_warm_cache_gets_no_notice_and_the_manifest_says_where_it_is(tmp_path, capsys, warm):
    from magnetscreen.screening.engine.config import parse_config
    from magnetscreen.screening.engine.loop import screen

    assert not warm.after.cold and numba_cache.cache_state() == warm.after
    config = parse_config({"families": [{"name": "MnBi"}], "supply": {"as_of": "2026-01-15"}}, "t.toml", tmp_path)
    result = screen(config, out=tmp_path / "run", quiet=False)
    err = capsys.readouterr().err
    assert "magnetscreen: workers auto" in err and NOTICE not in err
    record = json.loads((tmp_path / "run" / "manifest.json").read_text())["numba_cache"]
    assert record == {"cache_dir": warm.after.cache_dir, "folders": warm.after.folders, "cold": False, "missing": []}
    assert result.manifest.numba_cache.folders == warm.after.folders


def test_the_notice_follows_quiet(tmp_path, monkeypatch, capsys, warm):
    from magnetscreen.screening.engine import loop
    from magnetscreen.screening.engine.config import parse_config

    cold = numba_cache.CacheState(cache_dir="/nowhere", folders=["/nowhere/x"], missing=["models.tree_kernels.x"])
    monkeypatch.setattr(loop, "cache_state", lambda: cold)
    config = parse_config({"families": [{"name": "MnBi"}], "supply": {"as_of": "2026-01-15"}}, "t.toml", tmp_path)
    loud = loop.screen(config, out=tmp_path / "loud", quiet=False)
    err = capsys.readouterr().err
    assert err.count(NOTICE) == 1 and "1 not in its cache at /nowhere" in err
    assert loud.manifest.numba_cache.cold and loud.manifest.numba_cache.missing == ["models.tree_kernels.x"]
    loop.screen(config, out=tmp_path / "quiet", quiet=True)
    assert NOTICE not in capsys.readouterr().err


@pytest.mark.slow  # a fresh process that imports the stack, loads the kernels and screens: 6-12 s here
def test_a_screening_in_a_fresh_process_on_a_warm_cache_is_quiet_and_loads_exactly_the_listed_kernels(tmp_path,
                                                                                                       warm):
    """No notice from the command on a warm cache, and the list the cold check reads is the list of kernels a
    screening calls (every kernel module scanned)."""
    rooms = ("datasets", "descriptors", "models", "screening")
    modules = sorted("magnetscreen." + ".".join(p.relative_to(ROOT).with_suffix("").parts)
                     for room in rooms for p in (ROOT / room).rglob("*_kernels.py"))
    (tmp_path / "c.toml").write_text(CONFIG)
    script = f"""
import importlib, json
from numba.core.dispatcher import Dispatcher
from magnetscreen.screening.cli import app
assert app.main(["screen", "c.toml", "--out", "run", "--no-report"]) == 0
loaded = []
for name in {modules!r}:
    module = importlib.import_module(name)
    loaded += [name.split(".", 1)[1] + "." + k for k, v in vars(module).items()
               if isinstance(v, Dispatcher) and v.signatures]
print(json.dumps(sorted(loaded)))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert NOTICE not in result.stderr and "magnetscreen: workers auto" in result.stderr
    listed = sorted(f"{m}.{k}" for m, names in numba_cache.SCREENING_KERNELS.items() for k in names)
    assert len(modules) == 10
    assert json.loads(result.stdout.splitlines()[-1]) == listed
    record = json.loads((tmp_path / "run" / "manifest.json").read_text())["numba_cache"]
    assert record == {"cache_dir": warm.after.cache_dir, "folders": warm.after.folders, "cold": False, "missing": []}


def test_cache_dir_option_is_set_before_numba_loads_and_checked(tmp_path):
    script = ("import sys; from magnetscreen.screening.cli import app; "
              "app.build_parser().parse_args(['warmup', '--cache-dir', 'x']); print('numba' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout.strip() == "False"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"--cache-dir .*a-file/cache: cannot create the folder"):
        numba_cache.use_cache_dir(blocker / "cache")
    # numba is loaded in this test process: another folder can no longer take effect
    with pytest.raises(ConfigError, match=r"numba is already loaded in this process with cache folder"):
        numba_cache.use_cache_dir(tmp_path / "elsewhere")


@pytest.mark.slow  # compiles every kernel into an empty cache: about a minute
def test_warmup_fills_an_empty_cache_and_the_next_screening_is_quiet(tmp_path):
    cache = tmp_path / "numba cache"  # a space in the path on purpose
    (tmp_path / "c.toml").write_text(CONFIG)
    result = subprocess.run(command("warmup", "--cache-dir", str(cache)), cwd=tmp_path, env=environment(),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    kernels = sum(map(len, numba_cache.SCREENING_KERNELS.values()))
    assert lines[0] == f"numba cache: {cache}"
    assert lines[1].startswith(f"compiled {kernels} of {kernels} kernels in ") and " s (a screening of " in lines[1]
    assert sorted(p.name.split("_")[0] for p in cache.iterdir()) == ["descriptors", "engine", "models"]
    again = subprocess.run(command("warmup", "--cache-dir", str(cache)), cwd=tmp_path, env=environment(),
                           capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout.splitlines()[1].startswith(f"loaded {kernels} kernels from the cache")
    run = subprocess.run(command("screen", "c.toml", "--out", "run", "--no-report", "--cache-dir", str(cache)),
                         cwd=tmp_path, env=environment(), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert NOTICE not in run.stderr
    record = json.loads((tmp_path / "run" / "manifest.json").read_text())["numba_cache"]
    assert record["cache_dir"] == str(cache) and record["cold"] is False
    assert all(folder.startswith(str(cache) + os.sep) for folder in record["folders"])
