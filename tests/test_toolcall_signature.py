"""What LangChain and ToolNode look up on every tool call is worked out once; tools see the same.

``toolbox`` wraps each tool's function (to capture its return value) and settles the
wrapper's annotations and signature when the graph is built, and gives the copy a subclass
whose ``_run``/``_arun`` carry resolved hints, so ``BaseTool.run`` does not compile string
annotations again on every call; a node reads the parts of each call's ``ToolRuntime`` it
shares once (dispatch latency). What a tool receives must not change: its
``RunnableConfig`` parameter, its ``callbacks``, its runtime's state and call id; tools
whose annotations cannot be resolved keep them as written.
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from typing import TYPE_CHECKING, Annotated, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import (
    BaseTool,
    InjectedToolArg,
    InjectedToolCallId,
    StructuredTool,
    tool,
)
from langgraph.prebuilt import InjectedState, InjectedStore, ToolNode, ToolRuntime
from pydantic import BaseModel

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.executor.toolbox import Toolbox, _capture, _settled_class
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


def test_the_copy_is_a_subclass_whose_run_methods_have_resolved_hints() -> None:
    @tool
    def look(query: str) -> str:
        """Look something up."""
        return query

    copy = Toolbox([look]).node.tools_by_name["look"]
    assert isinstance(copy, StructuredTool) and type(copy) is not StructuredTool
    assert type(copy).__name__ == "StructuredTool"
    for name in ("_run", "_arun"):
        hints = typing.get_type_hints(getattr(copy, name))
        assert hints["config"] is RunnableConfig  # a type, not the string LangChain wrote
        assert inspect.signature(getattr(copy, name)) == inspect.signature(getattr(look, name))
    assert copy.invoke({"query": "x"}) == "x"
    assert asyncio.run(copy.ainvoke({"query": "y"})) == "y"
    assert type(look) is StructuredTool  # the user's tool is left alone


def test_a_structured_tool_copy_keeps_only_its_config_hint() -> None:
    # BaseTool.run looks up the RunnableConfig parameter of _run per call: one hint to walk.
    class Mine(StructuredTool):
        pass

    def look(query: str) -> str:
        """Look something up."""
        return query

    plain = StructuredTool.from_function(look)
    mine = Mine(name="mine", description="Mine.", func=look, args_schema=plain.args_schema)
    box = Toolbox([plain, mine]).node.tools_by_name
    for name in ("_run", "_arun"):
        assert typing.get_type_hints(getattr(box["look"], name)) == {"config": RunnableConfig}
        kept = typing.get_type_hints(getattr(box["mine"], name))  # a subclass keeps them all
        assert kept["config"] is RunnableConfig and {"args", "run_manager", "kwargs"} <= set(kept)
    assert box["look"].invoke({"query": "x"}) == box["mine"].invoke({"query": "x"}) == "x"
    assert (
        box["look"].tool_call_schema.model_json_schema()
        == plain.tool_call_schema.model_json_schema()
    )


def test_a_tool_class_with_unresolvable_hints_keeps_its_class() -> None:
    class Priced(BaseTool):
        name: str = "priced"
        description: str = "Price an item."

        def _run(self, item: str, unit: Decimal | None = None) -> str:
            return item

    assert _settled_class(Priced) is None


@pytest.mark.parametrize("mode", MODES)
def test_the_state_is_read_once_per_node_and_each_call_gets_its_own_id(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    extract = ToolNode._extract_state

    def counted(self: ToolNode, *args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return extract(self, *args, **kwargs)

    monkeypatch.setattr(ToolNode, "_extract_state", counted)
    seen: list[tuple[str, int, object]] = []

    def look(query: str, runtime: ToolRuntime) -> str:
        """Look something up."""
        task = runtime.config.get("metadata", {}).get("llmcompiler_task")
        seen.append((str(runtime.tool_call_id), task, len(runtime.state["messages"])))
        return query

    async def alook(query: str, runtime: ToolRuntime) -> str:
        return look(query, runtime)

    tool_ = StructuredTool.from_function(look, coroutine=alook)
    plan = '1. look(query="a")\n2. look(query="b")\n3. look(query="c")\njoin()'
    run(create_llm_compiler(ScriptedChatModel(responses=planner_then_joiner(plan)), [tool_]), mode)
    assert len(reads) == 1
    assert sorted(task for _, task, _ in seen) == [1, 2, 3]
    assert len({call_id for call_id, _, _ in seen}) == 3
    assert {n for _, _, n in seen} == {1}  # the question, as the node saw the state


def _filter_cases() -> list[BaseTool]:
    @tool
    def plain(query: str) -> str:
        """Look something up."""
        return query

    @tool
    def injected(
        query: str,
        user: Annotated[str, InjectedToolArg],
        call_id: Annotated[str, InjectedToolCallId],
        state: Annotated[dict[str, Any], InjectedState],
        store: Annotated[Any, InjectedStore()],
        runtime: ToolRuntime,
    ) -> str:
        """Look something up for a user."""
        return query

    class Args(BaseModel):
        query: str
        user: Annotated[str, InjectedToolArg]

    class Schemed(BaseTool):
        name: str = "schemed"
        description: str = "Look something up."
        args_schema: type[BaseModel] = Args

        def _run(self, query: str, user: str) -> str:
            return query

    json_schema = StructuredTool.from_function(
        lambda query: query,
        name="json_schema",
        description="Look something up.",
        args_schema={"type": "object", "properties": {"query": {"type": "string"}}},
    )
    return [plain, injected, Schemed(), json_schema]


@pytest.mark.parametrize("index", range(4))
def test_the_copy_filters_injected_arguments_as_langchain_does(index: int) -> None:
    tool_ = _filter_cases()[index]
    copy = Toolbox([tool_]).node.tools_by_name[tool_.name]
    inputs = [
        {},
        {"query": "x"},
        {"query": "x", "user": "u", "call_id": "c", "state": {}, "store": None, "runtime": 1},
        {"query": "x", "callbacks": [], "run_manager": None, "other": 2, "config": {}},
    ]
    for given in inputs:
        assert copy._filter_injected_args(dict(given)) == BaseTool._filter_injected_args(
            copy, dict(given)
        ), given


def test_a_tool_class_with_its_own_filter_keeps_it() -> None:
    class Own(BaseTool):
        name: str = "own"
        description: str = "Look something up."

        def _run(self, query: str) -> str:
            return query

        def _filter_injected_args(self, tool_input: dict[str, Any]) -> dict[str, Any]:
            return {}

    settled = _settled_class(Own)
    assert settled is not None
    assert settled._filter_injected_args is Own._filter_injected_args


def test_the_filters_keys_are_worked_out_when_the_graph_is_built() -> None:
    # Not on the first call: that call is on a task's way to its tool.
    copy = Toolbox([_filter_cases()[1]]).node.tools_by_name["injected"]
    assert "_llmc_removed_keys" in copy.__dict__
    assert {"user", "call_id", "runtime", "callbacks"} <= copy.__dict__["_llmc_removed_keys"]
