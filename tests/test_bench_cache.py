"""The prompt-caching benchmark: a conversation in one thread, with and without a cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.caching import (
    CONVERSATION_MIX,
    CacheConfig,
    against_react,
    conversation_cases,
    run_cache_session,
    run_conversation,
)
from benchmarks.harness import ZERO_TIMINGS
from benchmarks.runner import Env, run_case
from llmcompiler_graph.sim import LatencyProfile

pytestmark = pytest.mark.timeout(300)

PRICED = LatencyProfile("priced-instant", 0.0, 0.0, 0.5, 1.5)
"""No latency, gpt-3.5's prices: fast runs whose costs compare."""


def env(cache: str | None) -> Env:
    return Env(PRICED, ZERO_TIMINGS, cache=cache)


def test_the_conversation_takes_its_questions_from_each_workload_in_turn() -> None:
    cases = conversation_cases(10, 0)
    assert [c.workload for c in cases[:4]] == list(CONVERSATION_MIX)
    assert len(cases) == 10 and len({c.id for c in cases}) == 10
    assert any(len(c.rounds) > 1 for c in cases)  # the puzzle replans


@pytest.mark.parametrize("approach", ["llmcompiler", "llmcompiler-tool-calls"])
def test_llmcompiler_in_a_thread_is_served_from_cache_up_to_each_new_part(approach: str) -> None:
    cases = conversation_cases(6, 0)
    plain = run_conversation(cases, approach, env(None))  # type: ignore[arg-type]
    cached = run_conversation(cases, approach, env("vllm"))  # type: ignore[arg-type]
    assert all(q.correct for q in plain.questions + cached.questions)
    # The same prompts either way; without a cache nothing is served from one.
    assert [q.input_tokens for q in plain.questions] == [q.input_tokens for q in cached.questions]
    assert sum(q.cached_tokens for q in plain.questions) == 0
    later = [p for q in cached.questions[1:] for p in q.planner]
    assert sum(c for _, c in later) >= 0.8 * sum(i for i, _ in later)
    # Each replan is served its prompt up to its new rounds.
    replans = [r for q in cached.questions for r in q.replans]
    assert replans and all(cached_tokens >= can for cached_tokens, can in replans)
    # Later questions see the earlier ones: the planner's prompt grows along the thread.
    firsts = [q.planner[0][0] for q in cached.questions]
    assert firsts[-1] > firsts[0]


def test_react_caches_its_append_only_prompt_and_pays_less() -> None:
    cases = conversation_cases(4, 0)
    plain = run_conversation(cases, "react", env(None))
    cached = run_conversation(cases, "react", env("openai"))
    assert all(q.correct for q in cached.questions)
    total = sum(q.input_tokens for q in cached.questions)
    assert sum(q.cached_tokens for q in cached.questions) > 0.5 * total
    assert sum(q.cost for q in cached.questions) < sum(q.cost for q in plain.questions)


def test_a_run_shares_its_approach_cache_with_later_runs_only() -> None:
    shared = env("vllm")
    case = conversation_cases(2, 0)[1]  # a movie question: a long agent prompt
    first = run_case("react", case, shared)
    second = run_case("react", case, shared)
    other = run_case("parallel", case, shared)  # another approach: its own, cold cache
    assert second.cached_tokens > first.cached_tokens
    assert other.cached_tokens < second.cached_tokens
    assert second.cost <= first.cost and second.ttft_s is not None


def test_the_session_writes_its_report_with_both_modes_and_the_targets(tmp_path: Path) -> None:
    session = run_cache_session(
        CacheConfig(
            samples=1,
            questions=4,
            profile=PRICED,
            rules="vllm",
            out=tmp_path,
            timings=ZERO_TIMINGS,
            keep_awake=False,
            approaches=("llmcompiler", "react"),
        )
    )
    report = (tmp_path / "RESULTS.md").read_text()
    assert (tmp_path / "results.json").is_file()
    assert "planner input tokens from cache, question 2 on" in report
    assert "replans cached up to their new rounds" in report
    assert "both cached" in report and "the fair comparison" in report
    rows = session.summary["conversation"]["llmcompiler"]
    assert set(rows) == {"uncached", "cached"}
    assert rows["cached"]["planner_cached_share_from_q2"] > 0.8


def test_the_readme_quotes_the_recorded_cost_ratios() -> None:
    root = Path(__file__).resolve().parents[1]
    summary = json.loads((root / "benchmarks/results/cache/results.json").read_text())["summary"]
    readme = (root / "README.md").read_text(encoding="utf-8")
    for groups, words in (
        (list(summary["paper"].values()), "on the paper workloads"),
        ([summary["conversation"]], "over a\n10-question conversation"),
    ):
        uncached, cached, _ = against_react(groups)
        assert uncached is not None and cached is not None
        quoted = f"from {uncached:.1f}x to {cached:.1f}x {words}"
        assert " ".join(quoted.split()) in " ".join(readme.split())
