"""The real ``magnetscreen`` command, run as a subprocess, and its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from magnetscreen.screening.cli import app as cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "magnetscreen.screening.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("args", [["--help"], ["families", "--help"], ["enumerate", "--help"]])
def test_help_on_every_level(args):
    result = run(*args)
    assert result.returncode == 0
    assert "usage: magnetscreen" in result.stdout


def test_version():
    from importlib.metadata import version

    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"magnetscreen {version('magnetscreen')}"


def test_families_lists_every_builtin_with_its_grid_size():
    from magnetscreen.datasets import builtin_families
    from magnetscreen.descriptors.enumeration import plan_enumeration

    result = run("families", "--format", "json")
    assert result.returncode == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    for family in builtin_families():
        assert rows[family.name]["candidates"] == plan_enumeration(family).total
        assert rows[family.name]["sites"][0]["elements"] == list(family.sites[0].elements)
    table = run("families").stdout
    assert "2-14-1" in table and "Nd2Fe14B" in table and "R[2](Nd,Pr,Ce,La,Y,Dy,Tb) step 0.1" in table


def test_enumerate_text_and_parquet(tmp_path):
    config = EXAMPLES / "rare-earth-free.toml"
    out = tmp_path / "c.txt"
    result = run("enumerate", str(config), "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert "Fe8N" in lines and "MnBi" in lines and "FeNi" in lines
    assert f"wrote {len(lines)} candidates" in result.stderr
    pq_out = tmp_path / "c.parquet"
    assert run("enumerate", str(config), "--out", str(pq_out), "--quiet").returncode == 0
    table = pq.read_table(pq_out).to_pydict()
    assert table["formula"] == lines
    assert set(table["family"]) == {"Fe16N2", "MnBi", "MnAl", "L10-FeNi", "M-hexaferrite"}


def test_enumerate_default_config(tmp_path):
    out = tmp_path / "all.txt"
    result = run("enumerate", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Nd2Fe14B" in out.read_text().split()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["enumerate", "missing.toml", "--out", "x.txt"], "missing.toml: no such file"),
        (["enumerate", "--out", "x.txt", "--chunk-size", "0"], "--chunk-size: expected a positive integer"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, fragment):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert not (tmp_path / "x.txt").exists()


def test_bad_config_key_exits_2(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('families = "all"\n[run]\nsead = 1\n')
    result = run("enumerate", str(cfg), "--out", str(tmp_path / "o.txt"))
    assert result.returncode == 2
    assert "run.sead: unknown key 'sead'" in result.stderr


def test_usage_error_exits_2():
    assert run("enumerate").returncode == 2
    assert run("frobnicate").returncode == 2


def test_internal_error_exits_1(monkeypatch, capsys):
    def boom(args):
        raise RuntimeError("kaboom")

    from magnetscreen.screening.cli import families

    monkeypatch.setattr(families, "run", boom)
    assert cli.main(["families"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom" in err and "--debug" in err


def test_interrupted_write_leaves_no_output(tmp_path, monkeypatch):
    from magnetscreen.screening.engine import enumerate as enum
    from magnetscreen.screening.engine.config import default_config

    out = tmp_path / "c.txt"
    original = enum.plans

    def failing_plans(config, max_candidates=None):
        for plan in original(config, max_candidates):
            yield plan
            raise KeyboardInterrupt

    monkeypatch.setattr(enum, "plans", failing_plans)
    with pytest.raises(KeyboardInterrupt):
        enum.write_candidates(default_config(tmp_path), out)
    assert list(tmp_path.iterdir()) == []


def test_screen_command_runs_a_config_and_prints_the_shortlist(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('families = [{ name = "SmCo5" }, { name = "MnBi" }]\n[supply]\nas_of = 2026-01-15\n')
    result = run("screen", str(config), "--out", str(tmp_path / "run"), "--no-report")
    assert result.returncode == 0, result.stderr
    assert "SmCo5" in result.stdout or "Sm" in result.stdout
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert (tmp_path / "run" / "shortlist.csv").exists()
    # workers auto by default: a run this small stays in one process, and says so in one line
    assert manifest["timings"]["workers_requested"] == "auto" and manifest["timings"]["workers"] == 1
    assert f"magnetscreen: {manifest['timings']['workers_note']}\n" in result.stderr
    assert manifest["timings"]["workers_note"].startswith("workers auto: 1 process x ")


def test_screen_bad_input_exits_2(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('families = "all"\n[screen]\nmetrc = "BHmax_kJm3"\n')
    result = run("screen", str(config), "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "metrc" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run("screen", "--workers", "0", "--out", str(tmp_path / "run2"))
    assert result.returncode == 2 and "--workers" in result.stderr
