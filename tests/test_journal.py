"""The round's journal: what it stores (no secrets), in what order, and how it is read back."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel

SECRET = "hunter2-s3cr3t"
ENDPOINT = f"https://bob:{SECRET}@api.example/v1/search?api_key={SECRET}&q=x"


def answer_or(plan: str) -> Any:
    def reply(messages: list[Any]) -> str:
        if "Finish(" in messages[0].text:
            return "Thought: done.\nAction: Finish(ok)"
        return plan

    return reply


def everything_saved(saver: InMemorySaver) -> bytes:
    """Return every checkpoint and pending write the saver holds, as bytes to search."""
    dump = [dict(saver.storage), dict(saver.writes), dict(saver.blobs)]
    return pickle.dumps(dump)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_no_secret_in_the_journal_or_in_astream_events(mode: str) -> None:
    @tool
    def search(query: str) -> str:
        """Search a service whose URL holds a credential."""
        if query == "fail":
            raise ConnectionError(f"GET {ENDPOINT} failed: 503")
        return f"found {query}"

    plan = '1. search(query="ok")\n2. search(query="fail")\n3. join()<END_OF_PLAN>'
    saver = InMemorySaver()
    app = create_llm_compiler(
        ScriptedChatModel(responses=answer_or(plan)), [search], checkpointer=saver
    )
    config = {"configurable": {"thread_id": mode}}
    payload = {"messages": [("user", "q")]}

    async def events() -> list[Any]:
        return [e async for e in app.astream_events(payload, config, version="v2")]

    if mode == "sync":
        app.invoke(payload, config, durability="sync")
        seen = asyncio.run(events())
    else:
        seen = asyncio.run(events())
        asyncio.run(app.ainvoke(payload, config, durability="sync"))
    assert SECRET.encode() not in everything_saved(saver)
    journal = [
        write
        for writes in saver.writes.values()
        for write in writes.values()
        if "journal" in write[1]
    ]
    assert journal  # the journal did write
    # The journal is not a LangGraph task: it streams no events at all.
    assert not [e for e in seen if "journal" in str(e.get("name"))]
    failed = [e for e in seen if e["event"] == "on_chain_stream" and "***@" in repr(e)]
    assert failed  # the redacted error did stream
    # Only the tool's own run reports its exception as raised (LangChain's on_tool_error).
    assert SECRET not in repr([e for e in seen if e["event"] != "on_tool_error"])


BIG = 50 * 1024 * 1024


@pytest.mark.slow
def test_a_thread_keeps_a_bounded_preview_of_a_50_mb_result(tmp_path: Any) -> None:
    from langgraph.checkpoint.sqlite import SqliteSaver

    from llmcompiler_graph.nodes.transcript import KEPT_RESULT_CHARS

    @tool
    def dump(what: str) -> str:
        """Return a very large result."""
        return what * BIG

    @tool
    def small(what: str) -> str:
        """Return a small result."""
        return f"small {what}"

    def reply(messages: list[Any]) -> str:
        if "Finish(" in messages[0].text:
            return "Thought: done.\nAction: Finish(ok)"
        if "question 0" in messages[-1].text:
            return '1. dump(what="x")\n2. join()<END_OF_PLAN>'
        return '1. small(what="y")\n2. join()<END_OF_PLAN>'

    path = tmp_path / "thread.sqlite"
    config = {"configurable": {"thread_id": "big"}}

    def sizes(saver: SqliteSaver) -> tuple[int, int]:
        """Return the database's size and the latest checkpoint's size, in bytes."""
        conn = saver.conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        (latest,) = conn.execute(
            "SELECT length(checkpoint) FROM checkpoints WHERE thread_id = 'big' "
            "ORDER BY checkpoint_id DESC LIMIT 1"
        ).fetchone()
        return pages * page, latest

    with SqliteSaver.from_conn_string(str(path)) as saver:
        app = create_llm_compiler(
            ScriptedChatModel(responses=reply), [dump, small], checkpointer=saver
        )
        app.invoke({"messages": [("user", "question 0")]}, config)
        database, latest = sizes(saver)
        assert database > BIG  # the question's own steps had the whole value
        assert latest < 4 * KEPT_RESULT_CHARS + 20_000  # its answer's checkpoint: a preview
        for n in range(1, 5):
            out = app.invoke({"messages": [("user", f"question {n}")]}, config)
            assert out["messages"][-1].content == "ok"
            grown, now = sizes(saver)
            # Each follow-up adds a few small checkpoints, never the 50 MB value again.
            assert grown - database < 1_000_000, (n, grown - database)
            assert now - latest < 20_000, (n, now - latest)
            database, latest = grown, now
        first = next(m for m in out["messages"] if m.type == "tool")
        assert first.artifact["value"].startswith("xxx")
        assert first.additional_kwargs["llmcompiler"]["trimmed"] > BIG
        assert len(first.artifact["value"]) < KEPT_RESULT_CHARS + 100
