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
