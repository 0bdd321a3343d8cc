"""The tool-calling plan format (``plan_format="tool_calls"``): the model and its prompt.

In this format the planner model is bound to the real tools (``bind_tools``; providers allow
several calls per message by default) and plans by calling them. Its stream is read by
:class:`~llmcompiler_graph.planner.tool_calls.ToolCallPlanReader` in the same round as a text
plan (:mod:`llmcompiler_graph.plan_and_schedule`). On a replan the earlier rounds are shown
as the model's own tool-call transcript: each plan as an assistant message with its calls,
each result as a tool message labelled with its call's number, then the joiner's feedback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from llmcompiler_graph.context import Settings
from llmcompiler_graph.executor.toolcall import message_text
from llmcompiler_graph.planner import prompts
from llmcompiler_graph.render import clip, describe_tools, fair_cap
from llmcompiler_graph.state import KIND, Round, Turn, planned_tasks
from llmcompiler_graph.transcript import fit_history

__all__ = [
    "PlanFormatError",
    "PlannerModel",
    "bind_planner",
    "replay_round",
    "tool_call_planner_messages",
]

PlannerModel = BaseChatModel | Runnable[LanguageModelInput, BaseMessage]
"""The planner as a round streams it: the chat model, or the model bound to the tools."""

_CALL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PlanFormatError(ValueError):
    """Raise when the planner model cannot write plans in the chosen format."""


def bind_planner(
    model: BaseChatModel, tools: Sequence[BaseTool], settings: Settings
) -> PlannerModel:
    """Return the planner to stream: ``model`` itself for text plans, bound to ``tools`` else.

    Raises:
        PlanFormatError: For ``tool_calls`` with a model that has no tool calling.

    """
    if settings.plan_format != "tool_calls":
        return model
    try:
        return model.bind_tools(list(tools))
    except NotImplementedError:
        raise PlanFormatError(
            f"plan_format='tool_calls' needs a chat model with tool calling (bind_tools); "
            f"{type(model).__name__} has none. Use plan_format='text' with this model."
        ) from None


def tool_call_planner_messages(
    turn: Turn, tools: Sequence[BaseTool], settings: Settings
) -> list[BaseMessage]:
    """Build the tool-calling planner's prompt: rules, history, question, earlier rounds."""
    next_index = turn.next_index
    examples = f"\nExamples:\n{settings.examples.strip()}\n" if settings.examples else ""
    template = settings.planner_prompt
    if template == prompts.PLANNER_PROMPT:  # not replaced by the user: this format's default
        template = prompts.TOOL_CALLS_PLANNER_PROMPT
    system = prompts.fill(
        template,
        tools=describe_tools(list(tools)),
        num_tools=len(tools),
        num_tools_plus_one=len(tools) + 1,
        examples=examples,
        next_index=next_index,
    )
    rounds: list[BaseMessage] = []
    for number, round_ in enumerate(turn.rounds, start=1):
        rounds += replay_round(round_)
        feedback = f"Feedback: {round_.feedback}" if round_.feedback else ""
        if number < len(turn.rounds):
            if feedback:
                rounds.append(HumanMessage(feedback))
        else:
            replan = prompts.fill(prompts.TOOL_CALLS_REPLAN_PROMPT, next_index=next_index)
            rounds.append(HumanMessage(f"{feedback}\n\n{replan}".strip()))
    # The same prompt budget as text plans: results clipped fairly, history gets the rest.
    budget = settings.prompt_budget_chars
    used = _fit_results(rounds, budget)
    history = fit_history(turn.history, max(budget - used, budget // 4))
    question = turn.question.content if turn.question is not None else ""
    return [SystemMessage(system), *history, HumanMessage(question), *rounds]


def _fit_results(messages: list[BaseMessage], budget: int) -> int:
    """Clip the tool messages' texts to share ``budget`` fairly; return the characters used."""
    results = [i for i, m in enumerate(messages) if isinstance(m, ToolMessage)]
    sizes = [len(message_text(messages[i].content)) for i in results]
    others = sum(len(message_text(m.content)) for m in messages) - sum(sizes)
    cap = fair_cap(sizes, max(budget - others - 45 * len(sizes), 0))
    for i, size in zip(results, sizes, strict=True):
        if cap is not None and size > cap:
            text = clip(message_text(messages[i].content), cap)
            messages[i] = messages[i].model_copy(update={"content": text})
    return sum(len(message_text(m.content)) for m in messages)


def replay_round(round_: Round) -> list[BaseMessage]:
    """Return a round as the model's own tool calling: its calls, then one result per call."""
    results = {m.tool_call_id: m for m in round_.results}
    calls: list[ToolCall] = []
    answers: list[BaseMessage] = []
    for task in planned_tasks(round_.plan):
        call_id = str(task.get("id"))
        name = str(task.get("name") or "")
        name = name if _CALL_NAME.match(name) else "invalid_call"
        args = task.get("args")
        calls.append(ToolCall(name=name, args=args if isinstance(args, dict) else {}, id=call_id))
        answers.append(
            ToolMessage(
                content=_labelled(int(task["index"]), results.get(call_id)),
                tool_call_id=call_id,
                name=name,
            )
        )
    text = message_text(round_.plan.content)
    marker: Any = round_.plan.additional_kwargs.get(KIND, {})
    if isinstance(marker, dict) and marker.get("error") and str(marker["error"]) not in text:
        text = f"{text}\n[{marker['error']}]".strip()
    if not calls and not text:
        return []
    return [AIMessage(content=text, tool_calls=calls), *answers]


def _labelled(index: int, result: ToolMessage | None) -> str:
    label = f"${index}" if index > 0 else "(unnumbered)"
    if result is None:
        return f"Call {label}: no result (it did not run)"
    if result.status == "error":
        return f"Call {label} failed: {message_text(result.content)}"
    return f"Call {label} returned: {message_text(result.content)}"
