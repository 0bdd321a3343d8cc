"""A failure while reading one call of a plan fails that call alone; the rest of the plan runs.

Deeply nested (but valid) JSON arguments, a tool name streamed 100 kB long: the call ends
with an error that says what was wrong, bounded in size, and every other call still runs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fakes.chat_models import ChunkedToolCalls
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.tools import tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.planner import tool_calls
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tool_calls import MAX_ARGUMENT_DEPTH
from llmcompiler_graph.sim import ScriptedChatModel

pytestmark = pytest.mark.timeout(120)


@tool
def work(x: Any) -> str:
    """Do some work on x."""
    return f"worked {str(x)[:10]}"


def chunk(index: int, name: str | None, args: str, call_id: str | None = None) -> dict[str, Any]:
    return {"index": index, "id": call_id, "name": name, "args": args, "type": "tool_call_chunk"}


def finish_with_observations(messages: list[BaseMessage]) -> str:
    return "Thought: ok\nAction: Finish(done)"


def run(groups: list[list[dict[str, Any]]], mode: str, **settings: Any) -> list[ToolMessage]:
    planner = ChunkedToolCalls(groups=groups)
    joiner = ScriptedChatModel(responses=finish_with_observations)
    app = create_llm_compiler(
        planner, [work], joiner_model=joiner, plan_format="tool_calls", **settings
    )
    question = {"messages": [("user", "q")]}
    out = app.invoke(question) if mode == "sync" else asyncio.run(app.ainvoke(question))
    return [m for m in out["messages"] if isinstance(m, ToolMessage)]


def around(middle: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Call 1 and call 3 are fine; ``middle`` streams call 2."""
    return [
        [chunk(0, "work", '{"x": "a"}', "c1")],
        *middle,
        [chunk(2, "work", '{"x": "c"}', "c3")],
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("depth", [MAX_ARGUMENT_DEPTH + 1, 900, 5_000])
def test_deeply_nested_arguments_fail_their_call_only(mode: str, depth: int) -> None:
    # RecursionError at 900 once ended the plan's stream: call 3 never ran.
    deep = '{"x": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"
    results = run(around([[chunk(1, "work", deep, "c2")]]), mode)
    assert [m.content for m in results if m.status == "success"] == ["worked a", "worked c"]
    (failed,) = [m for m in results if m.status == "error"]
    assert "task 2 'work': the arguments nest deeper than 100 levels" in failed.content
    assert len(failed.content) < 1_000


def test_arguments_nested_up_to_the_bound_run() -> None:
    deep = '{"x": ' + "[" * (MAX_ARGUMENT_DEPTH - 1) + "1" + "]" * (MAX_ARGUMENT_DEPTH - 1) + "}"
    results = run(around([[chunk(1, "work", deep, "c2")]]), "sync")
    assert [m.status for m in results] == ["success"] * 3


# A tool name streamed in 20,000 pieces of 5 characters (each differs from the name so far,
# so none is taken for a provider repeating the name).
LONG_NAME = [[chunk(1, f"{i:04d}w", "", "c2")] for i in range(20_000)]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_huge_tool_name_fails_its_call_quickly_and_stays_small(mode: str) -> None:
    started = time.process_time()
    results = run(around([*LONG_NAME, [chunk(1, None, '{"x": 1}')]]), mode)
    assert time.process_time() - started < 10  # 34 s of CPU before
    assert [m.content for m in results if m.status == "success"] == ["worked a", "worked c"]
    (failed,) = [m for m in results if m.status == "error"]
    assert "task 2" in failed.content and "tool name is longer than" in failed.content
    assert len(failed.content) < 1_000
    assert len(failed.name or "") <= 100


def test_a_call_s_name_counts_towards_max_plan_chars() -> None:
    planner = ChunkedToolCalls(groups=around(LONG_NAME))
    joiner = ScriptedChatModel(responses=finish_with_observations)
    app = create_llm_compiler(
        planner, [work], joiner_model=joiner, plan_format="tool_calls", max_plan_chars=20_000
    )
    out = app.invoke({"messages": [("user", "q")]})
    plan = out["messages"][1]
    assert "the plan was cut at max_plan_chars=20000" in str(plan.content)
    assert sum(len(str(m)) for m in out["messages"]) < 30_000


def test_any_failure_reading_one_call_fails_that_call_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = tool_calls.dependencies

    def fragile(value: object, *args: Any, **kwargs: Any) -> frozenset[int]:
        if value == {"x": "boom"}:
            raise RecursionError("maximum recursion depth exceeded")
        return real(value, *args, **kwargs)

    monkeypatch.setattr(tool_calls, "dependencies", fragile)
    spec = {"work": ToolSpec("work", ("x",), frozenset({"x"}))}
    chunks = [
        chunk(0, "work", '{"x": "a"}', "c1"),
        chunk(1, "work", '{"x": "boom"}', "c2"),
        chunk(2, "work", '{"x": "$1"}', "c3"),
    ]
    tasks = tool_calls.read_tool_call_plan(chunks, spec).tasks
    assert [t.index for t in tasks] == [1, 2, 3]
    assert tasks[0].error is None and tasks[2].error is None and tasks[2].deps == {1}
    assert tasks[1].error == (
        "task 2 'work': this call could not be read (RecursionError); "
        "call the tool with plain JSON arguments"
    )
