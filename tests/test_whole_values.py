"""Whole values: ``$N`` reads the value a task returned, never the clipped text.

Models read results clipped to :data:`MAX_OBSERVATION_CHARS`; a tool input that names an
earlier round's result, or feeds an approved task, gets the whole value, and an exact
``"$N"`` gets the object itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel

BIG = "".join(f"{i:06d} " for i in range(7_200))  # 50,400 characters


@dataclass
class Box:
    label: str
    size: int


def make_tools(seen: dict[str, Any]) -> list[Any]:
    @tool
    def big() -> str:
        """Return a 50 kB text."""
        return BIG

    @tool
    def box() -> Box:
        """Return an object."""
        return Box("crate", 3)

    @tool
    def take(value: Any, tag: str = "") -> str:
        """Record what it was given."""
        seen[tag] = value  # tasks run concurrently: keyed, not in order
        return "taken"

    return [big, box, take]


def planner_then_replanner(first: str, second: str) -> Any:
    plans: list[str] = []

    def reply(messages: list[BaseMessage]) -> str:
        if "Finish(" in messages[0].text:  # the joiner
            if len(plans) < 2:
                return "Thought: need more.\nAction: Replan(use the results)"
            return "Thought: done.\nAction: Finish(ok)"
        plans.append(second if plans else first)
        return plans[-1]

    return reply


MODES = ["sync", "async"]


def run(app: Any, payload: Any, config: dict[str, Any], mode: str) -> dict[str, Any]:
    if mode == "sync":
        return dict(app.invoke(payload, config))
    return dict(asyncio.run(app.ainvoke(payload, config)))


@pytest.mark.parametrize("mode", MODES)
def test_a_later_round_gets_the_whole_value_and_the_object(mode: str) -> None:
    seen: dict[str, Any] = {}
    first = "1. big()\n2. box()\n3. join()<END_OF_PLAN>"
    second = (
        '4. take(value="$1", tag="a")\n5. take(value="$2", tag="b")\n'
        '6. take(value="size: $2", tag="c")\n7. join()'
    )
    model = ScriptedChatModel(responses=planner_then_replanner(first, second))
    app = create_llm_compiler(model, make_tools(seen), checkpointer=InMemorySaver())
    out = run(app, {"messages": [("user", "q")]}, {"configurable": {"thread_id": mode}}, mode)
    clipped = [m for m in out["messages"] if isinstance(m, ToolMessage) and m.name == "big"]
    assert "more characters not shown" in str(clipped[0].content)  # what models read
    assert seen["a"] == BIG  # what the tool gets: all 50,400 characters
    assert seen["b"] == Box("crate", 3)  # the object itself, not its str()
    assert seen["c"] == "size: Box(label='crate', size=3)"


@pytest.mark.parametrize("mode", MODES)
def test_an_approved_task_gets_the_whole_value(mode: str) -> None:
    seen: dict[str, Any] = {}
    plan = '1. big()\n2. take(value="$1")\n3. join()<END_OF_PLAN>'
    model = ScriptedChatModel(responses=planner_then_replanner(plan, plan))
    app = create_llm_compiler(
        model, make_tools(seen), checkpointer=InMemorySaver(), interrupt_before_tools=["take"]
    )
    config = {"configurable": {"thread_id": mode}}
    out = run(app, {"messages": [("user", "q")]}, config, mode)
    (request,) = out["__interrupt__"]
    assert request.value["action_requests"][0]["name"] == "take"
    run(app, Command(resume={"decisions": [{"type": "approve"}]}), config, mode)
    assert seen[""] == BIG
