"""The benchmark code: stage timings through the pipeline's timer hook cover the real pipeline and do not change
its results; the end-to-end child runs the same screening; summaries, bandwidth and comparisons by hand; the
committed record follows the documented schema. The whole suite at ``--size tiny`` and larger: ``-m slow``."""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.descriptors.featurize import feature_names
from magnetscreen.screening.bench import measure as bench
from magnetscreen.screening.bench import summary as bench_report
from magnetscreen.screening.bench.schema import SCHEMA, BenchRecordError, validate
from magnetscreen.screening.cli import bench as cli_bench

ROOT = Path(__file__).resolve().parent.parent


def _parser():
    parser = argparse.ArgumentParser(prog="magnetscreen")
    sub = parser.add_subparsers(dest="command")
    cli_bench.add_parser(sub)
    return parser


RECORD = ROOT / "benchmarks" / "records" / "dev-2core-medium.json"


@pytest.fixture(scope="module")
def record():
    """A real record (the committed --size medium run): schema, comparison and printing are tested on it."""
    return json.loads(RECORD.read_text(encoding="utf-8"))


def test_summarize_by_hand():
    rec = bench.summarize([2.0, 1.0, 4.0], 1000)
    assert rec["seconds"] == {"min": 1.0, "median": 2.0, "max": 4.0}
    assert rec["candidates_per_s"] == {"min": 250.0, "median": 500.0, "max": 1000.0}
    assert rec["seconds_per_candidate"] == {"min": 0.001, "median": 0.002, "max": 0.004}
    assert rec["repeats"] == 3 and rec["n"] == 1000


def test_stage_timings_cover_the_real_pipeline():
    """The stage pass runs the engine's own score_chunk and Merger through the timer hook: every stage is timed,
    the timed stages cover the pass (no untimed work beyond 25 %), and the ranked pool is the one screen() ranks."""
    import time

    import numpy as np

    from magnetscreen.screening.engine.pipeline import STAGES as PIPELINE_STAGES
    from magnetscreen.screening.engine.ranking import Objectives, rank_order
    from magnetscreen.screening.runner import screen

    n = 3000
    config = bench.bench_config(n, chunk_size=1024)
    ctx = bench._context(config)
    plan = ctx.plan(0)
    bench.stage_pass(config, ctx, plan, 500, bench.StageTimer())  # warm the numba caches
    timer = bench.StageTimer()
    start = time.perf_counter()
    done, width, merger = bench.stage_pass(config, ctx, plan, n, timer)
    wall = time.perf_counter() - start
    assert done == n and width == len(feature_names())
    assert set(timer.seconds) == set(PIPELINE_STAGES)
    assert 0.75 * wall <= sum(timer.seconds.values()) <= wall
    order, _ = rank_order(merger.pool, Objectives.of(config.screen))
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = screen(config, out=tmp, report=False)
    assert merger.pool["formula"][order].tolist() == result.ranked["formula"].tolist()
    np.testing.assert_array_equal(merger.pool["performance"][order], result.ranked["performance"].to_numpy())


def test_stage_traffic_counts_inputs_and_outputs_by_hand():
    """The memory-traffic bound of featurize is the batch read plus the float64 feature matrix written; every
    stage reads or writes something, and predict reads the whole descriptor matrix."""
    from magnetscreen.descriptors.featurize import feature_names

    config = bench.bench_config(2048, chunk_size=1024)
    ctx = bench._context(config)
    plan = ctx.plan(0)
    traffic = bench.stage_traffic(ctx, plan, 500)
    batch = plan.chunk(0).batch.take(slice(0, 500))
    width = batch.elements.shape[1]
    batch_bytes = 500 * width * (batch.elements.itemsize + 8 + 8)
    assert traffic["featurize"] == batch_bytes + 500 * len(feature_names()) * 8
    assert traffic["enumerate_encode"] == batch_bytes + 500 * 8
    assert traffic["predict"] > 500 * len(feature_names()) * 8
    assert set(traffic) == {"enumerate_encode", "featurize", "predict", "physics", "risk", "rank"}
    assert all(v > 0 for v in traffic.values())


def test_timing_does_not_change_the_results():
    from magnetscreen.screening.engine.pipeline import COLUMNS, score_chunk

    config = bench.bench_config(2000, chunk_size=1000)
    ctx = bench._context(config)
    plain = score_chunk(ctx, 0, 1)
    timed = score_chunk(ctx, 0, 1, timer=bench.StageTimer(trace=True))
    for name in COLUMNS:
        assert plain.survivors[name].tolist() == timed.survivors[name].tolist(), name
    assert plain.counts == timed.counts


@pytest.mark.slow  # a child process screening end to end (about 10 s)
def test_end_to_end_child_runs_the_same_screening():
    """The fresh-process end-to-end measurement ranks as many survivors as an in-process screen() of the same
    candidates, and reports a time per candidate consistent with its n."""
    import tempfile

    from magnetscreen.screening.runner import screen

    rec = bench.run_end_to_end(2000, 1, chunk_size=1024, timeout_s=300)
    with tempfile.TemporaryDirectory() as tmp:
        result = screen(bench.bench_config(2000, 1024), out=tmp, report=False)
    assert rec["n"] == 2000 and rec["survivors"] == len(result.ranked)
    assert rec["seconds_per_candidate"]["median"] == pytest.approx(rec["seconds"]["median"] / 2000)
    assert rec["peak_rss_bytes"] > 50 * 2**20


def test_bandwidth_measures_what_it_says():
    bw = bench.memory_bandwidth(nbytes=32 * 2**20, repeats=3)
    assert bw["nbytes"] == 32 * 2**20
    # a copy moves twice the bytes of a fill: its rate cannot be a hundred times the fill rate, nor a hundredth
    assert 0.01 < bw["copy_bytes_per_s"] / bw["fill_bytes_per_s"] < 100
    assert 1e8 < bw["fill_bytes_per_s"] < 1e13


def test_the_committed_record_validates_against_the_documented_schema(record):
    validate(record, str(RECORD))
    try:
        import jsonschema
    except ImportError:
        pass
    else:
        jsonschema.validate(record, SCHEMA)
    doc = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for key in SCHEMA["required"]:
        assert f"`{key}`" in doc, f"docs/benchmarks.md does not document {key!r}"


def test_skipped_baselines_say_why(monkeypatch):
    from magnetscreen.screening.bench import baselines as bench_baselines

    monkeypatch.setattr(bench_baselines, "_missing", lambda *m: "matminer not installed")
    result = bench_baselines.featurize_baseline(["Nd2Fe14B"])
    assert result == {"status": "skipped", "reason": "matminer not installed"}


def _scaled(record: dict, stage: str, factor: float) -> dict:
    out = copy.deepcopy(record)
    for key in ("min", "median", "max"):
        out["stages"][stage]["candidates_per_s"][key] *= factor
    return out


def test_compare_flags_changes_beyond_the_noise_and_only_those(record):
    noise = bench_report._noise(record["stages"]["featurize"])
    assert bench_report.NOISE_FLOOR <= noise < 1
    _, changed = bench_report.compare(record, _scaled(record, "featurize", 1 + 2 * noise))
    assert changed == ["featurize"]
    _, changed = bench_report.compare(record, _scaled(record, "featurize", 1 + noise / 2))
    assert changed == []
    factor = 1 + 2 * bench_report._noise(record["stages"]["predict"])
    lines, changed = bench_report.compare(record, _scaled(record, "predict", factor))
    assert changed == ["predict"] and any(f"{factor:.2f}x" in line and "CHANGED" in line for line in lines)


def test_compare_command_prints_the_ratio(record, tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(record), encoding="utf-8")
    factor = 1 + 2 * bench_report._noise(record["stages"]["rank"])
    b.write_text(json.dumps(_scaled(record, "rank", factor)), encoding="utf-8")
    assert cli_bench.run(_parser().parse_args(["bench", "--compare", str(a), str(b)])) == 0
    printed = capsys.readouterr().out
    assert f"{factor:.2f}x" in printed and "1 stage(s) changed beyond the noise: rank" in printed


def test_summary_prints_ratios_against_the_baselines(record):
    lines = "\n".join(bench_report.summary_lines(record))
    for key, b in record["baselines"].items():
        if b["status"] == "measured" and b.get("ratio") is not None:
            assert f"{b['ratio']:.1f}x" in lines, key


def test_a_broken_record_is_rejected_with_the_path(record, tmp_path):
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


@pytest.mark.slow
def test_the_tiny_suite_runs_end_to_end(tmp_path):
    out = tmp_path / "tiny.json"
    assert cli_bench.run(_parser().parse_args(["bench", "--size", "tiny", "--out", str(out), "--quiet"])) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    validate(record, str(out))
    assert set(record["stages"]) == set(bench.STAGES)
    assert record["stages"]["end_to_end"]["n"] == bench.SIZES["tiny"]
    for kind in ("png", "html"):
        path = record["plots"].get(kind)
        if path is not None:
            assert Path(path).stat().st_size > 1000


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
