"""Earlier questions' held tasks, ended when the conversation moves on without them.

A run paused for approval (or for a tool's own question) leaves tasks with no result yet.
When a new user message arrives instead of the answer (typing in a chat while it waits),
LangGraph drops the paused step and the new message is answered; the held tasks would keep
tool calls with no result in the thread, which OpenAI and Anthropic refuse when that history is
sent to them again. :func:`settle_held_calls` ends each with a result saying it was not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, RemoveMessage, ToolMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES, add_messages

from llmcompiler_graph.state import KIND, kind_of, planned_tasks

__all__ = ["NOT_RUN", "settle_held_calls", "with_settled"]

NOT_RUN = (
    "task {index} '{name}' was not run: it was waiting for a human (approval, or an answer to "
    "its question) when a new message arrived, and the conversation moved on without it"
)


def settle_held_calls(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Return the update that ends earlier questions' held tasks, or ``[]`` if none is open.

    Each plan before the last user message gets a result for every tool call that has none
    of the package's own: inserted after the plan's results (the whole conversation is
    rewritten, ids kept, so it stays in order), or put in place of a result a client made up
    for it (Agent Chat UI answers open calls with "Successfully handled tool call.").
    """
    last_question = max(
        (i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1
    )
    settled: list[BaseMessage] = []
    replaced: list[BaseMessage] = []
    inserted = False
    position = 0
    while position < len(messages):
        message = messages[position]
        settled.append(message)
        position += 1
        if position > last_question or not (
            isinstance(message, AIMessage) and kind_of(message) == "plan" and message.tool_calls
        ):
            continue
        ours: set[str] = set()
        foreign: dict[str, ToolMessage] = {}
        while position < len(messages) and isinstance(messages[position], ToolMessage):
            result = messages[position]
            assert isinstance(result, ToolMessage)
            if KIND in result.additional_kwargs:
                ours.add(result.tool_call_id)
            else:
                foreign.setdefault(result.tool_call_id, result)
            settled.append(result)
            position += 1
        records = {str(t.get("id")): t for t in planned_tasks(message)}
        for call in message.tool_calls:
            the_id = str(call["id"])
            if the_id in ours:
                continue
            record = records.get(the_id, {})
            index = record.get("index", "?")
            ended = _not_run(the_id, str(call["name"]), index)
            stand_in = foreign.get(the_id)
            if stand_in is not None:  # keep its id and place
                fixed = ended.model_copy(update={"id": stand_in.id})
                settled[settled.index(stand_in)] = fixed
                replaced.append(fixed)
            else:
                settled.append(ended)
                inserted = True
    if inserted:
        return [RemoveMessage(id=REMOVE_ALL_MESSAGES), *settled]
    return replaced


def with_settled(settled: list[BaseMessage], update: list[BaseMessage]) -> list[BaseMessage]:
    """Return a node's messages update with the settled conversation first.

    A rewritten conversation (after ``REMOVE_ALL_MESSAGES``) is taken as it is by
    ``add_messages``, so ``update`` (new messages, and earlier ones replaced by id) is merged
    into it here.
    """
    if settled and isinstance(settled[0], RemoveMessage) and settled[0].id == REMOVE_ALL_MESSAGES:
        left: list[Any] = list(settled[1:])
        merged: list[BaseMessage] = add_messages(left, list[Any](update))  # type: ignore[assignment]
        return [settled[0], *merged]
    return [*settled, *update]


def _not_run(call_id: str, name: str, index: object) -> ToolMessage:
    marker = {"kind": "result", "index": index, "status": "error", "not_run": True}
    return ToolMessage(
        content=NOT_RUN.format(index=index, name=name),
        tool_call_id=call_id,
        name=name,
        status="error",
        artifact={"index": index, "status": "error"},
        additional_kwargs={KIND: marker},
    )
