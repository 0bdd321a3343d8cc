"""Limits benchmark runs end to end: answers, limits held, fusion counted, dispatch, the session."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from benchmarks.harness import ToolTimings
from benchmarks.limits.agents import run_agent
from benchmarks.limits.bound import Limits
from benchmarks.limits.dispatch import call_close_tokens, newline_tokens, percentile
from benchmarks.limits.report import dispatch_summary, evaluate_targets, summarize
from benchmarks.limits.runner import LimitEnv, run_llmcompiler, supported
from benchmarks.limits.suite import LimitsConfig, run_limits_session
from benchmarks.limits.tools import REQUEST_OVERHEAD_TOKENS, ToolBench
from benchmarks.limits.workloads import limit_cases
from benchmarks.scripts import plan_text
from llmcompiler_graph.sim import LatencyProfile

FAST = LatencyProfile("fast", 0.02, 400.0, 0.0, 0.0)
TOOLS = ToolTimings(search_s=0.08, search_jitter_s=0.02, math_s=0.02)
CAPPED = LimitEnv(FAST, TOOLS, Limits(64, {"search": 2}))


def test_the_closing_paren_arrives_one_token_before_the_newline() -> None:
    for case in limit_cases("parallelqa-like", 2, 0) + limit_cases("mixed-dag", 1, 0):
        text = plan_text(case.rounds[0])
        closes, newlines = call_close_tokens(text), newline_tokens(text)
        assert closes.keys() == newlines.keys() == {s.index for s in case.steps}
        assert all(newlines[i] == closes[i] + 1 for i in closes)


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 99) == 3.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)


def test_batched_search_pays_the_request_overhead_once() -> None:
    case = limit_cases("movie-like", 1, 0)[0]
    bench = ToolBench(case, ToolTimings(0.0, 0.0, 0.0))
    queries = [str(s.args["query"]) for s in case.steps]
    single = [bench.search_many([q]) for q in queries]
    batched = bench.search_many(queries)
    assert batched == [r[0] for r in single]
    singles, batch = bench.calls[:8], bench.calls[8]
    assert batch.keys == tuple(queries)
    assert sum(c.tokens for c in singles) - batch.tokens == 7 * REQUEST_OVERHEAD_TOKENS


@pytest.mark.parametrize("approach", ["react", "parallel"])
def test_agents_keep_the_search_limit_themselves(approach: str) -> None:
    case = limit_cases("movie-like", 1, 1)[0]
    run = run_agent(case, CAPPED, approach)  # type: ignore[arg-type]
    assert run.correct, run.answer
    assert run.tool_calls == {"search": 8}
    assert run.peak["search"] == (2 if approach == "parallel" else 1)
    assert run.latency >= run.bound * 0.98  # a lower bound (small slack for clock reads)


@pytest.mark.parametrize("checkpointer", [False, True])
@pytest.mark.parametrize("path", ["sync", "async"])
def test_an_unlimited_run_measures_dispatch_from_the_paren_and_the_newline(
    path: str, checkpointer: bool
) -> None:
    case = limit_cases("parallelqa-like", 1, 0)[0]
    env = LimitEnv(FAST, TOOLS, Limits(64))
    run = run_llmcompiler(case, env, "unlimited", path, checkpointer=checkpointer)  # type: ignore[arg-type]
    assert run.correct, run.answer
    assert run.checkpointer is checkpointer
    summary = dispatch_summary([run])
    assert list(summary) == [f"{path}, checkpointer" if checkpointer else path]
    independent = sum(not s.deps for s in case.steps)
    assert len(run.dispatch_ms["paren"]) == len(run.dispatch_ms["newline"]) == independent
    # The ")" chunk comes before the newline chunk, so its latency is never the smaller one.
    for paren, newline in zip(run.dispatch_ms["paren"], run.dispatch_ms["newline"], strict=True):
        assert paren >= newline
    # LangChain's on_tool_start fires after the ")" and before the tool's body.
    handed = run.dispatch_ms["paren_to_callback"]
    assert len(handed) == independent
    assert all(0 <= h <= p for h, p in zip(handed, run.dispatch_ms["paren"], strict=True))
    assert run.timeline is not None and len(run.timeline["tasks"]) == len(case.steps)
    assert run.latency >= run.bound * 0.98


needs_limits = pytest.mark.skipif(
    supported("critical_path") is not None, reason=str(supported("critical_path"))
)
needs_fusion = pytest.mark.skipif(supported("fused") is not None, reason=str(supported("fused")))


@needs_limits
@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize("variant", ["fifo", "critical_path"])
def test_limited_runs_never_exceed_the_search_limit(variant: str, path: str) -> None:
    for case in limit_cases("movie-like", 1, 0) + limit_cases("parallelqa-like", 1, 2):
        run = run_llmcompiler(case, CAPPED, variant, path)  # type: ignore[arg-type]
        assert run.correct, run.answer
        assert 1 <= run.peak["search"] <= 2
        assert run.tool_calls["search"] == sum(s.tool == "search" for s in case.steps)
        assert run.latency >= run.bound * 0.98


@needs_fusion
@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_fused_run_makes_fewer_search_calls_and_keeps_the_answer(path: str) -> None:
    case = limit_cases("movie-like", 1, 0)[0]
    run = run_llmcompiler(case, CAPPED, "fused", path)  # type: ignore[arg-type]
    assert run.correct, run.answer
    assert run.peak["search"] <= 2
    assert run.tool_calls["search"] < 8
    assert run.timeline is not None and len(run.timeline["tasks"]) == 8


def test_targets_are_checked_from_the_summary() -> None:
    case = limit_cases("movie-like", 1, 0)[0]
    runs = [run_agent(case, CAPPED, "parallel")]
    summary = summarize(runs)
    row = summary["movie-like"]["parallel tool calling"]
    assert row["n"] == 1 and row["peak_search"] == 2 and row["search_calls"] == 8
    dispatch = {"sync": {"paren": {"p50_ms": 0.5}, "newline": {"p50_ms": 0.2}}}
    checks = evaluate_targets(summary, dispatch, {"movie-like": {"search": 2}})
    assert [(c["name"], c["ok"]) for c in checks] == [
        ("movie-like, parallel tool calling: most searches at once", True),
        ("dispatch (sync): p50 ms after the closing )", True),
    ]


def test_a_quick_session_writes_its_report_json_and_plots(tmp_path: Path) -> None:
    config = LimitsConfig(
        samples=1,
        profile="instant",
        out=tmp_path,
        jobs=4,
        progress=False,
        timescale=0.02,
        workloads=("movie-like", "mixed-dag"),
    )
    session = run_limits_session(config)
    assert "SIMULATION" in session.report
    assert "frozen out of garbage collection" in session.report
    assert gc.get_freeze_count() == 0  # each run froze the heap before it; the end thawed it
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["settings"]["simulation"] is True
    assert {r["approach"] for r in data["runs"]} >= {"react", "parallel"}
    assert all(r["correct"] for r in data["runs"] + data["dispatch_runs"])
    assert set(data["dispatch"]) == {"sync", "async", "sync, checkpointer", "async, checkpointer"}
    assert sum(r["checkpointer"] for r in data["dispatch_runs"]) * 2 == len(data["dispatch_runs"])
    assert (tmp_path / "plots" / "limits-movie-like.png").is_file()
    if supported("critical_path") is None:
        assert (tmp_path / "plots" / "timeline-mixed-dag-critical_path.png").is_file()
    else:
        assert "mixed-dag fifo" in data["settings"]["skipped"]


def test_bench_limits_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.__main__ import main

    args = ["limits", "--samples", "1", "--profile", "instant", "--timescale", "0.02"]
    code = main([*args, "--no-plots", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "SIMULATION" in err and "profile instant" in out
    assert "| mixed-dag | LLMCompiler, critical path (sync) |" in out
    assert "dispatch (async): p50 ms after the closing )" in out
    assert (tmp_path / "results.json").is_file() and not (tmp_path / "plots").exists()


def test_bench_limits_only_dispatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.__main__ import main

    args = ["limits", "--samples", "1", "--profile", "instant", "--timescale", "0.02"]
    code = main([*args, "--only", "dispatch", "--no-plots", "--out", str(tmp_path)])
    out, _ = capsys.readouterr()
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert code == 0
    assert "dispatch (sync): p50 ms after the closing )" in out
    assert "dispatch (async, checkpointer): p50 ms after the closing )" in out
    assert data["runs"] == [] and data["dispatch_runs"]
    assert "| mixed-dag |" not in out
