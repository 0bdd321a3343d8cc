"""The tool wrapper resolves a function's hints and signature once; LangChain reads the same.

``toolcall`` wraps each tool's function (to capture its return value) and settles the
wrapper's annotations and signature when the graph is built, so ``BaseTool.run`` does not
compile string annotations again on every call (issue 15, dispatch latency). What a tool
receives must not change: its ``RunnableConfig`` parameter, its ``callbacks``, and tools
whose annotations cannot be resolved keep them as written.
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.executor.toolcall import Toolbox, _capture
from llmcompiler_graph.sim import ScriptedChatModel
from tests.fakes.apps import planner_then_joiner

if TYPE_CHECKING:
    from decimal import Decimal  # not importable at run time: the hint stays unresolved

MODES = ["sync", "async"]


def run(app: Any, mode: str) -> Any:
    question = {"messages": [("user", "Do it.")]}
    if mode == "sync":
        return app.invoke(question)
    return asyncio.run(app.ainvoke(question))


def test_the_wrapper_keeps_the_functions_signature_with_resolved_hints() -> None:
    def look(query: str, config: RunnableConfig) -> str:
        """Look something up."""
        return query

    wrapped = Toolbox([StructuredTool.from_function(look)]).node.tools_by_name["look"]
    func = getattr(wrapped, "func", None)
    assert func is not None and func is not look
    assert inspect.signature(func) == inspect.signature(look)
    assert typing.get_type_hints(func) == {"query": str, "config": RunnableConfig, "return": str}


def test_unresolvable_hints_are_left_as_written() -> None:
    # (LangGraph's ToolNode itself refuses such a tool; the wrapper must not fail first.)
    def price(item: str, unit: Decimal | None = None) -> str:
        """Price an item."""
        return item

    wrapped = _capture(price)
    assert wrapped.__annotations__ == price.__annotations__
    assert inspect.signature(wrapped) == inspect.signature(price)
    assert wrapped("tea") == "tea"


@pytest.mark.parametrize("mode", MODES)
def test_a_tool_still_receives_its_config_and_callbacks(mode: str) -> None:
    seen: dict[str, Any] = {}

    class Started(BaseCallbackHandler):
        def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
            seen.setdefault("started", []).append(input_str)

    def look(query: str, config: RunnableConfig, callbacks: Any = None) -> str:
        """Look something up."""
        seen["task"] = config.get("metadata", {}).get("llmcompiler_task")
        seen["callbacks"] = callbacks is not None
        return query.upper()

    async def alook(query: str, config: RunnableConfig, callbacks: Any = None) -> str:
        return look(query, config, callbacks)

    tool = StructuredTool.from_function(look, coroutine=alook, callbacks=[Started()])
    model = ScriptedChatModel(responses=planner_then_joiner('1. look(query="x")\njoin()'))
    out = run(create_llm_compiler(model, [tool]), mode)
    assert "X" in str(out["messages"][-1].content)
    assert seen["task"] == 1 and seen["callbacks"] is True
    assert seen["started"] == ["{'query': 'x'}"]
