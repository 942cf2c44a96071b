"""The screening engine: determinism across workers, chunk sizes, family order and backends; resume after
a kill; ranking against a brute-force sort; known facts on a focused 2-14-1 run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from magnetscreen.screening.engine import pipeline
from magnetscreen.screening.engine.config import parse_config
from magnetscreen.screening.engine.contract import RESULT_FILES
from magnetscreen.screening.runner import screen

RESULTS = ("ranked.parquet", "shortlist.csv", "explore.csv", "references.parquet")


def small_config(tmp_path, *, chunk_size=1000, reverse=False, step=0.1, **screen_section):
    families = [
        {"name": "2-14-1", "step": step, "bounds": {"R": {"Y": [0, 0], "Tb": [0, 0]}}},
        {"name": "SmCo5"},
        {"name": "M-hexaferrite", "step": 0.25},
        {"name": "Fe16N2"},
    ]
    if reverse:
        families = families[::-1]
    data = {"families": families, "run": {"seed": 0, "chunk_size": chunk_size},
            "screen": {"shortlist_size": 20, "keep": 40, "explore_size": 8, **screen_section},
            "supply": {"as_of": "2026-01-15"}}
    return parse_config(data, "test.toml", tmp_path)


def result_bytes(run_dir):
    return {name: (run_dir / name).read_bytes() for name in RESULTS}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    result = screen(small_config(tmp), out=tmp / "run", report=False)
    return result, result_bytes(tmp / "run")


def test_run_writes_complete_outputs(reference_run):
    result, _ = reference_run
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"]["enumerated"] == sum(f["enumerated"] for f in manifest["counts"]["families"].values())
    assert manifest["counts"]["survivors"] == len(result.ranked) > 0
    assert list(result.ranked["rank"]) == list(range(1, len(result.ranked) + 1))
    assert len(result.shortlist) == min(20, len(result.ranked))
    assert set(manifest["models"]) == {"Js_T", "K1_MJm3", "Tc_K"}
    assert not (result.run_dir / ".state").exists()
    ranked = result.ranked
    assert (ranked["Tc_K"] >= 550).all() and (ranked["kappa"] >= 1).all()
    np.testing.assert_allclose(ranked["perf_per_hree"], ranked["performance"] / (ranked["hree_g_per_kg"] + 1.0))
    assert set(result.references["label"]) == {"Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "SmCo5", "Sm2Co17", "SrFe12O19"}
    # rank confidence: each Monte Carlo draw puts exactly shortlist_size candidates in the top
    assert ranked["p_top"].between(0, 1).all()
    assert ranked["p_top"].sum() == pytest.approx(min(20, len(ranked)))
    assert (result.shortlist["performance_sigma"] >= 0).all()
    # the domain note is empty exactly for candidates in domain
    assert ((ranked["domain_note"] == "") == ranked["in_domain"]).all()


@pytest.mark.parametrize("variant", ["chunk-7777", "chunk-311", "reversed-families", "two-workers"])
def test_results_identical_for_any_chunking_order_and_workers(reference_run, tmp_path, variant):
    _, expected = reference_run
    kwargs = {}
    if variant == "chunk-7777":
        config = small_config(tmp_path, chunk_size=7777)
    elif variant == "chunk-311":
        config = small_config(tmp_path, chunk_size=311)  # many small chunks (size 1 would take minutes)
    elif variant == "reversed-families":
        config = small_config(tmp_path, reverse=True)
    else:
        config = small_config(tmp_path)
        kwargs["workers"] = 2
    screen(config, out=tmp_path / "run", report=False, **kwargs)
    got = result_bytes(tmp_path / "run")
    for name in RESULTS:
        assert got[name] == expected[name], (variant, name)


@pytest.mark.slow  # a LocalCluster's start-up and close take about 15 s
def test_dask_local_cluster_gives_identical_results(reference_run, tmp_path):
    pytest.importorskip("distributed")
    _, expected = reference_run
    screen(small_config(tmp_path), out=tmp_path / "run", report=False, dask_workers=2)
    got = result_bytes(tmp_path / "run")
    for name in RESULTS:
        assert got[name] == expected[name], name


def _killed_after(monkeypatch, tmp_path, n: int):
    """Run small_config with score_chunk (as the tasks call it) raising KeyboardInterrupt on its call n + 1; then
    restore it. Returns the run folder."""
    import magnetscreen.screening.engine.merge as engine

    real = pipeline.score_chunk
    calls = {"n": 0}

    def dying(ctx, f, c, **kwargs):
        calls["n"] += 1
        if calls["n"] > n:
            raise KeyboardInterrupt("simulated kill")
        return real(ctx, f, c, **kwargs)

    monkeypatch.setattr(engine, "score_chunk", dying)
    with pytest.raises(KeyboardInterrupt):
        screen(small_config(tmp_path), out=tmp_path / "run", report=False)
    monkeypatch.setattr(engine, "score_chunk", real)
    return tmp_path / "run"


@pytest.mark.parametrize("group, kill_after, saved, resumed", [
    (1, 3, 3, 3),  # one chunk per task (runs under 256 chunks)
    (3, 7, 2, 6),  # tasks of three chunks: two done, the third killed in its second chunk
])
def test_resume_after_a_kill_is_byte_identical(reference_run, tmp_path, monkeypatch, group, kill_after, saved,
                                               resumed):
    """Only whole tasks are saved, nothing looks complete, and the resumed run gives the same bytes."""
    import magnetscreen.screening.engine.loop as loop

    _, expected = reference_run
    if group > 1:
        monkeypatch.setattr(loop, "group_tasks", _grouped(group))
    run = _killed_after(monkeypatch, tmp_path, kill_after)
    assert json.loads((run / "manifest.json").read_text())["status"] == "running"
    assert not any((run / name).exists() for name in RESULT_FILES)  # nothing looks complete
    assert len(list((run / ".state").rglob("*.json"))) == saved
    result = screen(small_config(tmp_path), out=run, report=False)
    assert result.manifest.timings.chunks_resumed == resumed
    got = result_bytes(run)
    for name in RESULTS:
        assert got[name] == expected[name], name


def _dominates(a, b):
    return a[0] >= b[0] and a[1] <= b[1] and a[2] <= b[2] and (a[0] > b[0] or a[1] < b[1] or a[2] < b[2])


def test_ranking_equals_a_brute_force_sort(tmp_path):
    config = small_config(tmp_path, step=0.2, chunk_size=300, write_all=True)
    result = screen(config, out=tmp_path / "run", report=False)
    everything = pd.read_parquet(tmp_path / "run" / "candidates")
    passed = everything[everything["passed"]].reset_index(drop=True)
    obj = list(zip(passed["performance"], passed["hree_g_per_kg"], passed["risk_value"]))
    n = len(obj)
    dominators = [[j for j in range(n) if _dominates(obj[j], obj[i])] for i in range(n)]
    # fronts by repeated peeling of the non-dominated set
    front = [0] * n
    left, level = set(range(n)), 0
    while left:
        level += 1
        current = {i for i in left if not any(j in left for j in dominators[i])}
        for i in current:
            front[i] = level
        left -= current
    passed["front"] = front
    passed["n_dominators"] = [len(d) for d in dominators]
    brute = passed.sort_values(["front", "perf_per_hree", "performance", "risk_value", "formula", "family",
                                "candidate_index"], ascending=[True, False, False, True, True, True, True])
    keep = config.screen.keep
    expected = brute[brute["n_dominators"] < keep]
    assert len(expected) < len(passed)  # the pruning by `keep` is exercised
    assert len(result.ranked) == len(expected)
    assert list(result.ranked["formula"]) == list(expected["formula"])
    assert list(result.ranked["front"]) == list(expected["front"])


def test_pessimistic_ranking_uses_mean_minus_k_sigma(tmp_path):
    result = screen(small_config(tmp_path, pessimistic_k=1.0), out=tmp_path / "run", report=False)
    r = result.ranked
    np.testing.assert_allclose(r["performance"], r["BHmax_kJm3"] - r["BHmax_kJm3_sigma"])
    assert (r["Tc_K"] - r["Tc_K_sigma"] >= 550).all()


def test_zero_survivors_is_a_clear_complete_run(tmp_path):
    data = {"families": [{"name": "SmCo5"}], "requirements": {"Tc_K": {"min": 1400}},
            "supply": {"as_of": "2026-01-15"}}
    result = screen(parse_config(data, "t.toml", tmp_path), out=tmp_path / "run", report=False)
    assert len(result.ranked) == 0 and result.manifest.status == "complete"
    assert any("No candidate" in w for w in result.manifest.warnings)
    assert result.manifest.counts.removed_by["Tc_K >= 1400"] > 0


def test_explore_list_is_spread_across_families_and_off_the_shortlist(reference_run):
    result, _ = reference_run
    explore, short = result.explore, result.shortlist
    assert len(explore) > 0
    assert not set(zip(explore["family"], explore["candidate_index"])) & set(zip(short["family"], short["candidate_index"]))
    assert explore["family"].nunique() >= min(len(explore), 2)
    np.testing.assert_allclose(explore["upside"], explore["BHmax_kJm3"] + 2.0 * explore["BHmax_kJm3_sigma"])


def test_known_facts_on_a_focused_2_14_1_run(tmp_path):
    """(Nd,Dy)2(Fe,Co)14B: more Dy -> lower Js, higher mu0HA; more Co -> higher Tc (rank correlations over
    the shortlist, which must hold these trends of ../shared/SCIENCE.md)."""
    data = {"families": [{"name": "2-14-1", "step": 0.1,
                          "bounds": {"R": {"Pr": [0, 0], "Ce": [0, 0], "La": [0, 0], "Y": [0, 0], "Tb": [0, 0]},
                                     "T": {"Co": [0, 0.3]}}}],
            "requirements": {"Tc_K": {"min": 0}, "phase_stability": "any"},  # trends, not feasibility
            "screen": {"shortlist_size": 60, "keep": 60},
            "conditions": {"operating_temperature_K": 295.0}, "supply": {"as_of": "2026-01-15"}}
    result = screen(parse_config(data, "t.toml", tmp_path), out=tmp_path / "run", report=False)
    short = result.shortlist
    assert len(short) >= 20
    from magnetscreen.descriptors import encode

    batch = encode(list(short["formula"]))
    from magnetscreen.datasets.elements import symbol_to_z

    def frac(symbol):
        z = symbol_to_z()[symbol]
        return ((batch.elements == z) * batch.fractions).sum(axis=1)

    dy, co = pd.Series(frac("Dy")), pd.Series(frac("Co"))
    assert dy.nunique() > 2 and co.nunique() > 2
    assert dy.corr(short["Js_T"], method="spearman") < -0.5
    assert dy.corr(short["muHA_T"], method="spearman") > 0.5
    assert co.corr(short["Tc_K"], method="spearman") > 0.5


def test_bad_run_options_raise_config_errors(tmp_path):
    from magnetscreen.datasets.errors import ConfigError

    with pytest.raises(ConfigError, match="--workers"):
        screen(small_config(tmp_path), out=tmp_path / "r", workers=0)
    with pytest.raises(ConfigError, match="screen.metric"):
        parse_config({"families": "all", "screen": {"metric": "BH"}}, "t.toml", tmp_path)
    with pytest.raises(ConfigError, match="requirements.Tcc"):
        parse_config({"families": "all", "requirements": {"Tcc": {"min": 1}}}, "t.toml", tmp_path)
    with pytest.raises(ConfigError, match="unknown scenario"):
        parse_config({"families": "all", "supply": {"scenario": "nope"}}, "t.toml", tmp_path)


def test_cost_can_be_a_ranking_objective(tmp_path):
    """With objectives performance and cost, front 1 of the ranking is exactly the set of ranked rows that no
    other ranked row beats in both (higher performance, lower raw-material cost)."""
    config = small_config(tmp_path, step=0.25, objectives=["performance", "cost"])
    result = screen(config, out=tmp_path / "run", report=False)
    ranked = result.ranked
    assert len(ranked) > 5 and ranked["cost_usd_per_kg"].notna().all()
    perf, cost = ranked["performance"].to_numpy(), ranked["cost_usd_per_kg"].to_numpy()
    free = [not any((perf[j] >= perf[i]) and (cost[j] <= cost[i]) and (perf[j] > perf[i] or cost[j] < cost[i])
                    for j in range(len(ranked))) for i in range(len(ranked))]
    assert (ranked["front"].to_numpy() == 1).tolist() == free
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["config"]["objectives"] == \
        ["performance", "cost"]


def test_reused_descriptor_buffer_leaves_no_trace_between_chunks():
    """score_batch featurizes into a per-thread buffer reused from chunk to chunk: scoring a chunk, a larger and a
    smaller one, then the first again gives the same columns, and nothing returned is a view of the buffer."""
    import numpy as np

    from magnetscreen.screening.bench import measure as bench
    from magnetscreen.screening.engine import pipeline

    ctx = bench._context(bench.bench_config(5000, chunk_size=1000))
    plan = ctx.plan(0)
    first, big, small = plan.chunk(0).batch, plan.chunk(1).batch, plan.chunk(2).batch.take(slice(0, 17))
    before = pipeline.score_batch(ctx, first, family=plan.family)
    pipeline.score_batch(ctx, big, family=plan.family)
    pipeline.score_batch(ctx, small, family=plan.family)
    after = pipeline.score_batch(ctx, first, family=plan.family)
    buffer = pipeline._SCRATCH.descriptors
    for name, value in before.items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            np.testing.assert_array_equal(after[name], value, err_msg=name)
            assert not np.shares_memory(after[name], buffer), name


def test_group_tasks_cover_every_chunk_once_within_its_family():
    from magnetscreen.screening.engine.loop import MAX_GROUP, group_tasks

    assert group_tasks([16]) == [(0, k, 1) for k in range(16)]  # small runs: one chunk per task
    assert group_tasks([100, 155]) == [(0, k, 1) for k in range(100)] + [(1, k, 1) for k in range(155)]
    for counts in ([256], [300, 7], [1526], [5000, 3, 1200], [0, 400]):
        tasks = group_tasks(counts)
        size = max(1, min(MAX_GROUP, sum(counts) // 128))
        assert size > 1 and len(tasks) >= 128
        covered = [(f, first + j) for f, first, n in tasks for j in range(n)]
        assert covered == [(f, k) for f, n in enumerate(counts) for k in range(n)]  # once each, in order
        assert all(1 <= n <= size for _, _, n in tasks)
        assert all(n == size or first + n == counts[f] for f, first, n in tasks)  # only a family's last is short


def _grouped(size):
    def tasks(n_chunks):
        return [(i, k, min(size, n - k)) for i, n in enumerate(n_chunks) for k in range(0, n, size)]

    return tasks


@pytest.mark.parametrize("workers", [1, 2])
def test_tasks_of_several_chunks_give_identical_results(reference_run, tmp_path, monkeypatch, workers):
    """Workers that score three (or seven) chunks and combine them before the main process merges give the
    same bytes as one chunk per task."""
    import magnetscreen.screening.engine.loop as loop

    _, expected = reference_run
    monkeypatch.setattr(loop, "group_tasks", _grouped(3 if workers == 1 else 7))
    result = screen(small_config(tmp_path), out=tmp_path / "run", report=False, workers=workers)
    got = result_bytes(tmp_path / "run")
    for name in RESULTS:
        assert got[name] == expected[name], name
    assert result.manifest.timings.chunks == sum(p.n_chunks for p in loop.checked_plans(small_config(tmp_path)))


def test_combine_equals_merging_chunk_by_chunk(tmp_path):
    """The worker-side combine of a group, then the merge, keeps the same pool, explore pool and counts as the
    merge of every chunk on its own (keep small, so that pruning removes rows)."""
    from magnetscreen.screening.bench.measure import _context
    from magnetscreen.screening.engine.merge import Merger, combine
    from magnetscreen.screening.engine.pipeline import score_chunk

    config = small_config(tmp_path, chunk_size=150, keep=3, shortlist_size=3)
    ctx = _context(config)
    plan = ctx.plan(0)
    results = [score_chunk(ctx, 0, k) for k in range(plan.n_chunks)]
    one = Merger(ctx.settings, [plan.family.name])
    for r in results:
        one.add(plan.family.name, r)
    grouped = Merger(ctx.settings, [plan.family.name])
    for k in range(0, len(results), 4):
        grouped.add(plan.family.name, combine(ctx.settings, plan.family.name, results[k:k + 4]))
    assert sum(len(r.survivors["formula"]) for r in results) > len(one.pool["formula"]) > 0  # pruning removed rows
    for a, b in ((one.pool, grouped.pool), (one.explore[plan.family.name], grouped.explore[plan.family.name])):
        order_a, order_b = np.lexsort((a["candidate_index"],)), np.lexsort((b["candidate_index"],))
        for col in a:
            np.testing.assert_array_equal(a[col][order_a], b[col][order_b], err_msg=col)
    assert one.counts == grouped.counts
