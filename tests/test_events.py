"""Task events carry the arguments as planned and, once a task starts, as the tool got them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from langchain_core.tools import tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.jobs import Job, TaskEvent
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.nodes.events import MAX_ARG_CHARS
from llmcompiler_graph.sim import ScriptedChatModel

pytestmark = pytest.mark.timeout(60)

PAGE = "Ed Wood was an American filmmaker. " * 40  # ~1,400 characters
PLAN = '1. search(query="Ed Wood")\n2. search(query="birthplace of $1")\n3. join()<END_OF_PLAN>'


def _app() -> Any:
    @tool
    def search(query: str) -> str:
        """Search the web."""
        return PAGE if query == "Ed Wood" else f"searched: {len(query)} characters"

    def reply(messages: list[Any]) -> str:
        return "Action: Finish(done)" if "Finish(" in messages[0].text else PLAN

    return create_llm_compiler(ScriptedChatModel(responses=reply), [search])


def _check(events: list[dict[str, Any]]) -> None:
    second = {e["event"]: e for e in events if e["index"] == 2}
    assert set(second) == {"planned", "started", "finished"}
    assert "resolved_args" not in second["planned"]
    for kind in ("started", "finished"):
        event = second[kind]
        assert event["args"] == {"query": "birthplace of $1"}  # as planned
        got = event["resolved_args"]["query"]  # as the tool received it, clipped
        assert got.startswith(f"birthplace of {PAGE[:40]}")
        assert got.endswith("more characters not shown]")
        assert len(got) < MAX_ARG_CHARS + 60
    assert (
        second["finished"]["observation"] == f"searched: {len('birthplace of ' + PAGE)} characters"
    )
    first = next(e for e in events if e["index"] == 1 and e["event"] == "started")
    assert first["resolved_args"] == first["args"] == {"query": "Ed Wood"}


def test_stream_events_carry_resolved_arguments() -> None:
    events = [
        data
        for mode, data in _app().stream({"messages": [("user", "q")]}, stream_mode=["custom"])
        if mode == "custom"
    ]
    _check(events)


def test_astream_events_carry_resolved_arguments() -> None:
    async def go() -> list[dict[str, Any]]:
        return [
            data
            async for mode, data in _app().astream(
                {"messages": [("user", "q")]}, stream_mode=["custom"]
            )
            if mode == "custom"
        ]

    _check(asyncio.run(go()))


def _jobs() -> list[Job]:
    def broken(deps: Mapping[int, object]) -> object:
        raise KeyError("no such reference")

    return [
        Job(1, "a", lambda deps: "one", resolve=lambda deps: {"x": 1}),
        Job(2, "b", lambda deps: deps[1], frozenset({1}), resolve=lambda deps: {"x": deps[1]}),
        Job(3, "c", lambda deps: "three", resolve=broken),
        Job(4, "d", lambda deps: "four"),
    ]


def _resolved(events: list[TaskEvent]) -> dict[tuple[str, int], object]:
    return {(e.kind, e.index): e.resolved for e in events}


EXPECTED = {
    **{("planned", i): None for i in range(1, 5)},
    ("started", 1): {"x": 1},
    ("finished", 1): {"x": 1},
    ("started", 2): {"x": "one"},
    ("finished", 2): {"x": "one"},
    ("started", 3): None,  # resolve raised: the job still runs, the event lacks it
    ("finished", 3): None,
    ("started", 4): None,  # no resolve given
    ("finished", 4): None,
}


def test_both_units_resolve_arguments_when_a_job_starts() -> None:
    events: list[TaskEvent] = []
    with TaskFetchingUnit(max_concurrency=2, on_event=events.append) as tfu:
        for job in _jobs():
            tfu.submit(job)
        tfu.close()
        outcomes = tfu.wait(timeout=30)
    assert all(o.ok for o in outcomes.values())
    assert _resolved(events) == EXPECTED

    async def go() -> list[TaskEvent]:
        seen: list[TaskEvent] = []
        async with AsyncTaskFetchingUnit(max_concurrency=2, on_event=seen.append) as unit:
            for job in _jobs():
                unit.submit(job)
            unit.close()
            await unit.wait()
        return seen

    assert _resolved(asyncio.run(go())) == EXPECTED


def _writer_seen(stream_mode: str | None, *, subgraph: bool = False) -> bool:
    """Run a one-node graph and tell whether the node's stream writer does nothing."""
    from langgraph.config import get_stream_writer
    from langgraph.graph import START, StateGraph
    from typing_extensions import TypedDict

    from llmcompiler_graph.nodes.events import does_nothing

    class State(TypedDict):
        x: int

    seen: list[bool] = []

    def node(state: State) -> State:
        seen.append(does_nothing(get_stream_writer()))
        return state

    inner = StateGraph(State).add_node("node", node).add_edge(START, "node").compile()
    graph = inner
    if subgraph:
        graph = StateGraph(State).add_node("sub", inner).add_edge(START, "sub").compile()
    if stream_mode is None:
        graph.invoke({"x": 1})
    else:
        list(graph.stream({"x": 1}, stream_mode=stream_mode, subgraphs=subgraph))
    return seen[0]


def test_a_writer_that_does_nothing_is_told_from_one_that_streams() -> None:
    # LangGraph's writer does nothing unless someone streams the custom mode (also through
    # a parent graph); the relay then builds no events.
    assert _writer_seen(None) is True
    assert _writer_seen("updates") is True
    assert _writer_seen("custom") is False
    assert _writer_seen("custom", subgraph=True) is False


def test_only_a_plain_function_with_an_empty_body_counts_as_doing_nothing() -> None:
    from llmcompiler_graph.nodes.events import does_nothing

    got: list[object] = []

    def empty(_: object) -> None:
        pass

    def keeps(event: object) -> None:
        got.append(event)

    assert does_nothing(empty) and does_nothing(lambda _: None)
    assert not does_nothing(keeps)
    assert not does_nothing(got.append)  # a builtin: no code to read
    assert not does_nothing(lambda e: got.append(e))


def test_a_silent_writer_makes_no_events_and_the_run_is_the_same() -> None:
    from llmcompiler_graph.nodes.events import EventRelay

    relay = EventRelay(lambda _: None)
    built: list[object] = []
    relay.send = built.append  # type: ignore[method-assign]
    relay(TaskEvent("planned", 1, "search", {"query": "x"}))
    assert relay.silent and built == []
    out = _app().invoke({"messages": [("user", "q")]})
    assert "done" in str(out["messages"][-1].content)
