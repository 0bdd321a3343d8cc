"""The async path: what only ``AsyncTaskFetchingUnit`` does (coroutines on the loop), and the
graph's ``ainvoke``/``astream``. Behaviour both drivers share is tested in test_fetching.py."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from blockbuster import BlockBuster
from fakes.apps import scripted_app
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool, tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.executor.toolcall import has_async
from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.jobs import Job, Outcome, TaskEvent
from llmcompiler_graph.nodes.task_runs import CANCEL_EVENT_KEY
from llmcompiler_graph.sim import ScriptedChatModel, ToolCallRecord, simulated_search_tool

Span = dict[int, tuple[float, float, str]]


def sleeper(index: int, seconds: float, spans: Span, *, value: object = None) -> Any:
    """An async job that records (start, end, thread) and returns ``value`` or its deps."""

    async def run(deps: Mapping[int, object]) -> object:
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        spans[index] = (start, time.perf_counter(), threading.current_thread().name)
        return value if value is not None else dict(deps)

    return run


def blocking(index: int, seconds: float, spans: Span) -> Callable[[Mapping[int, object]], object]:
    """A sync job (runs on a worker thread) that sleeps, as a blocking tool would."""

    def run(deps: Mapping[int, object]) -> object:
        start = time.perf_counter()
        time.sleep(seconds)
        spans[index] = (start, time.perf_counter(), threading.current_thread().name)
        return index

    return run


def most_at_once(spans: Span) -> int:
    points = sorted(
        [(s, 1) for s, _, _ in spans.values()] + [(e, -1) for _, e, _ in spans.values()]
    )
    running = peak = 0
    for _, step in points:
        running += step
        peak = max(peak, running)
    return peak


async def run_unit(jobs: list[Job], **kwargs: Any) -> tuple[dict[int, Outcome], list[TaskEvent]]:
    events: list[TaskEvent] = []
    async with AsyncTaskFetchingUnit(on_event=events.append, **kwargs) as tfu:
        for job in jobs:
            tfu.submit(job)
        tfu.close()
        return await tfu.wait(), events


def test_diamond_runs_async_jobs_on_the_loop_and_sync_jobs_on_threads() -> None:
    spans: Span = {}
    jobs = [
        Job(1, "a", sleeper(1, 0.1, spans, value="A")),
        Job(2, "b", blocking(2, 0.2, spans), deps=frozenset({1})),
        Job(3, "c", sleeper(3, 0.05, spans, value="C"), deps=frozenset({1})),
        Job(4, "d", sleeper(4, 0.01, spans), deps=frozenset({2, 3})),
    ]
    outcomes, events = asyncio.run(run_unit(jobs, max_concurrency=4))
    assert all(o.ok for o in outcomes.values())
    assert outcomes[4].value == {2: 2, 3: "C"}
    # Dependencies respected; 2 and 3 overlap; the loop kept running while 2 blocked a thread.
    assert spans[2][0] >= spans[1][1] and spans[3][0] >= spans[1][1]
    assert spans[4][0] >= max(spans[2][1], spans[3][1])
    assert spans[3][1] < spans[2][1]
    assert spans[2][2].startswith("llmcompiler-atask")
    assert spans[1][2] == spans[3][2] == threading.main_thread().name
    kinds = [(e.kind, e.index) for e in events]
    for index in (1, 2, 3, 4):
        assert kinds.index(("planned", index)) < kinds.index(("started", index))
        assert kinds.index(("started", index)) < kinds.index(("finished", index))


def test_max_concurrency_is_a_hard_cap_for_mixed_jobs() -> None:
    spans: Span = {}
    jobs = [
        Job(i, "x", sleeper(i, 0.05, spans) if i % 2 else blocking(i, 0.05, spans))
        for i in range(1, 11)
    ]

    async def go() -> int:
        async with AsyncTaskFetchingUnit(max_concurrency=3) as tfu:
            for job in jobs:
                tfu.submit(job)
            tfu.close()
            await tfu.wait()
            return tfu.peak_running

    peak = asyncio.run(go())
    assert peak == 3
    assert most_at_once(spans) <= 3
    assert len(spans) == 10


def test_failures_timeouts_and_skips() -> None:
    spans: Span = {}

    async def boom(deps: Mapping[int, object]) -> object:
        raise ValueError("no such page")

    jobs = [
        Job(1, "bad", boom),
        Job(2, "slow_async", sleeper(2, 5.0, spans)),
        Job(3, "slow_sync", blocking(3, 1.0, spans)),
        Job(4, "after", sleeper(4, 0.01, spans), deps=frozenset({1})),
        Job(5, "chain", sleeper(5, 0.01, spans), deps=frozenset({4})),
        Job(6, "fine", sleeper(6, 0.01, spans), deps=frozenset({2, 3})),
        Job(7, "invalid", None, error="task 7 'x': unknown tool 'x'"),
    ]
    started = time.perf_counter()
    outcomes, _ = asyncio.run(run_unit(jobs, max_concurrency=4, timeout=0.3))
    assert time.perf_counter() - started < 4.0  # the 5 s job was cut off
    assert outcomes[1].status == "error"
    assert outcomes[1].error == "task 1 'bad' failed: ValueError: no such page"
    assert outcomes[2].status == outcomes[3].status == "timeout"
    assert "timed out after 0.3 s" in str(outcomes[2].error)
    assert outcomes[4].status == outcomes[5].status == outcomes[6].status == "skipped"
    assert (
        outcomes[4].error == "task 4 'after' did not run: it depends on task 1 'bad', which failed"
    )
    assert "(because task 1 'bad' failed)" in str(outcomes[5].error)
    assert outcomes[7].error == "task 7 'x': unknown tool 'x'"
    assert 2 not in spans  # the async call was cancelled, not left running


def test_a_tool_raising_timeout_error_without_a_task_timeout_is_an_error() -> None:
    async def upstream(deps: Mapping[int, object]) -> object:
        raise TimeoutError("upstream timed out")

    outcomes, _ = asyncio.run(
        asyncio.wait_for(run_unit([Job(1, "t", upstream)], max_concurrency=1), 10)
    )
    assert outcomes[1].status == "error"
    assert outcomes[1].error == "task 1 't' failed: TimeoutError: upstream timed out"


# -- the graph -------------------------------------------------------------------------------

PLAN = (
    '1. search(query="a")\n2. lookup(key="b")\n3. lookup(key="$1 and $2")\n4. join()<END_OF_PLAN>'
)


def graph_with_mixed_tools(
    plan: str = PLAN, **kwargs: Any
) -> tuple[Any, list[ToolCallRecord], Span]:
    calls: list[ToolCallRecord] = []
    spans: Span = {}
    search = simulated_search_tool(latency_s=0.2, jitter_s=0.0, recorder=calls)  # async + sync

    @tool
    def lookup(key: str) -> str:
        """Look a key up (a sync-only tool)."""
        start = time.perf_counter()
        time.sleep(0.2)
        spans[2 if key == "b" else 3] = (
            start,
            time.perf_counter(),
            threading.current_thread().name,
        )
        return f"value of {key}"

    joins = ["Thought: ok\nAction: Finish(done)"]
    app = scripted_app(plan, joins=joins, tools=[search, lookup], **kwargs).app
    return app, calls, spans


def test_has_async() -> None:
    assert has_async(simulated_search_tool())

    @tool
    def sync_only(x: str) -> str:
        """Do x."""
        return x

    assert not has_async(sync_only)
    assert isinstance(sync_only, StructuredTool)


def test_ainvoke_runs_async_tools_on_the_loop_and_sync_tools_on_threads() -> None:
    app, calls, spans = graph_with_mixed_tools()
    loop_thread: list[str] = []

    async def go() -> dict[str, Any]:
        loop_thread.append(threading.current_thread().name)
        return dict(await app.ainvoke({"messages": [("user", "q")]}))

    out = asyncio.run(go())
    results = {m.artifact["index"]: m for m in out["messages"] if m.type == "tool"}
    text = str(results[3].content)
    assert text.startswith("value of Search result for 'a'") and text.endswith(" and value of b")
    (search_call,) = calls
    assert search_call.thread == loop_thread[0]  # the async implementation, on the loop
    sync_threads = {name for _, _, name in spans.values()}
    assert sync_threads and all(n.startswith("llmcompiler-atask") for n in sync_threads)
    # Task 2 (sync) overlapped task 1 (async); task 3 started after both.
    (s2, e2, _), (s3, _, _) = spans[2], spans[3]
    assert s2 < search_call.end and search_call.start < e2
    assert s3 >= max(e2, search_call.end)


def test_astream_streams_task_events_and_honours_max_concurrency() -> None:
    plan = "".join(f'{i}. search(query="q{i}")\n' for i in range(1, 7)) + "7. join()"
    app, calls, _ = graph_with_mixed_tools(plan, max_concurrency=2)

    async def go() -> list[dict[str, Any]]:
        return [
            data
            async for mode, data in app.astream(
                {"messages": [("user", "q")]}, stream_mode=["custom", "updates"]
            )
            if mode == "custom"
        ]

    events = asyncio.run(go())
    assert len([e for e in events if e["event"] == "finished" and e["ok"]]) == 6
    spans = {i: (c.start, c.end, c.thread) for i, c in enumerate(calls)}
    assert most_at_once(spans) == 2


def test_sync_invoke_runs_async_only_tools() -> None:
    @tool
    async def fetch(key: str) -> str:
        """Fetch a key (async only)."""
        await asyncio.sleep(0.01)
        return f"fetched {key}"

    plan = '1. fetch(key="a")\n2. fetch(key="$1!")\n3. join()'
    reply = lambda m: plan if "Finish(" not in m[0].text else "Action: Finish(ok)"  # noqa: E731
    app = create_llm_compiler(ScriptedChatModel(responses=reply), [fetch])
    out = app.invoke({"messages": [("user", "q")]})
    assert [m.content for m in out["messages"] if m.type == "tool"] == [
        "fetched a",
        "fetched fetched a!",
    ]


@pytest.fixture
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any blocking call our package makes on the event loop (as ``langgraph dev`` does).

    Lock acquisition is allowed, as in ``langgraph dev``: handing a job to a worker thread
    takes a lock for a few instructions.
    """
    detector = BlockBuster(["llmcompiler_graph"])
    for name in list(detector.functions):
        if name.startswith("threading.Lock"):
            detector.functions.pop(name)
    detector.activate()
    try:
        yield detector
    finally:
        detector.deactivate()


def test_nothing_blocks_the_event_loop(blockbuster: BlockBuster) -> None:
    app, calls, spans = graph_with_mixed_tools()
    out = asyncio.run(app.ainvoke({"messages": [("user", "q")]}))
    statuses = [m.status for m in out["messages"] if m.type == "tool"]
    assert statuses == ["success"] * 3
    assert len(calls) == 1 and len(spans) == 2


def test_the_detector_catches_blocking_on_the_loop(blockbuster: BlockBuster) -> None:
    # The control for the test above: sleeping in async code is caught.
    async def bad(deps: Mapping[int, object]) -> object:
        time.sleep(0.01)
        return None

    outcomes, _ = asyncio.run(run_unit([Job(1, "bad", bad)], max_concurrency=1))
    assert outcomes[1].status == "error"
    assert "BlockingError" in str(outcomes[1].error)


def test_a_tools_own_timeout_error_is_an_error_even_with_a_task_timeout() -> None:
    async def upstream(deps: Mapping[int, object]) -> object:
        raise TimeoutError("upstream timed out")

    async def go() -> tuple[dict[int, Outcome], int]:
        async with AsyncTaskFetchingUnit(max_concurrency=1, timeout=5) as tfu:
            tfu.submit(Job(1, "t", upstream))
            tfu.close()
            outcomes = await asyncio.wait_for(tfu.wait(), 10)
            return dict(outcomes), tfu.abandoned_threads

    outcomes, abandoned = asyncio.run(go())
    outcome = outcomes[1]
    assert outcome.status == "error"
    assert "failed: TimeoutError: upstream timed out" in str(outcome.error)
    assert abandoned == 0


def test_an_asyncio_cancel_tells_sync_tools_and_starts_no_dependent() -> None:
    running = threading.Event()
    saw_cancel = threading.Event()
    returned = threading.Event()
    after_calls: list[str] = []

    @tool
    def slow(key: str, config: RunnableConfig) -> str:
        """A long sync call that watches the run's cancel event."""
        running.set()
        if config["configurable"][CANCEL_EVENT_KEY].wait(30):
            saw_cancel.set()
        returned.set()
        return "late"

    @tool
    def after(key: str) -> str:
        """Runs after slow."""
        after_calls.append(key)
        return key

    plan = '1. slow(key="a")\n2. after(key="$1")\n3. join()<END_OF_PLAN>'
    app = scripted_app(plan, joins=["Action: Finish(x)"], tools=[slow, after]).app

    async def go() -> None:
        task = asyncio.create_task(app.ainvoke({"messages": [("user", "q")]}))
        assert await asyncio.to_thread(running.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(returned.wait, 10)
        for _ in range(20):  # let a wrongly scheduled dependent reach the loop
            await asyncio.sleep(0.005)

    asyncio.run(asyncio.wait_for(go(), 60))
    assert saw_cancel.is_set()
    assert after_calls == []
