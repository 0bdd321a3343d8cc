"""Asking the planner: its prompt, and its stream (with ``stop`` where the model takes it).

:func:`build_planner_messages` writes the planner's prompt for a turn (the paper's text
format, or native tool calls); :func:`stream_plan` / :func:`astream_plan` stream its reply
for :mod:`llmcompiler_graph.nodes.round`, which parses and schedules it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Sequence
from typing import Any, cast

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool

from llmcompiler_graph.context import Settings
from llmcompiler_graph.errors import PlanFormatError
from llmcompiler_graph.executor.effects import tool_effects
from llmcompiler_graph.executor.toolcall import message_text, tool_text
from llmcompiler_graph.joiner.rounds import clip, edited_args, fair_cap, render_rounds
from llmcompiler_graph.nodes.tool_listing import Listing
from llmcompiler_graph.nodes.transcript import fit_history
from llmcompiler_graph.planner import prompts
from llmcompiler_graph.planner.parser import END_OF_PLAN
from llmcompiler_graph.planner.shared_state import shared_state_note
from llmcompiler_graph.planner.tool_selection import filter_examples
from llmcompiler_graph.planner.tool_specs import describe_tools
from llmcompiler_graph.prompt_cache import mark
from llmcompiler_graph.state import KIND, Round, Turn, planned_tasks

__all__ = [
    "PlannerModel",
    "astream_plan",
    "bind_planner",
    "build_planner_messages",
    "replay_round",
    "stream_plan",
    "tool_call_planner_messages",
]


PlannerModel = BaseChatModel | Runnable[LanguageModelInput, BaseMessage]
"""The planner as a round streams it: the chat model, or the model bound to the tools."""

_CALL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
    turn: Turn,
    tools: Sequence[BaseTool] | Listing,
    settings: Settings,
    *,
    breakpoints: bool = False,
) -> list[BaseMessage]:
    """Build the tool-calling planner's prompt: rules, history, question, earlier rounds.

    Ordered as :func:`build_planner_messages` orders a text plan's prompt.
    """
    listing = tools if isinstance(tools, Listing) else None
    listed = listing.tools if listing is not None else list(cast(Sequence[BaseTool], tools))
    next_index = turn.next_index
    shown = _examples(settings.examples or "", listing)
    examples = f"\nExamples:\n{shown.strip()}\n" if shown else ""
    template = settings.planner_prompt
    if template == prompts.PLANNER_PROMPT:  # not replaced by the user: this format's default
        template = prompts.TOOL_CALLS_PLANNER_PROMPT
    system = (
        prompts.fill(
            template,
            tools=describe_tools(listed),
            num_tools=len(listed),
            num_tools_plus_one=len(listed) + 1,
            examples=examples,
            next_index=next_index,
        )
        + shared_state(listed, settings)
        + _selection_note(listing)
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
    # The same prompt budget as text plans: results clipped fairly, the conversation its share.
    budget = settings.prompt_budget_chars
    _fit_results(rounds, budget)
    history = _history(turn, budget)
    question = turn.question.content if turn.question is not None else ""
    messages = [SystemMessage(system), *history, HumanMessage(question), *rounds]
    return _marked(messages, history) if breakpoints else messages


def _marked(messages: list[BaseMessage], history: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Mark cache breakpoints at the end of the system prompt and of the conversation."""
    return mark(messages, [0, len(history)] if history else [0])


def _history(turn: Turn, budget: int) -> list[BaseMessage]:
    """Return the conversation as every round of the question shows it.

    It gets a quarter of the budget on top of the rounds' whatever the rounds are, so a
    replan repeats the prompt's start.
    """
    return fit_history(turn.history, budget // 4)


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
    edited = edited_args(result)
    if edited is not None:
        label = f"{label} (the reviewer edited its arguments to {edited})"
    if result.status == "error":
        return f"Call {label} failed: {tool_text(result.content)}"
    return f"Call {label} returned: {tool_text(result.content)}"


def shared_state(tools: Sequence[BaseTool], settings: Settings) -> str:
    """Return the system prompt's last part: which listed tools share state, or ``""``.

    One line per resource that a listed tool writes (``tool_effects``, and each tool's
    ``metadata["llmcompiler_effects"]``), so the model writes those steps in the order
    they must happen.
    """
    listed = {t.name for t in tools}
    declared = {n: e for n, e in (settings.tool_effects or {}).items() if n in listed}
    note = shared_state_note(tool_effects(tools, declared), listed)
    return f"\n\n{note}" if note else ""


def _examples(examples: str, listing: Listing | None) -> str:
    """Return the examples to show: those whose tools are all listed, under a selection."""
    if listing is None or not listing.partial or not examples:
        return examples
    return filter_examples(examples, listing.names, listing.catalogue)


def _selection_note(listing: Listing | None) -> str:
    """Return the note saying the tools are a selection (empty when they are all listed)."""
    if listing is None or not listing.partial:
        return ""
    note = prompts.fill(prompts.SELECTION_NOTE, num_catalogue=len(listing.catalogue))
    return f"\n{note}"


def build_planner_messages(
    turn: Turn,
    tools: list[BaseTool] | Listing,
    settings: Settings,
    *,
    breakpoints: bool = False,
) -> list[BaseMessage]:
    """Build the planner's prompt, ordered from the most stable part to the least.

    First the system prompt (rules, tools, examples: the same for every question, round and
    run), then the conversation, then the question, then this question's earlier rounds with
    where the new plan's numbering continues. A provider's prompt cache then serves a replan
    everything up to its rounds, and a thread's next question its system prompt and the
    conversation before it. With ``breakpoints`` (for Anthropic's models), the end of the
    system prompt and of the conversation carry ``cache_control``.

    ``tools`` are the tools to list, or a :class:`~.tool_listing.Listing` (a selection of
    the catalogue: the few-shot examples are filtered to its tools, and a note says that
    tools not listed can be asked for).
    """
    if settings.plan_format == "tool_calls":
        return tool_call_planner_messages(turn, tools, settings, breakpoints=breakpoints)
    listing = tools if isinstance(tools, Listing) else None
    listed = listing.tools if listing is not None else cast(list[BaseTool], tools)
    next_index = turn.next_index
    given = settings.examples
    shown = prompts.default_examples([t.name for t in listed]) if given is None else given
    shown = _examples(shown, listing)
    examples = f"\nExamples:\n{shown.strip()}\n" if shown else ""
    system = (
        prompts.fill(
            settings.planner_prompt,
            tools=describe_tools(listed),
            num_tools=len(listed),
            num_tools_plus_one=len(listed) + 1,
            examples=examples,
            next_index=next_index,
        )
        + shared_state(listed, settings)
        + _selection_note(listing)
    )
    # The rounds get the budget; the conversation its own share, whatever the rounds.
    budget = settings.prompt_budget_chars
    history = _history(turn, budget)
    rounds = render_rounds(turn.rounds, budget) if turn.rounds else ""
    messages: list[BaseMessage] = [SystemMessage(system), *history]
    question = turn.question.content if turn.question is not None else ""
    messages.append(HumanMessage(question))
    if turn.rounds:
        replan = prompts.fill(prompts.REPLAN_PROMPT, next_index=next_index)
        messages.append(HumanMessage(f"{rounds}\n\n{_added(listing, len(listed))}{replan}"))
    return _marked(messages, history) if breakpoints else messages


def _added(listing: Listing | None, listed: int) -> str:
    """Return the tools a replan lists beyond the system prompt's, numbered after join()."""
    if listing is None or not listing.added:
        return ""
    tools = describe_tools(listing.added, start=listed + 2)
    return f"{prompts.fill(prompts.ADDED_TOOLS, tools=tools)}\n\n"


def _refuses_stop(exc: Exception) -> bool:
    """Tell whether a model's error is its refusal of the ``stop`` parameter."""
    return "stop" in str(exc).lower()


def stream_plan(
    model: PlannerModel, messages: list[BaseMessage], config: RunnableConfig, *, stop: bool
) -> Iterator[Any]:
    """Stream the plan with ``stop=["<END_OF_PLAN>"]``, so a chatty model stops.

    A model that refuses the parameter before sending anything is asked again without it.
    Tool-call plans have no end marker: they stream as they are.
    """
    with_stop = {"stop": [END_OF_PLAN]} if stop else {}
    started = False
    for kwargs in (with_stop, {}):
        stream = model.stream(messages, config, **kwargs)
        try:
            for chunk in stream:
                started = True
                yield chunk
            return
        except Exception as exc:
            if started or not kwargs or not _refuses_stop(exc):
                raise
        finally:
            if isinstance(stream, Generator):  # stop the model's stream early
                stream.close()


async def astream_plan(
    model: PlannerModel, messages: list[BaseMessage], config: RunnableConfig, *, stop: bool
) -> AsyncIterator[Any]:
    """Do what :func:`stream_plan` does with ``model.astream``."""
    with_stop = {"stop": [END_OF_PLAN]} if stop else {}
    started = False
    for kwargs in (with_stop, {}):
        stream = model.astream(messages, config, **kwargs)
        try:
            async for chunk in stream:
                started = True
                yield chunk
            return
        except Exception as exc:
            if started or not kwargs or not _refuses_stop(exc):
                raise
        finally:
            if isinstance(stream, AsyncGenerator):  # stop the model's stream early
                await stream.aclose()
