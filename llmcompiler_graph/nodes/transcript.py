"""Record a round in the conversation: the plan as tool calls, each result as a ToolMessage."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from llmcompiler_graph.executor.receiving import Artifact
from llmcompiler_graph.executor.toolcall import message_text, result_text
from llmcompiler_graph.fetching.jobs import Outcome
from llmcompiler_graph.joiner.rounds import clip
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.redact import redact
from llmcompiler_graph.state import KIND

__all__ = [
    "KEPT_RESULT_CHARS",
    "call_id",
    "code_block",
    "direct_answer",
    "fit_history",
    "jsonable",
    "observation",
    "plan_message",
    "result_message",
    "storable",
    "trim_finished",
]

KEPT_RESULT_CHARS = 8_000
"""What a thread keeps of a result once its question is answered: a preview this long.

A task's whole value stays in the state (for ``$N`` and approvals) while its question
runs. When the question ends (its answer is written), each result of it whose content or
value is longer is replaced, in the same update, by a copy whose content and value are
previews of at most this many characters (with a note of the size left out): later
questions never read an earlier question's tasks, and the whole value would otherwise be
copied into every later checkpoint of the thread.
"""

_SERDE = JsonPlusSerializer()


def plan_message(
    tasks: Sequence[PlannedTask],
    content: str,
    *,
    tag: str,
    thought: str | None,
    error: str | None,
    held: Sequence[int] = (),
    interrupted: Sequence[int] = (),
    after: Mapping[int, Sequence[int]] | None = None,
) -> AIMessage:
    """Return the plan as an ``AIMessage`` whose ``tool_calls`` are the tasks.

    The full task records (number, tool, arguments, dependencies, thought, source line,
    call id; ``after``: the earlier tasks it runs after because they share a resource, when
    there are any) are kept under ``additional_kwargs["llmcompiler"]``, with ``held``
    listing tasks that wait for a human (approval, or a tool's own ``interrupt``:
    ``interrupted``).
    """
    records, calls = [], []
    for task in tasks:
        the_id = call_id(tag, task.index)
        args = jsonable(task.args)
        record = {
            "index": task.index,
            "name": task.name,
            "args": args,
            "deps": sorted(task.deps),
            "thought": task.thought,
            "line": task.line,
            "id": the_id,
        }
        if after and after.get(task.index):
            record["after"] = list(after[task.index])
        records.append(record)
        name = task.name or "invalid_task"
        calls.append({"name": name, "args": args, "id": the_id, "type": "tool_call"})
    marker = {
        "kind": "plan",
        "tasks": records,
        "thought": thought,
        "error": error,
        "held": list(held),
        "interrupted": list(interrupted),
    }
    return AIMessage(
        content=content, tool_calls=calls, name="planner", additional_kwargs={KIND: marker}
    )


def code_block(text: str) -> str:
    """Return ``text`` as a fenced Markdown code block, shown as written.

    A text plan is code: in a Markdown renderer with math (Agent Chat UI), ``$1", "$2``
    would otherwise be read as inline math. The fence is longer than any backtick run in
    the text, so nothing in it can close the block early.
    """
    if not text.strip():
        return text
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}text\n{text.strip(chr(10))}\n{fence}"


def call_id(tag: str, index: int) -> str:
    """Return the tool call id of task ``index`` in the plan tagged ``tag``."""
    return f"llmc_{tag}_{index if index > 0 else f'x{-index}'}"


def result_message(
    call_id: str, name: str, outcome: Outcome, message: ToolMessage | None = None
) -> ToolMessage:
    """Return a task's result (``status="error"`` for any failure) answering its tool call.

    ``message`` is the ``ToolMessage`` the tool call produced, if any: its content (clipped)
    and its artifact are kept. The task's record ``{"index", "status", "value"}`` is the
    ``artifact`` when the tool made none, else it is kept under
    ``additional_kwargs["llmcompiler"]`` (read it with
    :func:`llmcompiler_graph.state.result_record`).
    """
    record: dict[str, Any] = {"index": outcome.index, "status": outcome.status}
    if outcome.ok:
        # The whole value, for ``$N`` in later rounds and approved tasks: the clip below is
        # only for what models read. The checkpointer must be able to store it; a value it
        # cannot (a plain object, a function) is kept as its full text.
        value = outcome.value.value if isinstance(outcome.value, Artifact) else outcome.value
        if not (isinstance(outcome.value, Artifact) and value is None):
            record["value"] = value if storable(value) else observation(outcome)
        # else only a text (an MCP result without structured content): it is the content
    artifact: Any = record
    marker: dict[str, Any] = {"kind": "result", "index": outcome.index, "status": outcome.status}
    content: Any = clip(observation(outcome))
    if message is not None and outcome.ok:
        if message.artifact is not None:
            artifact, marker = message.artifact, {"kind": "result", **record}
        # The tool's own content: text (clipped), or content blocks (text, images) whole.
        content = clip(message.content) if isinstance(message.content, str) else message.content
    return ToolMessage(
        content=content,
        tool_call_id=call_id,
        name=name or "invalid_task",
        status="success" if outcome.ok else "error",
        artifact=artifact,
        additional_kwargs={KIND: marker},
    )


def fit_history(messages: Sequence[BaseMessage], budget: int) -> list[BaseMessage]:
    """Return the latest earlier messages that fit ``budget`` characters, oldest first.

    Each message is first clipped to a quarter of the budget, so one huge answer (a
    failed joiner's, say) cannot crowd out the rest or break every later question. A longer
    conversation loses its oldest messages in steps of half the budget, not one at a time:
    where it starts then stays the same for several questions, and so does the prompt's
    prefix that a provider can serve from its cache.
    """
    clipped: list[BaseMessage] = []
    sizes: list[int] = []
    for message in messages:
        text = message_text(message.content)
        if len(text) > budget // 4:
            message = message.model_copy(update={"content": clip(text, budget // 4)})
            text = str(message.content)
        clipped.append(message)
        sizes.append(len(text))
    excess = sum(sizes) - budget
    if excess <= 0:
        return clipped
    step = max(budget // 2, 1)
    cut = -(-excess // step) * step  # characters to drop: the excess, rounded up to a step
    start = dropped = 0
    while start < len(sizes) and dropped < cut:
        dropped += sizes[start]
        start += 1
    return clipped[start:]


def observation(outcome: Outcome) -> str:
    """Return what the joiner reads for an outcome: the result's text, or the error.

    Errors have credentials in their URLs hidden (:func:`~llmcompiler_graph.redact.redact`):
    a last line of defence for tools that quote a secret URL in their exception.
    """
    return result_text(outcome.value) if outcome.ok else redact(str(outcome.error))


def jsonable(value: object) -> Any:
    """Return ``value`` as plain JSON data (unknown objects become strings)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        return str(value)


def storable(value: object) -> bool:
    """Tell whether LangGraph's checkpoint serializer can store ``value`` as it is."""
    try:
        _SERDE.dumps_typed(value)
    except Exception:  # any failure means "not as it is"; the caller keeps the text
        return False
    return True


def direct_answer(result: ToolMessage) -> AIMessage:
    """Return the answer made of a ``return_direct`` tool's result (the joiner is skipped)."""
    marker = {"kind": "answer", "thought": None, "return_direct": result.name}
    return AIMessage(content=result.content, name="joiner", additional_kwargs={KIND: marker})


def trim_finished(
    messages: Sequence[BaseMessage], update: Sequence[BaseMessage], limit: int = KEPT_RESULT_CHARS
) -> list[BaseMessage]:
    """Return ``update`` with the large results of finished questions cut to previews.

    A question is finished once an answer follows its results: those earlier in
    ``messages`` (the state) are replaced by id, and those in ``update`` itself are cut in
    place when ``update`` ends with the answer. Call it with the update of a node that
    answers, or that starts a new question (a question left without an answer counts as
    finished once the next one starts).
    """
    answered = bool(update) and _is_answer(update[-1])
    last_question = max(
        (i for i, m in enumerate(messages) if m.type == "human"), default=len(messages)
    )
    finished = messages if answered else messages[:last_question]
    replaced: list[BaseMessage] = [
        preview
        for message in finished
        if isinstance(message, ToolMessage)
        and message.id is not None
        and (preview := _preview(message, limit)) is not None
    ]
    if not answered:
        return [*update, *replaced] if replaced else list(update)
    own = [(_preview(m, limit) or m) if isinstance(m, ToolMessage) else m for m in update[:-1]]
    return [*replaced, *own, update[-1]]


def _is_answer(message: BaseMessage) -> bool:
    marker = message.additional_kwargs.get(KIND)
    return (
        isinstance(message, AIMessage)
        and isinstance(marker, dict)
        and (marker.get("kind") == "answer")
    )


def _preview(message: ToolMessage, limit: int) -> ToolMessage | None:
    """Return a bounded copy of ``message`` if it is larger than ``limit``; else ``None``."""
    marker = message.additional_kwargs.get(KIND)
    if isinstance(marker, dict) and "trimmed" in marker:
        return None  # already a preview
    size = _size(message.content, limit) + _size(message.artifact, limit)
    if size <= 2 * limit:
        return None
    record = message.artifact if isinstance(message.artifact, dict) else {}
    if not ("index" in record and "status" in record) and isinstance(marker, dict):
        record = marker  # the tool made its own artifact: the record is on the marker
    index, status = record.get("index"), record.get("status", message.status)
    text = message_text(message.content)
    value = record.get("value", message.artifact)
    value_text = value if isinstance(value, str) else result_text(value)
    note = {"kind": "result", "index": index, "status": status, "trimmed": size}
    artifact = {"index": index, "status": status, "value": clip(value_text, limit)}
    return ToolMessage(
        content=clip(text, limit),
        tool_call_id=message.tool_call_id,
        name=message.name,
        status=message.status,
        id=message.id,
        artifact=artifact,
        additional_kwargs={KIND: note},
    )


def _size(value: object, limit: int) -> int:
    """Return about how many characters ``value`` takes, counting no further than ``limit``."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if value is None or isinstance(value, int | float | bool):
        return 8
    total = 0
    items: Any = value.items() if isinstance(value, dict) else value
    if isinstance(value, dict | list | tuple):
        for item in items:
            total += _size(item, limit - total)
            if total > limit:
                break
        return total
    return len(result_text(value))
