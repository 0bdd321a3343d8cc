"""Tool limits, priorities and fusion through the graph (``create_llm_compiler``)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fakes.apps import scripted_app
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from llmcompiler_graph import Context
from llmcompiler_graph.nodes.task_runs import CANCEL_EVENT_KEY
from llmcompiler_graph.sim import ToolCallRecord, simulated_search_tool

PLAN = (
    "".join(f'{i}. search(query="q{i}")\n' for i in range(1, 5))
    + '5. echo(text="got $3")\n6. join()<END_OF_PLAN>'
)


def fused_app(fail: bool = False, **options: Any) -> tuple[Any, list[list[str]], threading.Event]:
    """Task 1's search waits until the whole plan was planned, so 2-4 wait for its slot."""
    gate = threading.Event()
    batches: list[list[str]] = []

    @tool
    def search(query: str) -> str:
        """Search for a query."""
        gate.wait(10)
        return f"one:{query}"

    @tool
    def echo(text: str) -> str:
        """Repeat a text."""
        return text

    def search_many(queries: list[str]) -> list[str]:
        batches.append(queries)
        if fail:
            raise ConnectionError("search API down")
        return [f"many:{q}" for q in queries]

    async def asearch_many(queries: list[str]) -> list[str]:
        return search_many(queries)

    built = scripted_app(
        PLAN,
        joins=["Action: Finish(done)"],
        tools=[search, echo],
        tool_limits={"search": 1},
        batch_tools={"search": (search_many, asearch_many)},
        **options,
    )
    return built.app, batches, gate


def run(app: Any, gate: threading.Event, mode: str) -> tuple[dict[int, Any], list[dict[str, Any]]]:
    question = {"messages": [("user", "q")]}
    events: list[dict[str, Any]] = []
    final: dict[str, Any] = {}

    def seen(mode_: str, data: Any) -> None:
        if mode_ == "custom":
            events.append(data)
            if data["event"] == "planned" and data["index"] == 5:
                gate.set()
        elif mode_ == "values":
            final.update(data)

    if mode == "sync":
        for mode_, data in app.stream(question, stream_mode=["custom", "values"]):
            seen(mode_, data)
    else:

        async def go() -> None:
            async for mode_, data in app.astream(question, stream_mode=["custom", "values"]):
                seen(mode_, data)

        asyncio.run(go())
    results = {m.artifact["index"]: m for m in final["messages"] if m.type == "tool"}
    return results, events


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_fused_results_reach_their_own_tasks(mode: str) -> None:
    app, batches, gate = fused_app()
    results, events = run(app, gate, mode)
    assert batches == [["q2", "q3", "q4"]]  # one batched call instead of three
    assert {i: results[i].content for i in range(1, 6)} == {
        1: "one:q1",
        2: "many:q2",
        3: "many:q3",
        4: "many:q4",
        5: "got many:q3",  # $3 names a fused task: it gets that task's own result
    }
    started = {e["index"]: e.get("fused") for e in events if e["event"] == "started"}
    assert started == {1: None, 2: [2, 3, 4], 3: [2, 3, 4], 4: [2, 3, 4], 5: None}
    assert [e["index"] for e in events if e["event"] == "finished"].count(3) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failed_batch_fails_each_fused_task(mode: str) -> None:
    app, batches, gate = fused_app(fail=True)
    results, _ = run(app, gate, mode)
    assert batches == [["q2", "q3", "q4"]]
    for i in (2, 3, 4):
        assert results[i].status == "error"
        assert results[i].content == (
            f"task {i} 'search' failed: ConnectionError: search API down "
            "(in one batched call with tasks [2, 3, 4])"
        )
    assert results[5].content == (
        "task 5 'echo' did not run: it depends on task 3 'search', which failed"
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_whole_plan_fusion_makes_one_call_for_the_plan(mode: str) -> None:
    app, batches, gate = fused_app(fuse="plan")
    gate.set()
    question = {"messages": [("user", "q")]}
    out = app.invoke(question) if mode == "sync" else asyncio.run(app.ainvoke(question))
    assert batches == [["q1", "q2", "q3", "q4"]]  # no single call went out first
    contents = [m.content for m in out["messages"] if m.type == "tool"]
    assert contents == ["many:q1", "many:q2", "many:q3", "many:q4", "got many:q3"]


def test_fuse_modes_are_checked_and_booleans_still_work() -> None:
    assert Context(fuse=True).fuse == "waiting"  # type: ignore[arg-type]
    assert Context(fuse=False).fuse == "off"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fuse must be 'waiting', 'plan' or 'off'"):
        Context(fuse="always")  # type: ignore[arg-type]


def test_fusion_can_be_turned_off_per_run() -> None:
    app, batches, gate = fused_app()
    gate.set()
    out = app.invoke({"messages": [("user", "q")]}, context={"fuse": False})
    assert batches == []
    contents = [m.content for m in out["messages"] if m.type == "tool"]
    assert contents[:4] == ["one:q1", "one:q2", "one:q3", "one:q4"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_tool_limits_and_priority_from_the_context(mode: str) -> None:
    calls: list[ToolCallRecord] = []
    search = simulated_search_tool(latency_s=0.05, jitter_s=0.0, recorder=calls)
    plan = "".join(f'{i}. search(query="q{i}")\n' for i in range(1, 6)) + "6. join()"
    app = scripted_app(plan, joins=["Action: Finish(ok)"], tools=[search]).app
    context = {"tool_limits": {"search": 2}, "priority": "critical_path"}
    question = {"messages": [("user", "q")]}
    if mode == "sync":
        app.invoke(question, context=context)
    else:
        asyncio.run(app.ainvoke(question, context=context))
    assert len(calls) == 5
    points = sorted([(c.start, 1) for c in calls] + [(c.end, -1) for c in calls])
    running = peak = 0
    for _, step in points:
        running += step
        peak = max(peak, running)
    assert peak <= 2


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"tool_limits names unknown tool\(s\) \['serch'\]"):
        scripted_app("1. join()", tool_limits={"serch": 2})
    with pytest.raises(ValueError, match=r"batch_tools names unknown tool\(s\) \['x'\]"):
        scripted_app("1. join()", batch_tools={"x": len})
    with pytest.raises(ValueError, match="max_concurrency must be at most 64"):
        Context(max_concurrency=10**6)
    with pytest.raises(ValueError, match="max_concurrency must be at most 64"):
        scripted_app("1. join()", max_concurrency=1000)
    with pytest.raises(ValueError, match="priority must be 'fifo' or 'critical_path'"):
        Context(priority="lifo")
    with pytest.raises(ValueError, match="tool_rate_limits must map tool names"):
        Context(tool_rate_limits={"search": 0})


def test_an_in_memory_rate_limiter_is_accepted() -> None:
    from langchain_core.rate_limiters import InMemoryRateLimiter

    limiter = InMemoryRateLimiter(requests_per_second=50, max_bucket_size=2)
    built = scripted_app(
        '1. search(query="a")\n2. search(query="b")\n3. join()',
        joins=["Action: Finish(ok)"],
        tool_rate_limits={"search": limiter},
        checkpointer=InMemorySaver(),
    )
    out = built.app.invoke({"messages": [("user", "q")]}, {"configurable": {"thread_id": "r"}})
    assert [m.status for m in out["messages"] if m.type == "tool"] == ["success", "success"]


def test_breaking_out_of_a_sync_stream_cancels_the_round() -> None:
    saw_cancel = threading.Event()
    after_calls: list[str] = []

    def slow(key: str, config: RunnableConfig) -> str:
        """A long sync call that watches the run's cancel event."""
        if config["configurable"][CANCEL_EVENT_KEY].wait(30):
            saw_cancel.set()
        return "late"

    def after(key: str) -> str:
        """Runs after slow."""
        after_calls.append(key)
        return key

    plan = '1. slow(key="a")\n2. after(key="$1")\n3. join()<END_OF_PLAN>'
    app = scripted_app(plan, joins=["Action: Finish(x)"], tools=[tool(slow), tool(after)]).app
    stream = app.stream({"messages": [("user", "q")]}, stream_mode="custom")
    for event in stream:
        if event["event"] == "started" and event["index"] == 1:
            break  # the reader leaves while task 1 runs
    stream.close()  # returns once the round ended: at once, not after slow's 30 s
    assert saw_cancel.wait(10)  # the abandoned call sees the event on its own thread
    assert after_calls == []
