"""The benchmark suite at ``--size tiny``: every stage measured, the record follows its documented schema,
ratios are finite, ``--compare`` of a record with itself reports no change. Large sizes: ``-m slow``."""

from __future__ import annotations

import argparse
import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.bench import measure as bench
from magnetscreen.screening.bench import summary as bench_report
from magnetscreen.screening.cli import bench as cli_bench
from magnetscreen.screening.bench.schema import SCHEMA, BenchRecordError, validate

ROOT = Path(__file__).resolve().parent.parent


def _parser():
    parser = argparse.ArgumentParser(prog="magnetscreen")
    sub = parser.add_subparsers(dest="command")
    cli_bench.add_parser(sub)
    return parser


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "tiny.json"
    args = _parser().parse_args(["bench", "--size", "tiny", "--out", str(out), "--quiet"])
    assert cli_bench.run(args) == 0
    return out, json.loads(out.read_text(encoding="utf-8"))


def test_every_stage_is_measured(tiny):
    _, record = tiny
    assert set(record["stages"]) == set(bench.STAGES)
    for name, stage in record["stages"].items():
        assert stage["n"] > 0, name
        assert 0 < stage["seconds"]["min"] <= stage["seconds"]["median"] <= stage["seconds"]["max"], name
        assert stage["candidates_per_s"]["median"] > 0, name
    assert record["stages"]["end_to_end"]["n"] == bench.SIZES["tiny"]
    assert record["config"]["n"] == bench.SIZES["tiny"]


def test_record_validates_against_the_documented_schema(tiny):
    out, record = tiny
    validate(record, str(out))
    try:
        import jsonschema
    except ImportError:
        pass
    else:
        jsonschema.validate(record, SCHEMA)
    doc = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for key in SCHEMA["required"]:
        assert f"`{key}`" in doc, f"docs/benchmarks.md does not document {key!r}"


def test_ratios_are_finite_and_baselines_measured_or_skipped(tiny):
    _, record = tiny
    for key, b in record["baselines"].items():
        if b["status"] == "skipped":
            assert b["reason"] and "ratio" not in b, key
            continue
        assert math.isfinite(b["ratio"]) and b["ratio"] > 0, key
        assert b["n"] > 0 and b["candidates_per_s"] > 0
    assert record["baselines"]["predict"].get("identical_output", True)
    bw = record["bandwidth"]
    assert 0 < bw["featurizer_share_of_fill"] < 10
    for r in record["scaling"]["workers"]:
        assert math.isfinite(r["speedup"]) and r["speedup"] > 0
    assert [r["n"] for r in record["scaling"]["counts"]][-1] == record["config"]["n"]


def test_skipped_baselines_say_why(monkeypatch):
    from magnetscreen.screening.bench import baselines as bench_baselines

    monkeypatch.setattr(bench_baselines, "_missing", lambda *m: "matminer not installed")
    result = bench_baselines.featurize_baseline(["Nd2Fe14B"])
    assert result == {"status": "skipped", "reason": "matminer not installed"}


def test_compare_of_a_record_with_itself_reports_no_change(tiny, capsys):
    out, record = tiny
    lines, changed = bench_report.compare(record, record)
    assert changed == []
    assert all("CHANGED" not in line for line in lines)
    args = _parser().parse_args(["bench", "--compare", str(out), str(out)])
    assert cli_bench.run(args) == 0
    printed = capsys.readouterr().out
    assert "1.00x" in printed and "0 stage(s) changed" in printed


def test_compare_flags_a_change_beyond_the_noise(tiny):
    _, record = tiny
    slower = copy.deepcopy(record)
    for key in ("min", "median", "max"):
        slower["stages"]["featurize"]["candidates_per_s"][key] /= 3
    _, changed = bench_report.compare(record, slower)
    assert changed == ["featurize"]


def test_plots_written(tiny):
    out, record = tiny
    for kind in ("png", "html"):
        path = record["plots"].get(kind)
        if path is not None:
            assert Path(path).stat().st_size > 1000


def test_a_broken_record_is_rejected_with_the_path(tiny, tmp_path):
    _, record = tiny
    bad = copy.deepcopy(record)
    del bad["stages"]["rank"]
    with pytest.raises(BenchRecordError, match=r"\$\.stages.*rank"):
        validate(bad, "bad.json")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(BenchRecordError, match="bad.json"):
        cli_bench.run(_parser().parse_args(["bench", "--compare", str(good), str(path)]))


@pytest.mark.parametrize("size", ["huge", "12", "-5"])
def test_bad_sizes_are_errors_naming_the_value(size):
    with pytest.raises(ConfigError, match="--size"):
        bench.parse_size(size)


def test_sizes():
    assert bench.parse_size("large") == ("large", 10_000_000)
    assert bench.parse_size("250000") == ("250000", 250_000)
    assert bench.scaling_counts(10_000_000) == [10**4, 10**5, 10**6, 10**7]
    config = bench.bench_config(12345)
    from magnetscreen.descriptors.enumeration import plan_enumeration

    assert plan_enumeration(config.families[0]).total == 12345


def test_scripts_are_runnable():
    for script in ("run_suite.py", "bench_screen.py"):
        result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--help"], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr
        assert "usage" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("size", ["medium", "large"])
def test_large_sizes(size, tmp_path):
    out = tmp_path / f"{size}.json"
    assert cli_bench.run(_parser().parse_args(["bench", "--size", size, "--out", str(out), "--quiet"])) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    validate(record)
    spread = record["scaling"]["time_per_candidate_spread"]
    assert spread is not None and spread < 1.5, "time per candidate is not flat across candidate counts"
