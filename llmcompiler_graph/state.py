"""The graph's state, and how to read a question's rounds out of it.

All state is the conversation. A question's work is recorded as ordinary messages
after the user's message, so any LangChain UI reads it as tool calling:

* the plan: an ``AIMessage`` (name ``"planner"``) whose ``tool_calls`` are the tasks;
* each result: a ``ToolMessage`` (``status="error"`` on failure) whose ``artifact`` holds
  ``{"index": N, "status": ..., "value": ...}`` (under ``additional_kwargs["llmcompiler"]``
  when the tool made its own artifact; see :func:`result_record`);
* a replan decision: an ``AIMessage`` (name ``"joiner"``) with the feedback;
* the answer: the last ``AIMessage`` (name ``"joiner"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict  # pydantic (Studio's schemas) needs it before 3.12

__all__ = [
    "KIND",
    "Round",
    "State",
    "Turn",
    "current_turn",
    "kind_of",
    "planned_tasks",
    "result_record",
]

KIND = "llmcompiler"
"""Key in ``additional_kwargs`` marking the package's own messages: plan, replan, answer."""


class State(TypedDict):
    """The graph state: the conversation, merged by id with ``add_messages``.

    With ``response_format``, ``structured_response`` holds the last answer's validated
    object (``None`` when it could not be made; the answer says why), as in ``create_agent``.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    structured_response: NotRequired[Any]


@dataclass
class Round:
    """One planning round of a question: the plan and its results."""

    plan: AIMessage
    results: list[ToolMessage] = field(default_factory=list)
    feedback: str | None = None


@dataclass
class Turn:
    """The current question, the earlier conversation, and the rounds so far."""

    question: HumanMessage | None
    history: list[BaseMessage]
    rounds: list[Round]

    @property
    def replans(self) -> int:
        """Return how many plans after the first this question has had."""
        return max(0, len(self.rounds) - 1)

    @property
    def next_index(self) -> int:
        """Return the first free task number."""
        return max(self.planned, default=0) + 1

    @property
    def planned(self) -> list[int]:
        """Return the numbers of every task planned for this question so far."""
        return [i for r in self.rounds for t in planned_tasks(r.plan) if (i := int(t["index"])) > 0]


def kind_of(message: BaseMessage) -> str | None:
    """Return ``plan``, ``replan`` or ``answer`` for the package's messages, else ``None``."""
    marker = message.additional_kwargs.get(KIND)
    return marker.get("kind") if isinstance(marker, dict) else None


def current_turn(messages: Sequence[BaseMessage]) -> Turn:
    """Split the conversation at the last user message and collect its rounds."""
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    question = messages[start] if start >= 0 else None
    # Earlier questions count only by their question and answer, not their tasks.
    history: list[BaseMessage] = [
        m
        for m in messages[: max(start, 0)]
        if isinstance(m, HumanMessage)
        or (isinstance(m, AIMessage) and not m.tool_calls and kind_of(m) in (None, "answer"))
    ]
    rounds: list[Round] = []
    for message in messages[start + 1 :]:
        kind = kind_of(message)
        if isinstance(message, AIMessage) and kind == "plan":
            rounds.append(Round(message))
        elif isinstance(message, ToolMessage) and rounds:
            rounds[-1].results.append(message)
        elif kind == "replan" and rounds:
            rounds[-1].feedback = str(message.additional_kwargs[KIND].get("feedback", ""))
    assert question is None or isinstance(question, HumanMessage)
    return Turn(question, history, rounds)


def planned_tasks(plan: AIMessage) -> list[dict[str, Any]]:
    """Return the task records stored on a plan message (index, name, args, deps, ...)."""
    marker = plan.additional_kwargs.get(KIND, {})
    tasks = marker.get("tasks", []) if isinstance(marker, dict) else []
    return [t for t in tasks if isinstance(t, dict) and "index" in t]


def result_record(message: ToolMessage) -> dict[str, Any]:
    """Return a result's record ``{"index", "status", "value"?}`` (``{}`` if it has none).

    It is the ``artifact``, unless the tool made its own artifact: then it is under
    ``additional_kwargs["llmcompiler"]``.
    """
    marker = message.additional_kwargs.get(KIND)
    artifact = message.artifact
    if isinstance(artifact, dict) and "index" in artifact and "status" in artifact:
        if not isinstance(marker, dict) or marker.get("index") == artifact["index"]:
            return artifact
    if isinstance(marker, dict) and "index" in marker:
        return {k: v for k, v in marker.items() if k != "kind"}
    return {}
