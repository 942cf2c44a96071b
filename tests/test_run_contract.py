"""The run contract: one writer and reader of the run folder, a resume key on resolved inputs, a lock on the
folder, workers that do not outlive their run, and a manifest that says complete only when everything is."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from magnetscreen.models.surrogates import default_model_dir
from magnetscreen.screening.engine import contract as c
from magnetscreen.screening.engine import pipeline
from magnetscreen.screening.engine.config import load_config, parse_config
from magnetscreen.screening.runner import screen

SCENARIO = """name = "my-scenario"
date = 2026-01-10
description = "test scenario: Dy refining moves"
[[production]]
elements = ["Dy"]
stage = "refining"
scale = { CHN = 0.5 }
"""

FAMILY = """name = "my-smco"
description = "SmCo5 with Fe and Cu"
prototype = "SmCo5"
structure = "CaCu5 type"
citation = "test"
reference = "test"
step = 0.1
[[sites]]
name = "R"
multiplicity = 1
elements = ["Sm"]
[[sites]]
name = "T"
multiplicity = 5
elements = ["Co", "Fe", "Cu"]
bounds = { Fe = [0.0, 0.3], Cu = [0.0, 0.3] }
"""


def write_inputs(folder: Path, *, temperature: float = 423.15) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(SCENARIO)
    (folder / "family.toml").write_text(FAMILY)
    (folder / "run.toml").write_text(f"""families = [{{ file = "family.toml" }}, {{ name = "2-14-1", step = 0.25 }}]
[run]
chunk_size = 40
[conditions]
operating_temperature_K = {temperature}
[screen]
shortlist_size = 10
keep = 20
explore_size = 4
[supply]
scenario = "scenario.toml"
as_of = "2026-02-01"
""")
    return folder / "run.toml"


def _key(path: Path, models_dir: Path | None = None) -> str:
    from magnetscreen.datasets.supply import load_scenario
    from magnetscreen.models.risk import element_risk_array
    from magnetscreen.models.surrogates import load_surrogates
    from magnetscreen.screening.engine.loop import resolve_run_inputs

    config = load_config(path)
    s = config.screen
    scenario = load_scenario(s.scenario_path or s.scenario)
    risk = element_risk_array(s.as_of, scenario)
    return resolve_run_inputs(config, s.as_of, scenario, risk, load_surrogates(models_dir).files).key


def test_every_input_that_can_change_a_score_changes_the_resume_key(tmp_path, monkeypatch):
    path = write_inputs(tmp_path / "a")
    base = _key(path)
    assert _key(path) == base  # deterministic
    # the config as parsed
    assert _key(write_inputs(tmp_path / "b", temperature=400.0)) != base
    # the content of a family file (same file name)
    (tmp_path / "a" / "family.toml").write_text(FAMILY.replace("Cu = [0.0, 0.3]", "Cu = [0.0, 0.2]"))
    assert _key(path) != base
    (tmp_path / "a" / "family.toml").write_text(FAMILY)
    # the content of a scenario file (same name inside, same file name)
    (tmp_path / "a" / "scenario.toml").write_text(SCENARIO.replace("CHN = 0.5", "CHN = 0.6"))
    assert _key(path) != base
    (tmp_path / "a" / "scenario.toml").write_text(SCENARIO.replace('description = "test', 'description = "a'))
    assert _key(path) != base  # even a change that moves no risk: the file is an input
    (tmp_path / "a" / "scenario.toml").write_text(SCENARIO)
    # the model files
    models = tmp_path / "models"
    shutil.copytree(default_model_dir(), models)
    assert _key(path, models) == base
    card = json.loads((models / "Tc_K.card.json").read_text())
    card["notes"].append("edited")
    (models / "Tc_K.card.json").write_text(json.dumps(card))
    from magnetscreen.datasets.provenance import file_sha256

    manifest = json.loads((models / "manifest.json").read_text())
    manifest["files"]["Tc_K.card.json"] = {"bytes": (models / "Tc_K.card.json").stat().st_size,
                                           "sha256": file_sha256(models / "Tc_K.card.json")}
    (models / "manifest.json").write_text(json.dumps(manifest))
    assert _key(path, models) != base
    # the data tables and the package version
    import magnetscreen.screening.engine.loop as loop

    real = loop._data_hashes
    monkeypatch.setattr(loop, "_data_hashes", lambda: {**real(), "curie": "0" * 64})
    assert _key(path) != base
    monkeypatch.setattr(loop, "_data_hashes", real)
    monkeypatch.setattr(loop, "package_version", lambda: "9.9.9")
    assert _key(path) != base


def _kill_after(monkeypatch, n: int):
    import magnetscreen.screening.engine.merge as backends  # where the workers' tasks call score_chunk

    real = pipeline.score_chunk
    calls = {"n": 0}

    def dying(ctx, f, k, **kwargs):
        calls["n"] += 1
        if calls["n"] > n:
            raise KeyboardInterrupt("simulated kill")
        return real(ctx, f, k, **kwargs)

    monkeypatch.setattr(backends, "score_chunk", dying)
    return lambda: monkeypatch.setattr(backends, "score_chunk", real)


def test_a_changed_scenario_file_starts_a_fresh_state(tmp_path, monkeypatch):
    path = write_inputs(tmp_path)
    restore = _kill_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        screen(load_config(path), out=tmp_path / "run", report=False)
    restore()
    assert c.RunFolder(tmp_path / "run").read_manifest().status == "running"
    (tmp_path / "scenario.toml").write_text(SCENARIO.replace("CHN = 0.5", "CHN = 0.4"))
    result = screen(load_config(path), out=tmp_path / "run", report=False)
    assert result.manifest.timings.chunks_resumed == 0  # the old chunks were scored under another scenario
    # and with unchanged inputs a restart resumes
    restore = _kill_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        screen(load_config(path), out=tmp_path / "run2", report=False)
    restore()
    assert screen(load_config(path), out=tmp_path / "run2", report=False).manifest.timings.chunks_resumed == 2


def test_report_reads_a_user_scenario_run(tmp_path):
    """A run with a user scenario file keeps its Disclosures section: the report reads what the run saved."""
    path = write_inputs(tmp_path)
    screen(load_config(path), out=tmp_path / "run")
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "Disclosures could not be computed" not in html and "unknown scenario" not in html
    assert html.count('<article class="disclosure"') == 10
    supply = c.RunFolder(tmp_path / "run").read_supply()
    assert supply.scenario.name == "my-scenario" and supply.scenario.origin.endswith("scenario.toml")


def test_the_run_folder_is_read_back_exactly(tmp_path):
    path = write_inputs(tmp_path)
    result = screen(load_config(path), out=tmp_path / "run")
    run = c.load_run(tmp_path / "run")
    assert run.manifest == result.manifest
    assert run.supply == result.supply
    for name, frame in (("ranked", result.ranked), ("references", result.references), ("explore", result.explore)):
        back = getattr(run, name)
        assert list(back.columns) == list(frame.columns)
        assert back.equals(frame.reset_index(drop=True)), name


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    path = write_inputs(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out = tmp_path / "run"
        out.mkdir()
        (out / ".lock").write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename,
                                               "started": "2026-12-02T10:00:00+00:00"}))
        with pytest.raises(c.RunError, match=rf"in use by another magnetscreen run \(pid {holder.pid} on .*, started "
                                             r"2026-12-02T10:00:00\+00:00\)"):
            screen(load_config(path), out=out, report=False)
        assert not (out / "manifest.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # a lock whose process is gone is taken over
    result = screen(load_config(path), out=tmp_path / "run", report=False)
    assert result.manifest.status == "complete" and not (tmp_path / "run" / ".lock").exists()


def test_two_concurrent_runs_one_folder(tmp_path):
    """Two processes started together into one folder: exactly one runs, the other exits 2 naming the holder."""
    path = write_inputs(tmp_path)
    cmd = [sys.executable, "-m", "magnetscreen.screening.cli", "screen", str(path), "--out", str(tmp_path / "run"),
           "--no-report", "--quiet"]
    procs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "in use by another magnetscreen run (pid" in loser
    assert c.RunFolder(tmp_path / "run").read_manifest().status == "complete"


def test_manifest_is_not_complete_when_the_report_fails(tmp_path, monkeypatch):
    import magnetscreen.screening.report.render as render

    def full_disk(run, out, top_n=50):
        raise render.ReportError(f"{out}: cannot write (No space left on device)")

    monkeypatch.setattr(render, "write_report_of", full_disk)
    path = write_inputs(tmp_path)
    with pytest.raises(render.ReportError, match="No space left on device"):
        screen(load_config(path), out=tmp_path / "run")
    manifest = c.RunFolder(tmp_path / "run").read_manifest()
    assert manifest.status == "failed" and "report.html: cannot write" in manifest.error
    assert not (tmp_path / "run" / "report.html").exists()


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow  # starts, kills and waits for a two-worker run (about 15 s)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the worker processes")
def test_workers_exit_when_the_run_is_killed(tmp_path):
    """SIGKILL of `magnetscreen screen --workers 2`: its loky workers exit on their own within seconds."""
    config = tmp_path / "big.toml"
    config.write_text('families = [{ name = "2-14-1", sampling = "sobol", n_samples = 3000000 }]\n'
                      "[run]\nchunk_size = 20000\n")
    proc = subprocess.Popen([sys.executable, "-m", "magnetscreen.screening.cli", "screen", str(config), "--out",
                             str(tmp_path / "run"), "--workers", "2", "--no-report", "--quiet"],
                            stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        workers |= _children(proc.pid)
        grand = set()
        for w in list(workers):
            grand |= _children(w)
        workers |= grand
        if len([w for w in workers if _alive(w)]) >= 2 and (tmp_path / "run" / ".state").exists() and any(
                (tmp_path / "run" / ".state").rglob("*.json")):
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    assert workers, "no worker process seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, f"worker processes outlived the killed run: {left}"


def test_parse_config_limits(tmp_path):
    from magnetscreen.datasets.errors import ConfigError

    with pytest.raises(ConfigError, match=r"the plan has [\d,]+ candidates \(2-14-1 [\d,]+\), more than the limit of "
                                          r"1,000,000,000"):
        screen(parse_config({"families": [{"name": "2-14-1", "step": 0.001}]}, "t.toml", tmp_path),
               out=tmp_path / "r")
    with pytest.raises(ConfigError, match="n_samples: expected an integer <= 1000000000000"):
        parse_config({"families": [{"name": "2-14-1", "sampling": "sobol", "n_samples": 10**13}]}, "t.toml", tmp_path)
    with pytest.raises(ConfigError, match="more than the limit of 500"):
        screen(parse_config({"families": [{"name": "2-14-1"}], "run": {"max_candidates": 500}}, "t.toml", tmp_path),
               out=tmp_path / "r2")
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()
