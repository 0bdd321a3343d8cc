"""A new user message while tasks wait for a human: they end as not run, then it is answered."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from fakes.apps import scripted_app
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

PLAN = (
    '1. search(query="Paris")\n'
    '2. math(problem="2 + 3")\n'
    '3. math(problem="$2 * 10")\n'
    "4. join()<END_OF_PLAN>"
)
SECOND = '1. search(query="Berlin")\n2. join()<END_OF_PLAN>'
CONFIG = {"configurable": {"thread_id": "t"}}
NOT_RUN = "was not run: it was waiting for a human"


def dangling(messages: Sequence[BaseMessage]) -> list[str]:
    """Return the tool calls with no result right after their message (what OpenAI refuses)."""
    open_calls: list[str] = []
    for position, message in enumerate(messages):
        if isinstance(message, AIMessage) and message.tool_calls:
            answered = set()
            for after in messages[position + 1 :]:
                if not isinstance(after, ToolMessage):
                    break
                answered.add(after.tool_call_id)
            open_calls += [str(c["id"]) for c in message.tool_calls if c["id"] not in answered]
    return open_calls


def run(app: Any, payload: Any, mode: str) -> dict[str, Any]:
    if mode == "async":
        return dict(asyncio.run(app.ainvoke(payload, CONFIG)))
    return dict(app.invoke(payload, CONFIG))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_held_tasks_end_as_not_run_and_the_new_message_is_answered(mode: str) -> None:
    built = scripted_app(
        [PLAN, SECOND], checkpointer=InMemorySaver(), interrupt_before_tools=["math"]
    )
    first = run(built.app, {"messages": [("user", "q")]}, mode)
    assert "__interrupt__" in first
    before = [m.id for m in first["messages"]]

    out = run(built.app, {"messages": [("user", "approve")]}, mode)
    messages = out["messages"]
    assert "__interrupt__" not in out and built.app.get_state(CONFIG).next == ()
    assert dangling(messages) == []
    kinds = [type(m).__name__ for m in messages]
    assert kinds == [
        "HumanMessage",  # q
        "AIMessage",  # its plan
        "ToolMessage",  # 1. search
        "ToolMessage",  # 2. math, not run
        "ToolMessage",  # 3. math, not run
        "HumanMessage",  # approve: a new question, not an answer to the interrupt
        "AIMessage",  # its plan
        "ToolMessage",
        "AIMessage",  # its answer
    ]
    assert [m.id for m in messages[:3]] == before[:3]  # kept, in place
    ended = messages[3:5]
    assert [m.content for m in ended] == [
        f"task 2 'math' {NOT_RUN} (approval, or an answer to its question) when a new message "
        "arrived, and the conversation moved on without it",
        f"task 3 'math' {NOT_RUN} (approval, or an answer to its question) when a new message "
        "arrived, and the conversation moved on without it",
    ]
    assert all(isinstance(m, ToolMessage) and m.status == "error" for m in ended)
    assert [c.tool for c in built.calls] == ["search", "search"]  # no math ran
    assert "Berlin" in str(messages[-1].content)


def test_agent_chat_ui_stand_in_results_are_replaced_in_place() -> None:
    # When every task of a plan is held, Agent Chat UI sends "Successfully handled tool
    # call." for each open call before the new message; those would claim the calls ran.
    plan = '1. math(problem="2 + 3")\n2. join()<END_OF_PLAN>'
    built = scripted_app(
        [plan, SECOND], checkpointer=InMemorySaver(), interrupt_before_tools=["math"]
    )
    first = built.app.invoke({"messages": [("user", "q")]}, CONFIG)
    call = first["messages"][-1].tool_calls[0]
    stand_in = ToolMessage(
        "Successfully handled tool call.",
        tool_call_id=call["id"],
        name="math",
        id="do-not-render-1",
    )
    out = built.app.invoke({"messages": [stand_in, HumanMessage("next", id="h2")]}, CONFIG)
    messages = out["messages"]
    assert dangling(messages) == []
    (ended,) = [m for m in messages if isinstance(m, ToolMessage) and m.tool_call_id == call["id"]]
    assert ended.id == "do-not-render-1"
    assert NOT_RUN in str(ended.content) and ended.status == "error"
    assert [m.id for m in messages].index("do-not-render-1") < [m.id for m in messages].index("h2")


def test_an_answered_thread_is_left_as_it_is() -> None:
    built = scripted_app(
        [PLAN, SECOND], checkpointer=InMemorySaver(), interrupt_before_tools=["math"]
    )
    built.app.invoke({"messages": [("user", "q")]}, CONFIG)
    approve = Command(resume={"decisions": [{"type": "approve"}]})
    built.app.invoke(approve, CONFIG)
    done = built.app.invoke(approve, CONFIG)["messages"]
    out = built.app.invoke({"messages": [("user", "next")]}, CONFIG)["messages"]
    assert [m.id for m in out[: len(done)]] == [m.id for m in done]
    assert [m.content for m in out[: len(done)]] == [m.content for m in done]
    assert not any(NOT_RUN in str(m.content) for m in out)


def test_a_large_result_of_the_superseded_question_is_trimmed_once() -> None:
    # Starting the new question also trims the earlier one's large results (replaced by
    # id); with the conversation rewritten, each message must still appear once.
    @tool
    def fetch(url: str) -> str:
        """Fetch a page."""
        return "x" * 100_000

    @tool
    def send(text: str) -> str:
        """Send a text."""
        return "sent"

    plans = ['1. fetch(url="a")\n2. send(text="$1")\n3. join()', SECOND.replace("search", "fetch")]
    built = scripted_app(
        plans, tools=[fetch, send], checkpointer=InMemorySaver(), interrupt_before_tools=["send"]
    )
    built.app.invoke({"messages": [("user", "q")]}, CONFIG)
    messages = built.app.invoke({"messages": [("user", "next")]}, CONFIG)["messages"]
    ids = [m.id for m in messages]
    assert len(ids) == len(set(ids))
    assert dangling(messages) == []
    first = messages[2]
    assert isinstance(first, ToolMessage) and len(str(first.content)) < 100_000
    assert NOT_RUN in str(messages[3].content)
