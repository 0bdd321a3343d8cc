"""The ideal schedule by hand on small DAGs, and its token timing against the real parser."""

from __future__ import annotations

import pytest

from benchmarks.harness import ZERO_TIMINGS, make_tools
from benchmarks.ideal import (
    IdealRound,
    IdealTask,
    agent_makespan,
    call_close_tokens,
    call_seconds,
    line_ready_tokens,
    llmcompiler_schedule,
    token_offset,
)
from benchmarks.measures import readiness
from benchmarks.scripts import plan_text, plan_tool_calls
from benchmarks.synthetic import synthetic_cases
from llmcompiler_graph.planner.parser import PlanParser
from llmcompiler_graph.planner.tool_calls import ToolCallPlanReader
from llmcompiler_graph.planner.tool_specs import tool_spec
from llmcompiler_graph.sim import LatencyProfile, ScriptedChatModel, tokenize

PROFILE = LatencyProfile(
    "hand", ttft_s=1.0, output_tokens_per_s=10.0, input_cost_per_mtok=0.0, output_cost_per_mtok=0.0
)


def test_token_and_call_times() -> None:
    assert token_offset(PROFILE, 0) == 1.0
    assert token_offset(PROFILE, 5) == pytest.approx(1.5)
    assert call_seconds(PROFILE, 11) == pytest.approx(2.0)  # last of 11 tokens at 1.0 + 10 * 0.1
    assert call_seconds(PROFILE, 11, prefill=0.25) == pytest.approx(2.25)


def test_diamond_by_hand() -> None:
    # 1 and 2 start when their lines stream; 3 waits for both; the joiner waits for 3.
    tasks = (
        IdealTask(1, ready=1.2, duration=1.0),
        IdealTask(2, ready=1.4, duration=0.5),
        IdealTask(3, ready=1.6, duration=0.3, deps=(1, 2)),
    )
    schedule = llmcompiler_schedule([IdealRound(planner=2.0, tasks=tasks, joiner=1.5)])
    assert schedule.tasks[1] == pytest.approx((1.2, 2.2))
    assert schedule.tasks[2] == pytest.approx((1.4, 1.9))
    assert schedule.tasks[3] == pytest.approx((2.2, 2.5))
    assert schedule.joiners[0] == pytest.approx((2.5, 4.0))
    assert schedule.makespan == pytest.approx(4.0)


def test_joiner_waits_for_the_plan_to_finish_streaming() -> None:
    schedule = llmcompiler_schedule([IdealRound(3.0, (IdealTask(1, 1.0, 0.5),), 1.0)])
    assert schedule.joiners[0] == pytest.approx((3.0, 4.0))


def test_chain_where_the_stream_is_the_bottleneck() -> None:
    # Each line streams after its dependency is already done: the stream sets the pace.
    tasks = tuple(
        IdealTask(i, ready=float(i), duration=0.1, deps=(i - 1,) if i > 1 else ())
        for i in range(1, 4)
    )
    schedule = llmcompiler_schedule([IdealRound(3.5, tasks, 0.5)])
    assert [schedule.tasks[i][0] for i in (1, 2, 3)] == pytest.approx([1.0, 2.0, 3.0])
    assert schedule.makespan == pytest.approx(4.0)


def test_second_round_starts_after_the_first_joiner_and_may_use_earlier_results() -> None:
    first = IdealRound(1.0, (IdealTask(1, 0.5, 2.0),), 0.5)  # task 1 ends 2.5, joiner 2.5-3.0
    second = IdealRound(1.0, (IdealTask(2, 0.5, 1.0, deps=(1,)),), 0.5)
    schedule = llmcompiler_schedule([first, second])
    assert schedule.planners[1] == pytest.approx((3.0, 4.0))
    assert schedule.tasks[2] == pytest.approx((3.5, 4.5))
    assert schedule.makespan == pytest.approx(5.0)


def test_agent_makespan_sums_turns_and_slowest_tools() -> None:
    assert agent_makespan([(1.0, [1.0, 2.0]), (0.5, [0.3]), (0.7, [])]) == pytest.approx(4.5)


@pytest.mark.parametrize("workload", ["diamond", "random-dag", "replan"])
def test_call_close_token_is_where_the_real_parser_emits_the_task(workload: str) -> None:
    # The parser starts a task at its closing ")", one token before the newline.
    case = synthetic_cases(workload, 1, 3)[0]
    specs = {t.name: tool_spec(t) for t in make_tools(case, ZERO_TIMINGS, [])}
    for round_ in case.rounds:
        text = plan_text(round_)
        parser = PlanParser(
            specs,
            planned=[
                s.index for r in case.rounds for s in r.steps if s.index < round_.steps[0].index
            ],
        )
        emitted: dict[int, int] = {}
        for k, token in enumerate(tokenize(text)):
            for task in parser.feed(token):
                assert task.error is None, task.error
                emitted[task.index] = k
        assert emitted == call_close_tokens(text)
        assert all(line_ready_tokens(text)[i] == k + 1 for i, k in emitted.items())


@pytest.mark.parametrize("workload", ["diamond", "random-dag", "replan"])
def test_tool_call_readiness_is_where_the_real_reader_emits_the_task(workload: str) -> None:
    case = synthetic_cases(workload, 1, 3)[0]
    specs = {t.name: tool_spec(t) for t in make_tools(case, ZERO_TIMINGS, [])}
    for round_ in case.rounds:
        first = round_.steps[0].index
        model = ScriptedChatModel(responses=[plan_tool_calls(round_)], stream_tool_calls=True)
        reader = ToolCallPlanReader(specs, start=first, planned=range(1, first))
        emitted: dict[int, int] = {}
        for k, chunk in enumerate(model.stream("plan")):
            reader.feed_text(chunk.text)
            for task in reader.feed(chunk.tool_call_chunks):
                assert task.error is None, task.error
                emitted[task.index] = k
        for task in reader.close():
            emitted[task.index] = k
        slots, chunks, tokens = readiness(round_, tool_calls=True)
        assert emitted == chunks
        assert tokens == model.events[0].output_tokens
        assert sorted(slots) == sorted(chunks) and all(slots[i] < tokens for i in slots)
