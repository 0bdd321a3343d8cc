"""Asking the planner: its prompt, and its stream (with ``stop`` where the model takes it).

:func:`build_planner_messages` writes the planner's prompt for a turn (the paper's text
format, or native tool calls); :func:`stream_plan` / :func:`astream_plan` stream its reply
for :mod:`llmcompiler_graph.plan_and_schedule`, which parses and schedules it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from llmcompiler_graph.context import Settings
from llmcompiler_graph.plan_formats import PlannerModel, tool_call_planner_messages
from llmcompiler_graph.planner import prompts
from llmcompiler_graph.planner.parser import END_OF_PLAN
from llmcompiler_graph.render import describe_tools, render_rounds
from llmcompiler_graph.state import Turn
from llmcompiler_graph.transcript import fit_history

__all__ = ["astream_plan", "build_planner_messages", "stream_plan"]


def build_planner_messages(
    turn: Turn, tools: list[BaseTool], settings: Settings
) -> list[BaseMessage]:
    """Build the planner's prompt: system rules and tools, history, question, earlier rounds."""
    if settings.plan_format == "tool_calls":
        return tool_call_planner_messages(turn, tools, settings)
    next_index = turn.next_index
    given = settings.examples
    shown = prompts.default_examples([t.name for t in tools]) if given is None else given
    examples = f"\nExamples:\n{shown.strip()}\n" if shown else ""
    system = prompts.fill(
        settings.planner_prompt,
        tools=describe_tools(tools),
        num_tools=len(tools),
        num_tools_plus_one=len(tools) + 1,
        examples=examples,
        next_index=next_index,
    )
    # The earlier rounds and the earlier conversation share the prompt budget, rounds first.
    budget = settings.prompt_budget_chars
    rounds = render_rounds(turn.rounds, budget) if turn.rounds else ""
    history = fit_history(turn.history, max(budget - len(rounds), budget // 4))
    messages: list[BaseMessage] = [SystemMessage(system), *history]
    question = turn.question.content if turn.question is not None else ""
    messages.append(HumanMessage(question))
    if turn.rounds:
        replan = prompts.fill(prompts.REPLAN_PROMPT, next_index=next_index)
        messages.append(HumanMessage(f"{rounds}\n\n{replan}"))
    return messages


def _refuses_stop(exc: Exception) -> bool:
    """Tell whether a model's error is its refusal of the ``stop`` parameter."""
    return "stop" in str(exc).lower()


def stream_plan(
    model: PlannerModel, messages: list[BaseMessage], config: RunnableConfig, *, stop: bool
) -> Iterator[Any]:
    """Stream the plan with ``stop=["<END_OF_PLAN>"]`` (issue 10), so a chatty model stops.

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
