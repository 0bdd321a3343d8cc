"""The limits benchmark's workloads: their shapes, and their plans through the real parser."""

from __future__ import annotations

import pytest

from benchmarks.harness import ZERO_TIMINGS, make_tools
from benchmarks.limits.workloads import CHAIN_LENGTH, FAN_OUT, LIMIT_WORKLOADS, limit_cases
from benchmarks.scripts import joiner_reply, parallel_turns, plan_text, react_turns
from benchmarks.workloads import levels
from llmcompiler_graph.joiner.decision import parse_decision
from llmcompiler_graph.planner.parser import parse_plan
from llmcompiler_graph.planner.tool_specs import tool_spec


def test_movie_like_is_eight_independent_searches_of_the_titles_asked() -> None:
    for case in limit_cases("movie-like", 5, 0):
        assert [s.tool for s in case.steps] == ["search"] * 8
        assert not any(s.deps for s in case.steps)
        queries = [str(s.args["query"]) for s in case.steps]
        assert len(set(queries)) == 8
        head, _, options = case.question.partition("Options:")
        assert all(q in head for q in queries[:4])
        assert all(q in options for q in queries[4:])
        assert case.answer in queries[4:]


def test_parallelqa_like_branches_feed_one_final_step() -> None:
    cases = limit_cases("parallelqa-like", 3, 0)
    assert [c.meta["branch"] for c in cases] == [3, 4, 5]
    for case in cases:
        branch = int(str(case.meta["branch"]))
        assert len(case.steps) == 2 * branch + 1
        assert [len(level) for level in levels(case.steps)] == [branch, branch, 1]
        for i in range(1, branch + 1):
            assert case.steps[branch + i - 1].deps == (i,)
        assert case.steps[-1].deps == tuple(range(branch + 1, 2 * branch + 1))


def test_mixed_dag_is_a_chain_planned_before_a_wide_fan_out() -> None:
    case = limit_cases("mixed-dag", 1, 3)[0]
    chain, fan = case.steps[:CHAIN_LENGTH], case.steps[CHAIN_LENGTH:]
    assert len(fan) == FAN_OUT and all(s.tool == "search" and not s.deps for s in fan)
    assert chain[0].tool == "search" and not chain[0].deps
    assert [s.deps for s in chain[1:]] == [(i,) for i in range(1, CHAIN_LENGTH)]
    assert len(levels(case.steps)) == CHAIN_LENGTH


def test_samples_differ_and_repeat() -> None:
    for workload in LIMIT_WORKLOADS:
        first, second = limit_cases(workload, 2, 0)
        assert first.question != second.question
        assert limit_cases(workload, 1, 1)[0] == second
    with pytest.raises(ValueError, match="unknown limits workload 'nope'"):
        limit_cases("nope", 1, 0)


@pytest.mark.parametrize("workload", LIMIT_WORKLOADS)
def test_plans_parse_and_scripts_agree(workload: str) -> None:
    for case in limit_cases(workload, 3, 0):
        specs = {t.name: tool_spec(t) for t in make_tools(case, ZERO_TIMINGS, [])}
        (round_,) = case.rounds
        tasks = parse_plan(plan_text(round_), specs).tasks
        assert [t.error for t in tasks] == [None] * len(case.steps)
        assert {t.index: t.deps for t in tasks} == {s.index: frozenset(s.deps) for s in case.steps}
        decision = parse_decision(joiner_reply(case, 0))
        assert (decision.action, decision.text) == ("finish", case.answer)
        assert len(react_turns(case)) == len(case.steps) + 1
        assert len(parallel_turns(case)) == len(levels(case.steps)) + 1
