"""What the plan parser hands out: :class:`PlannedTask`, and the wording of its errors.

Every error names the task (``task 3 'search'``), says what is wrong, names the fix
(``write search(query="...")``) and quotes the line, so a model replanning from it can
act on it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from llmcompiler_graph.planner.syntax import ToolSpec

__all__ = [
    "QUOTED",
    "THOUGHT",
    "PlannedTask",
    "available_tools",
    "failed_task",
    "no_call",
    "no_tasks",
    "number_taken",
    "shorten",
    "task_label",
    "thought_text",
    "unknown_tool",
]

QUOTED = 200  # characters of a plan quoted when it has no task
THOUGHT = re.compile(
    r"^(?P<deco>[-*_>#\s]*)Thought\s*(?P<mid>[*_]*)\s*:\s*(?P<text>.*)$", re.I | re.S
)
"""A ``Thought:`` line, also ``**Thought:**`` or ``*Thought: ...*``."""


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """One parsed plan line.

    Attributes:
        index: The task number; negative for a line that could not keep its own number
            (a duplicate, say), so that every task stays addressable.
        name: The tool name (as the tool is registered; as written for an unknown one).
        args: Keyword arguments, references still as written (``"$1"``).
        deps: Tasks whose results the arguments use.
        thought: The ``Thought:`` text that preceded the line, if any.
        error: Why the task cannot run, phrased for the joiner; ``None`` when valid.
        line: The source text of the task.
        closed_at: ``time.perf_counter()`` when the text that completed the task (its
            closing ``)``, or the newline or end of stream) was fed to the parser. Dispatch
            latency is the job's ``Outcome.submitted_at`` minus this. Not compared.

    """

    index: int
    name: str
    args: dict[str, object] = field(default_factory=dict)
    deps: frozenset[int] = frozenset()
    thought: str | None = None
    error: str | None = None
    line: str = ""
    closed_at: float = field(default=0.0, compare=False)

    @property
    def label(self) -> str:
        """Return the number as the plan wrote it, or ``'?'`` for an unnumbered error."""
        return str(self.index) if self.index > 0 else "?"


def task_label(index: int, name: str) -> str:
    """Return how messages name a task: ``task 3 'search'`` (or ``task 3`` without a name)."""
    return f"task {index} '{name}'" if name else f"task {index}"


def failed_task(
    index: int,
    written: int,
    name: str,
    source: str,
    problem: str,
    thought: str | None,
    args: dict[str, object] | None,
    closed_at: float,
) -> PlannedTask:
    """Make a failing task; its message names the number and tool and quotes the line."""
    error = f"{task_label(written, name)}: {problem} (line: {shorten(source)})"
    return PlannedTask(
        index, name, args or {}, thought=thought, error=error, line=source, closed_at=closed_at
    )


def number_taken(index: int, planned: set[int]) -> str | None:
    """Say why task number ``index`` cannot be used, or ``None`` when it can."""
    if index < 1:
        return "task numbers start at 1"
    if index in planned:
        highest = max((i for i in planned if i > 0), default=0)
        return (
            f"task number {index} is already used; number tasks uniquely, "
            f"continuing after the highest number so far ({highest})"
        )
    return None


def example(tools: Mapping[str, ToolSpec]) -> str:
    """Return a call of the first tool, to show the format: ``search(query="...")``."""
    spec = next(iter(tools.values()), None)
    return spec.example() if spec is not None else "tool_name(arg=...)"


def no_call(tools: Mapping[str, ToolSpec]) -> str:
    """Describe a numbered line that holds no call."""
    return f"expected one tool call on the line; write it as N. {example(tools)}"


MAX_NAMES_SHOWN = 40
"""Most tool names an unknown-tool error lists; beyond, it names the closest few."""


def available_tools(name: str, tools: Mapping[str, ToolSpec]) -> str:
    """Say which tools exist, for an error about a call of ``name`` that is not one of them.

    Up to :data:`MAX_NAMES_SHOWN` tools, all their names; beyond, the closest names only,
    so that a catalogue of hundreds of tools does not fill the replanner's prompt.
    """
    if len(tools) <= MAX_NAMES_SHOWN:
        return f"Available tools: {', '.join(sorted(tools)) or 'none'}"
    close = difflib.get_close_matches(name, list(tools), n=5, cutoff=0.4)
    names = f"; the closest names: {', '.join(close)}" if close else ""
    return f"It is none of the {len(tools)} tools{names}."


def unknown_tool(name: str, tools: Mapping[str, ToolSpec]) -> str:
    """Describe a call of a tool that does not exist, suggesting the closest one."""
    close = difflib.get_close_matches(name, list(tools), n=1)
    hint = f"; did you mean '{close[0]}'? write {tools[close[0]].example()}." if close else "."
    return f"unknown tool '{name}'{hint} {available_tools(name, tools)}"


def no_tasks(seen: list[str], tools: Mapping[str, ToolSpec]) -> tuple[str, str]:
    """Return the quoted start of a plan without tasks, and the problem to report."""
    quoted = " | ".join(seen)[:QUOTED] or "(nothing)"
    problem = (
        f"the planner wrote no tasks: {quoted!r}. Write one numbered call per line, "
        f"such as 1. {example(tools)}, then join()"
    )
    return quoted, problem


def thought_text(match: re.Match[str]) -> str:
    """Return the text of a ``Thought:`` line, without bold or italic marks around it."""
    text = match["text"].strip()
    if any(c in match["deco"] for c in "*_"):  # **Thought:** text  or  *Thought: text*
        text = text.rstrip("*_").strip() if match["mid"] else text.strip("*_").strip()
    return text


def shorten(source: str, limit: int = 200) -> str:
    """Return ``source``, cut to ``limit`` characters (with "...") for a message."""
    return source if len(source) <= limit else source[:limit] + "..."
