"""The round's journal in one process: wide plans, replay, no checkpointer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.nodes.journal import JOURNAL_CHANNEL, Journal
from llmcompiler_graph.sim import LatencyProfile, ScriptedChatModel

WIDE = "".join(f'{i}. meet(name="t{i}")\n' for i in range(1, 9)) + "9. join()<END_OF_PLAN>"


def answer_or(plan: str) -> Any:
    def reply(messages: list[Any]) -> str:
        if "Finish(" in messages[0].text:
            return "Thought: done.\nAction: Finish(ok)"
        return plan

    return reply


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_8_wide_plan_runs_8_at_once_with_a_checkpointer(mode: str) -> None:
    # LangGraph's executor has 6 threads here; journal writes must never hold them while
    # tools run, or 8 tools that can only finish together would deadlock.
    barrier = threading.Barrier(8, timeout=120)

    @tool
    def meet(name: str) -> str:
        """Wait until all 8 calls are running."""
        barrier.wait()
        return f"met {name}"

    app = create_llm_compiler(
        ScriptedChatModel(responses=answer_or(WIDE)), [meet], checkpointer=InMemorySaver()
    )
    config = {"configurable": {"thread_id": mode}}
    payload = {"messages": [("user", "q")]}
    if mode == "sync":
        out = app.invoke(payload, config)
    else:
        out = asyncio.run(app.ainvoke(payload, config))
    results = [m for m in out["messages"] if m.type == "tool"]
    assert sorted(m.content for m in results) == sorted(f"met t{i}" for i in range(1, 9))
    assert not barrier.broken


def test_the_round_is_journaled_in_the_checkpoint() -> None:
    @tool
    def echo(text: str) -> str:
        """Echo."""
        return text

    plan = '1. echo(text="a")\n2. echo(text="$1 b")\n3. join()<END_OF_PLAN>'
    saver = InMemorySaver()
    app = create_llm_compiler(
        ScriptedChatModel(responses=answer_or(plan)), [echo], checkpointer=saver
    )
    config = {"configurable": {"thread_id": "j"}}
    app.invoke({"messages": [("user", "q")]}, config, durability="sync")
    entries = [
        entry
        for t in saver.list(config)
        for w in t.pending_writes or ()
        if w[1] == JOURNAL_CHANNEL
        for entry in w[2]["entries"]
    ]
    kinds = [e["kind"] for e in entries]
    assert "plan" in kinds and "plan_end" in kinds
    results = {e["index"]: e["value"] for e in entries if e["kind"] == "result"}
    assert results == {1: "a", 2: "a b"}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_plan_is_journaled_in_stream_order_as_its_tasks_start(mode: str) -> None:
    # A line's chunks are written once its call has started (not on the way to
    # the tool), by the next reader (sync) or a callback after the new task's first step
    # (async); each write takes all chunks kept so far, so the journal keeps stream order.
    started: list[str] = []

    @tool
    def echo(text: str) -> str:
        """Echo."""
        started.append(text)
        return text

    plan = '1. echo(text="a")\n2. echo(text="b")\n3. echo(text="$1 $2")\n4. join()<END_OF_PLAN>'
    saver = InMemorySaver()
    # 20 tokens/s: the stream's last lines leave the journal's writer most of a second to
    # record b's line while the plan still streams (at 500 it lost that race under load).
    model = ScriptedChatModel(
        responses=answer_or(plan), latency=LatencyProfile("paced", 0.0, 20.0, 0.0, 0.0)
    )
    app = create_llm_compiler(model, [echo], checkpointer=saver)
    config = {"configurable": {"thread_id": mode}}
    payload = {"messages": [("user", "q")]}
    if mode == "sync":
        app.invoke(payload, config, durability="sync")
    else:
        asyncio.run(app.ainvoke(payload, config, durability="sync"))
    texts = [
        (e["kind"], "".join(piece for piece, _ in e["chunks"]))
        for t in saver.list(config)
        for w in t.pending_writes or ()
        if w[1] == JOURNAL_CHANNEL
        for e in w[2]["entries"]
        if "chunks" in e
    ]
    # Writes land in any order: each holds a run of the stream, found by its place in it.
    written = sorted((t for _, t in texts if t), key=plan.index)
    assert "".join(written) == plan.removesuffix("<END_OF_PLAN>")
    during = [t for kind, t in texts if kind == "plan"]  # written while the plan streamed
    assert any('echo(text="a")' in t for t in during)
    assert any('echo(text="b")' in t for t in during)
    assert started == ["a", "b", "a b"]


def test_without_a_checkpointer_the_journal_does_nothing() -> None:
    journal = Journal({"configurable": {}})
    assert not journal.enabled
    assert journal.replay() == []
    journal.record({"kind": "plan", "chunks": []})
    journal.flush()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_journal_tasks_stay_out_of_the_streams(mode: str) -> None:
    @tool
    def echo(text: str) -> str:
        """Echo."""
        return text

    plan = '1. echo(text="a")\n2. echo(text="$1 b")\n3. join()<END_OF_PLAN>'
    app = create_llm_compiler(
        ScriptedChatModel(responses=answer_or(plan)), [echo], checkpointer=InMemorySaver()
    )
    config = {"configurable": {"thread_id": mode}}
    payload = {"messages": [("user", "q")]}
    modes = ["updates", "tasks", "debug", "values"]
    if mode == "sync":
        parts = list(app.stream(payload, config, stream_mode=modes))
    else:

        async def collect() -> list[Any]:
            return [p async for p in app.astream(payload, config, stream_mode=modes)]

        parts = asyncio.run(collect())
    assert "llmcompiler_journal" not in repr(parts)
    updates = [next(iter(d)) for m, d in parts if m == "updates"]
    assert updates == ["plan_and_schedule", "join"]


def test_a_sync_run_inside_a_running_event_loop_finishes() -> None:
    """As in Jupyter: a cell runs inside the kernel's event loop and blocks it with invoke."""

    @tool
    def search(query: str) -> str:
        """Search."""
        return f"about {query}"

    model = ScriptedChatModel(responses=['1. search("a")\n2. search("b")', "Action: Finish(ok)"])
    app = create_llm_compiler(model, [search], checkpointer=InMemorySaver())
    answers: list[str] = []

    async def cell() -> None:
        config: Any = {"configurable": {"thread_id": "jupyter"}}
        out = app.invoke({"messages": [("user", "q")]}, config)  # blocks this loop
        answers.append(str(out["messages"][-1].content))

    runner = threading.Thread(target=asyncio.run, args=(cell(),), daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert answers == ["ok"], "the sync run waited for the blocked loop"
