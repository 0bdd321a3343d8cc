"""A fused batch runs with the run's config and context, as a single call of its tool does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.config import get_config
from langgraph.runtime import get_runtime

from llmcompiler_graph import Context, create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel

pytestmark = pytest.mark.timeout(60)

PLAN = "".join(f'{i}. search(query="q{i}")\n' for i in range(1, 5)) + "join()<END_OF_PLAN>"


def reply(messages: list[BaseMessage]) -> str:
    if "Finish(" in messages[0].text:
        return "Thought: ok\nAction: Finish(done)"
    return PLAN


def app_seeing(seen: list[tuple[Any, Any]], *, only_sync: bool) -> Any:
    """With fuse="plan", the four searches wait for the plan's end and run as one batch."""

    @tool
    def search(query: str) -> str:
        """Search for a query."""
        return f"one:{query}"

    def search_many(queries: list[str]) -> list[str]:
        seen.append((get_config()["configurable"].get("user"), get_runtime(Context).context))
        return [f"many:{q}" for q in queries]

    async def asearch_many(queries: list[str]) -> list[str]:
        return search_many(queries)

    return create_llm_compiler(
        ScriptedChatModel(responses=reply),
        [search],
        fuse="plan",
        batch_tools={"search": search_many if only_sync else (search_many, asearch_many)},
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("only_sync", [False, True], ids=["pair", "sync-only"])
def test_a_fused_batch_sees_the_run_s_config_and_context(mode: str, only_sync: bool) -> None:
    seen: list[tuple[Any, Any]] = []
    app = app_seeing(seen, only_sync=only_sync)  # only_sync: one sync form for both drivers
    config = {"configurable": {"user": "ada"}}
    context = {"max_replans": 1}
    question = {"messages": [("user", "q")]}
    if mode == "sync":
        out = app.invoke(question, config, context=context)
    else:
        out = asyncio.run(app.ainvoke(question, config, context=context))
    results = [m.content for m in out["messages"] if isinstance(m, ToolMessage)]
    assert results == ["many:q1", "many:q2", "many:q3", "many:q4"]
    ((user, run_context),) = seen  # one batched call, which saw the run's config and context
    assert user == "ada"
    assert run_context is not None and run_context.max_replans == 1
