"""The tools a round's planner sees: all of them, or a selection (``select_tools``).

Selection applies when the catalogue has more than ``select_tools_above`` tools. Then the
planner's system prompt lists, in catalogue order, the tools the selector picks for the
question and every tool the thread's plans called in earlier questions. That list stays the
same for every round of the question, so a provider's prompt cache serves a replan its
prompt up to the rounds. A replan adds, after the rounds:

* the tools the selector picks for what the earlier rounds said was missing (the joiner's
  feedback, the planner's thoughts, the names of tools a plan called that do not exist);
* with a number ``k``, the question's best ``k`` times the number of rounds (each replan
  widens the selection);
* the tools this question's plans called that the system prompt does not list.

A plan may still call any tool of the catalogue (the parser knows them all), so a planner
that knows a tool's name is never refused for it. A selector that fails (an embeddings
service down) is logged and replaced by the lexical search for that round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import BaseTool

from llmcompiler_graph.context import DEFAULT_SELECT_TOOLS, Settings
from llmcompiler_graph.executor.toolcall import message_text
from llmcompiler_graph.planner.tool_selection import (
    AsyncToolSelector,
    Catalogue,
    merge_listing,
)
from llmcompiler_graph.state import KIND, Turn, kind_of, planned_tasks

__all__ = ["Listing", "alist_tools", "list_tools", "selection_queries", "used_tools"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    """The tools one round's planner sees."""

    tools: list[BaseTool]
    """Listed with the rules (the system prompt), in catalogue order: the same for every
    round of a question, so a provider's cache serves a replan the prompt up to its rounds."""
    catalogue: Catalogue
    partial: bool
    """Whether these are a selection (the prompt then says so), not the whole catalogue."""
    added: list[BaseTool] = field(default_factory=list)
    """Found on a replan (for what was missing): listed after the rounds, in catalogue order."""

    @property
    def names(self) -> list[str]:
        """Return the names of the tools listed with the rules."""
        return [t.name for t in self.tools]

    @property
    def offered(self) -> list[BaseTool]:
        """Return every tool listed this round (bound to a tool-calling planner)."""
        return [*self.tools, *self.added]


def selects(settings: Settings, catalogue: Catalogue) -> bool:
    """Tell whether this run's planner sees a selection rather than every tool."""
    return settings.select_tools not in (None, 0) and len(catalogue) > settings.select_tools_above


def used_tools(messages: Sequence[BaseMessage], catalogue: Catalogue) -> list[str]:
    """Return the catalogue tools the thread's plans have called, first use first."""
    seen: dict[str, None] = {}
    for message in messages:
        if isinstance(message, AIMessage) and kind_of(message) == "plan":
            for task in planned_tasks(message):
                name = task.get("name")
                if isinstance(name, str) and name in catalogue:
                    seen.setdefault(name)
    return list(seen)


def selection_queries(turn: Turn, catalogue: Catalogue) -> list[str]:
    """Return the queries for this round: the question, then one per replan so far.

    A replan's query is what its round left to find: the joiner's feedback, the planner's
    thoughts (where it says which tool it lacks) and the names and text arguments of calls
    to tools that do not exist.
    """
    question = message_text(turn.question.content) if turn.question is not None else ""
    queries = [question]
    for round_ in turn.rounds:
        parts = [round_.feedback or ""]
        marker = round_.plan.additional_kwargs.get(KIND, {})
        if isinstance(marker, dict) and marker.get("thought"):
            parts.append(str(marker["thought"]))
        for task in planned_tasks(round_.plan):
            if task.get("thought"):
                parts.append(str(task["thought"]))
            name = task.get("name")
            if isinstance(name, str) and name and name not in catalogue:
                args = task.get("args")
                values = args.values() if isinstance(args, dict) else ()
                parts += [name, *(v for v in values if isinstance(v, str))]
        query = " ".join(p for p in parts if p).strip()
        if query:
            queries.append(query)
    return queries


def _lexical(catalogue: Catalogue, queries: list[str], k: int) -> list[list[str]]:
    """Return the question's best k, then (on replans) the next ones and each query's best k.

    Each replan widens the question's selection by k more tools.
    """
    first = catalogue.search(queries[0], k * len(queries))
    return [first[:k], first[k:], *(catalogue.search(q, k) for q in queries[1:])]


def _names(picked: object, selector: object) -> list[str]:
    if isinstance(picked, str) or not isinstance(picked, Sequence):
        raise TypeError(
            f"select_tools {selector!r} returned {type(picked).__name__}; a selector returns "
            "a list of tool names"
        )
    return [name for name in picked if isinstance(name, str)]


def list_tools(
    catalogue: Catalogue, settings: Settings, messages: Sequence[BaseMessage], turn: Turn
) -> Listing:
    """Return the tools this round's planner sees (every tool when selection is off)."""
    if not selects(settings, catalogue):
        return Listing(catalogue.tools, catalogue, partial=False)
    queries = selection_queries(turn, catalogue)
    selector = settings.select_tools
    if isinstance(selector, int):
        picks = _lexical(catalogue, queries, selector)
    else:
        try:
            picks = [_names(selector(q, catalogue.tools), selector) for q in queries]
        except Exception as exc:
            picks = _fallback(catalogue, queries, selector, exc)
    return _listing(catalogue, picks, messages)


async def alist_tools(
    catalogue: Catalogue, settings: Settings, messages: Sequence[BaseMessage], turn: Turn
) -> Listing:
    """Do what :func:`list_tools` does, awaiting a selector's ``aselect`` if it has one."""
    selector = settings.select_tools
    if not isinstance(selector, AsyncToolSelector) or not selects(settings, catalogue):
        return list_tools(catalogue, settings, messages, turn)
    queries = selection_queries(turn, catalogue)
    try:
        picks = [_names(await selector.aselect(q, catalogue.tools), selector) for q in queries]
    except Exception as exc:
        picks = _fallback(catalogue, queries, selector, exc)
    return _listing(catalogue, picks, messages)


def _fallback(
    catalogue: Catalogue, queries: list[str], selector: object, exc: Exception
) -> list[list[str]]:
    _log.warning(
        "select_tools %r failed (%s: %s); this round lists the %d tools the lexical search "
        "finds instead",
        selector,
        type(exc).__name__,
        exc,
        DEFAULT_SELECT_TOOLS,
    )
    return _lexical(catalogue, queries, DEFAULT_SELECT_TOOLS)


def _listing(
    catalogue: Catalogue, picks: list[list[str]], messages: Sequence[BaseMessage]
) -> Listing:
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=0)
    tools = merge_listing(catalogue, picks[:1], used_tools(messages[:start], catalogue))
    shown = {t.name for t in tools}
    later = merge_listing(catalogue, picks, used_tools(messages, catalogue))
    added = [t for t in later if t.name not in shown]
    partial = len(tools) + len(added) < len(catalogue)
    return Listing(tools, catalogue, partial=partial, added=added)
