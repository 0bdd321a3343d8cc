"""Fault injection: failing, hanging, huge and odd tools; broken planner streams; a failing joiner.

Every case must end with a final answer within a bounded time, leave no thread running
(except a tool that ignored its timeout, which is named in the answer), and say what failed.
Each runs through ``invoke`` (worker threads) and ``ainvoke`` (event loop).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from fakes.chat_models import FaultyPlanner
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.joiner.rounds import MAX_OBSERVATION_CHARS

from .support import (
    FailingJoiner,
    reporting_joiner,
    run_bounded,
    scripted_planner,
    settle_threads,
)

pytestmark = pytest.mark.timeout(120)

MODES = ["sync", "async"]


class Unprintable:
    """A result whose str() and repr() both fail."""

    def __str__(self) -> str:
        raise RuntimeError("cannot render")

    def __repr__(self) -> str:
        raise RuntimeError("cannot repr")


class Custom:
    def __str__(self) -> str:
        return "Custom<42>"


OBJECTS: dict[str, Any] = {
    "dict": {"a": 1, "nested": [1, 2]},
    "list": [1, "two", None],
    "none": None,
    "int": 7,
    "float": float("nan"),
    "bytes": b"\x00\xffraw",
    "set": {1, 2},
    "custom": Custom(),
    "unprintable": Unprintable(),
}


class Kit:
    """Tools with faults, plus a record of what ran."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hung: list[threading.Thread] = []
        self.seen: list[tuple[str, Any]] = []
        kit = self

        @tool
        def boom(query: str) -> str:
            """Fail every time."""
            raise RuntimeError(f"backend exploded on {query!r}")

        @tool
        def hang(query: str) -> str:
            """Hang until the test releases it, ignoring any timeout."""
            kit.hung.append(threading.current_thread())
            kit.release.wait(60)
            return "too late"

        @tool
        def huge(query: str) -> str:
            """Return 10 MB of text."""
            return "x" * 10_000_000

        @tool
        def thing(kind: str) -> Any:
            """Return a non-string object of the given kind."""
            return OBJECTS[kind]

        @tool
        def flaky(query: str) -> str:
            """Be slow only when the query says so."""
            if "slow" in query:
                time.sleep(2.5)
            return f"ok {query}"

        @tool
        def echo(value: Any) -> str:
            """Record the value received and return its type name."""
            kit.seen.append(("echo", value))
            return f"got {type(value).__name__}"

        self.tools = [boom, hang, huge, thing, flaky, echo]


def run(app: Any, mode: str, question: str = "q", limit: float = 60.0) -> list[BaseMessage]:
    payload = {"messages": [("user", question)]}
    if mode == "sync":
        out = run_bounded(lambda: app.invoke(payload), limit)
    else:
        out = run_bounded(lambda: asyncio.run(app.ainvoke(payload)), limit)
    messages: list[BaseMessage] = out["messages"]
    assert isinstance(messages[-1], AIMessage) and messages[-1].name == "joiner"
    return messages


def results(messages: list[BaseMessage]) -> dict[str, ToolMessage]:
    return {
        str(m.artifact["index"]): m
        for m in messages
        if isinstance(m, ToolMessage) and isinstance(m.artifact, dict)
    }


@pytest.fixture
def kit() -> Any:
    k = Kit()
    yield k
    k.release.set()


@pytest.mark.parametrize("mode", MODES)
def test_a_raising_tool_fails_its_task_and_skips_its_dependents(kit: Kit, mode: str) -> None:
    before = threading.enumerate()
    plan = '1. boom("a")\n2. echo(value="$1 more")\n3. echo(value="fine")\n4. join()<END_OF_PLAN>'
    app = create_llm_compiler(scripted_planner(plan), kit.tools, joiner_model=reporting_joiner())
    messages = run(app, mode)
    by_index = results(messages)
    assert by_index["1"].status == "error"
    assert "RuntimeError: backend exploded on 'a'" in by_index["1"].content
    assert by_index["2"].artifact["status"] == "skipped"
    assert "depends on task 1 'boom'" in by_index["2"].content
    assert by_index["3"].status == "success"
    assert kit.seen == [("echo", "fine")]
    answer = messages[-1].content
    assert "backend exploded" in answer and "task 2 'echo' did not run" in answer
    assert settle_threads(before) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_hanging_tool_times_out_and_its_thread_is_the_only_one_left(kit: Kit, mode: str) -> None:
    before = threading.enumerate()
    plan = '1. hang("a")\n2. echo(value="$1")\n3. echo(value="b")\njoin()'
    app = create_llm_compiler(
        scripted_planner(plan), kit.tools, joiner_model=reporting_joiner(), task_timeout=0.5
    )
    started = time.perf_counter()
    messages = run(app, mode, limit=30)
    elapsed = time.perf_counter() - started
    assert elapsed < 30  # the hung call (60 s) was abandoned, not waited for
    by_index = results(messages)
    assert by_index["1"].artifact["status"] == "timeout"
    assert "timed out after 0.5 s" in by_index["1"].content
    assert by_index["2"].artifact["status"] == "skipped"
    assert by_index["3"].status == "success"
    assert "task 1 'hang' timed out" in messages[-1].content
    # Only the thread of the tool that ignored its timeout is still running.
    assert len(kit.hung) == 1
    assert settle_threads(before, exclude=kit.hung) == []
    assert kit.hung[0].is_alive()
    kit.release.set()
    kit.hung[0].join(10)
    assert not kit.hung[0].is_alive()


@pytest.mark.parametrize("mode", MODES)
def test_a_10_mb_result_is_clipped_in_the_transcript_but_passed_whole(kit: Kit, mode: str) -> None:
    before = threading.enumerate()
    joiner = reporting_joiner()
    plan = '1. huge("a")\n2. echo(value="$1")\n3. join()'
    app = create_llm_compiler(scripted_planner(plan), kit.tools, joiner_model=joiner)
    events: list[Any] = []
    payload = {"messages": [("user", "q")]}

    def stream() -> Any:
        if mode == "sync":
            return list(app.stream(payload, stream_mode=["custom", "values"]))

        async def collect() -> list[Any]:
            return [part async for part in app.astream(payload, stream_mode=["custom", "values"])]

        return asyncio.run(collect())

    for kind, data in run_bounded(stream):
        events.append((kind, data))
    final = [d for k, d in events if k == "values"][-1]["messages"]
    by_index = results(final)
    assert by_index["1"].status == "success"
    assert len(by_index["1"].content) < MAX_OBSERVATION_CHARS + 200
    assert "more characters not shown" in by_index["1"].content
    # Whole in the state while its question runs, where a later round's or an approved
    # task's $1 reads it; once the question is answered the thread keeps a preview.
    during = [results(d["messages"]) for k, d in events if k == "values"][:-1]
    assert any(len(r["1"].artifact["value"]) == 10_000_000 for r in during if "1" in r)
    assert len(by_index["1"].artifact["value"]) < MAX_OBSERVATION_CHARS + 200
    assert by_index["1"].additional_kwargs["llmcompiler"]["trimmed"] >= 10_000_000
    assert kit.seen and len(kit.seen[0][1]) == 10_000_000  # the dependent got it whole
    assert all(len(str(d)) < 5_000 for k, d in events if k == "custom")
    assert max(len("".join(m.text for m in call)) for call in joiner.calls) < 50_000
    assert settle_threads(before) == []


@pytest.mark.parametrize("mode", MODES)
def test_non_string_results_become_text_and_pass_unchanged(kit: Kit, mode: str) -> None:
    before = threading.enumerate()
    lines = [f'{i}. thing("{kind}")' for i, kind in enumerate(OBJECTS, start=1)]
    n = len(OBJECTS)
    lines += [f'{n + i}. echo(value="${i}")' for i in range(1, n + 1)]
    lines.append("join()")
    app = create_llm_compiler(
        scripted_planner("\n".join(lines)), kit.tools, joiner_model=reporting_joiner()
    )
    messages = run(app, mode)
    by_index = results(messages)
    for i, kind in enumerate(OBJECTS, start=1):
        message = by_index[str(i)]
        assert message.status == "success", (kind, message.content)
        assert isinstance(message.content, str)
    assert "Custom<42>" in by_index[str(list(OBJECTS).index("custom") + 1)].content
    assert "Unprintable" in by_index[str(list(OBJECTS).index("unprintable") + 1)].content
    # An exact "$N" hands the object itself to the next tool.
    received = {type(v).__name__ for _, v in kit.seen}
    assert {"dict", "list", "NoneType", "int", "float", "bytes", "Custom"} <= received
    assert settle_threads(before) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_tool_slow_only_sometimes_times_out_only_then(kit: Kit, mode: str) -> None:
    before = threading.enumerate()
    plan = (
        '1. flaky("fast a")\n2. flaky("slow b")\n3. flaky("fast c")\n'
        '4. echo(value="$1 / $3")\n5. echo(value="$2 / $1")\njoin()'
    )
    app = create_llm_compiler(
        scripted_planner(plan), kit.tools, joiner_model=reporting_joiner(), task_timeout=1.0
    )
    messages = run(app, mode)
    by_index = results(messages)
    assert [by_index[str(i)].artifact["status"] for i in range(1, 6)] == [
        "ok",
        "timeout",
        "ok",
        "ok",
        "skipped",
    ]
    assert ("echo", "ok fast a / ok fast c") in kit.seen
    assert "task 2 'flaky' timed out" in messages[-1].content
    # The slow call finishes by itself (2.5 s) and its thread ends: nothing is left.
    assert settle_threads(before) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_planner_stream_that_stops_mid_line(kit: Kit, mode: str) -> None:
    before = threading.enumerate()
    planner = FaultyPlanner(chunks=['1. echo(value="a")\n2. echo(val', 'ue="b'])
    app = create_llm_compiler(planner, kit.tools, joiner_model=reporting_joiner())
    messages = run(app, mode)
    by_index = results(messages)
    assert by_index["1"].status == "success"
    assert by_index["2"].status == "error"
    assert "task 2 'echo'" in by_index["2"].content
    assert kit.seen == [("echo", "a")]
    assert "task 2 'echo'" in messages[-1].content
    assert settle_threads(before) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chunks", [['1. echo(value="a")\n2. ec'], []])
def test_a_planner_stream_that_raises(kit: Kit, mode: str, chunks: list[str]) -> None:
    before = threading.enumerate()
    planner = FaultyPlanner(chunks=chunks, error="connection reset by peer")
    app = create_llm_compiler(planner, kit.tools, joiner_model=reporting_joiner())
    messages = run(app, mode)
    answer = messages[-1].content
    assert "the planner's stream failed: BrokenStream: connection reset by peer" in answer
    if chunks:  # the task parsed before the failure still ran
        assert results(messages)["1"].status == "success"
        assert kit.seen == [("echo", "a")]
    assert settle_threads(before) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_joiner_that_raises_still_ends_with_an_answer(kit: Kit, mode: str) -> None:
    before = threading.enumerate()
    plan = '1. echo(value="a")\n2. boom("b")\njoin()'
    app = create_llm_compiler(scripted_planner(plan), kit.tools, joiner_model=FailingJoiner())
    messages = run(app, mode)
    answer = messages[-1].content
    assert "joiner model failed" in answer
    assert "ConnectionError: joiner endpoint unreachable" in answer
    assert "backend exploded" in answer  # the results so far are in the answer
    assert settle_threads(before) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_planner_that_loops_forever_is_bounded_by_max_replans(kit: Kit, mode: str) -> None:
    # The joiner always asks for a new plan; the run must still end after max_replans.
    from llmcompiler_graph.sim import ScriptedChatModel

    planner = ScriptedChatModel(responses=lambda messages: '1. boom("again")\njoin()')
    joiner = ScriptedChatModel(
        responses=lambda messages: "Thought: still failing.\nAction: Replan(try again)"
    )
    app = create_llm_compiler(planner, kit.tools, joiner_model=joiner, max_replans=2)
    messages = run(app, mode)
    plans = [m for m in messages if isinstance(m, AIMessage) and m.name == "planner"]
    assert len(plans) == 3
    assert "could not complete this within 2 replan" in messages[-1].content
