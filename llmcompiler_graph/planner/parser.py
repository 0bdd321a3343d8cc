"""Streaming parser for the planner's numbered plan (the LLMCompiler format).

::

    Thought: I need both birthplaces.
    1. search(query="Scott Derrickson")
    2. search("Ed Wood")
    3. join()<END_OF_PLAN>

:class:`PlanParser` is fed the model's text as it streams and returns each task the
moment its line is complete. Model output is untrusted input: a line that does not
parse, an unknown tool, arguments that do not fit the tool, an unsatisfiable reference
or a duplicate number becomes a :class:`PlannedTask` carrying an ``error``, never an
exception. Arguments are parsed with :mod:`ast` into literals; nothing is evaluated
(see :mod:`llmcompiler_graph.planner.syntax`).

Lines are read as follows: a ``Thought:`` line (and any unnumbered lines after it) is
kept with the next task; a line starting with a number (``3.``, ``3)``, ``3:``) is a
task; a task whose brackets or triple-quoted string are still open continues on the
next lines (at most ``MAX_CONTINUATION_LINES``); ``join()`` (numbered or not),
``<END_OF_PLAN>`` (outside a quoted argument) or the end of the stream ends the plan.
Anything else is ignored. The result does not depend on how the text is chunked.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

from llmcompiler_graph.planner.references import ReferenceError_, dependencies
from llmcompiler_graph.planner.syntax import ToolSpec, ends_in_string, open_state, parse_call

__all__ = ["END_OF_PLAN", "PlanParser", "PlannedTask", "ToolSpec", "parse_plan"]

END_OF_PLAN = "<END_OF_PLAN>"
MAX_CONTINUATION_LINES = 50

# "3. call(...)", "3) call", "**3.** call"; not "3.5 million" (a decimal number).
_TASK = re.compile(r"^\s*(?:\*\*)?(\d+)\s*(?:\*\*)?\s*[.:)](?!\d)\s*(?:\*\*)?\s*(.*?)\s*$", re.S)
_THOUGHT = re.compile(r"^\s*Thought\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
_CALL_START = re.compile(r"^[\s*]*\d+[\s*]*[.:)][\s*]*[A-Za-z_][\w.]*\s*\(")
_NAME = re.compile(r"^[\s*]*\d+[\s*]*[.:)][\s*]*([A-Za-z_][\w.]*)\s*\(")
_JOIN = re.compile(r"^(?:(?:\*\*)?\d+\s*(?:\*\*)?\s*[.:)]\s*(?:\*\*)?\s*)?join\s*\(", re.I)


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """One parsed plan line.

    Attributes:
        index: The task number; negative for a line that could not keep its own number
            (a duplicate, say), so that every task stays addressable.
        name: The tool name as written (empty when the line had none).
        args: Keyword arguments, references still as written (``"$1"``).
        deps: Tasks whose results the arguments use.
        thought: The ``Thought:`` text that preceded the line, if any.
        error: Why the task cannot run, phrased for the joiner; ``None`` when valid.
        line: The source text of the task.

    """

    index: int
    name: str
    args: dict[str, object] = field(default_factory=dict)
    deps: frozenset[int] = frozenset()
    thought: str | None = None
    error: str | None = None
    line: str = ""

    @property
    def label(self) -> str:
        """Return the number as the plan wrote it, or ``'?'`` for an unnumbered error."""
        return str(self.index) if self.index > 0 else "?"


class PlanParser:
    """Turn a streamed plan into tasks, one complete line at a time.

    The result does not depend on how the text is split into chunks.
    """

    def __init__(self, tools: Mapping[str, ToolSpec], *, planned: Collection[int] = ()) -> None:
        """Create a parser for one planning round.

        Args:
            tools: The runnable tools by name.
            planned: Task numbers from earlier rounds, which this plan may reference
                and must not reuse.

        """
        self._tools = tools
        self._planned: set[int] = set(planned)
        self._parts: list[str] = []  # the current, incomplete line
        self._tail = ""  # the last characters fed, to find a split <END_OF_PLAN>
        self._pending: list[str] | None = None  # lines of a task call still open
        self._thought: list[str] | None = None
        self._next_anonymous = -1
        self.done = False
        self.final_thought: str | None = None
        self.tasks: list[PlannedTask] = []

    def feed(self, chunk: str) -> list[PlannedTask]:
        """Add streamed text; return the tasks whose lines it completed.

        Only the new chunk (and the last few characters before it, for a split
        ``<END_OF_PLAN>``) is scanned, so a long line costs linear time however it is chunked.
        """
        if self.done or not chunk:
            return []
        tasks: list[PlannedTask] = []
        *complete, partial = chunk.split("\n")
        for piece in complete:
            if (before := self._find_end(piece)) is not None:
                return [*tasks, *self._lines([before]), *self.close()]
            line = "".join([*self._parts, piece])
            self._parts, self._tail = [], ""
            tasks += self._lines([line])
            if self.done:
                return tasks
        if (before := self._find_end(partial)) is not None:
            return [*tasks, *self._lines([before]), *self.close()]
        if partial:
            self._parts.append(partial)
            self._tail = (self._tail + partial)[-(len(END_OF_PLAN) - 1) :]
        return tasks

    def close(self) -> list[PlannedTask]:
        """End the stream; return any task left in the last line."""
        if self.done:
            return []
        rest, self._parts, self._tail = "".join(self._parts), [], ""
        tasks = list(self._lines([rest])) if rest.strip() else []
        if self._pending is not None and not self.done:
            source, self._pending = "\n".join(self._pending), None
            task = self._task_line(source, incomplete=True)
            if task is not None:
                self.tasks.append(task)
                tasks.append(task)
        if self._thought and self.final_thought is None:
            self.final_thought = "\n".join(self._thought)
        self.done = True
        return tasks

    # -- lines --------------------------------------------------------------------------------

    def _find_end(self, piece: str) -> str | None:
        """Return the line up to an ``<END_OF_PLAN>`` ending in ``piece``, if there is one.

        A marker inside a quoted argument of a task is text, not the end of the plan.
        """
        window = self._tail + piece
        end = window.find(END_OF_PLAN)
        while end >= 0:
            cut = end - len(self._tail)  # where the marker starts in piece; < 0: buffered
            line = "".join(self._parts)
            before = line + piece[:cut] if cut >= 0 else line[:cut]
            call = self._call_source(before)
            if call is None or not ends_in_string(call):
                self._parts, self._tail = [], ""
                return before
            end = window.find(END_OF_PLAN, end + 1)
        return None

    def _call_source(self, line: str) -> str | None:
        """Return the task call that ``line`` is (part of), or ``None`` for any other line."""
        stripped = line.strip()
        if self._pending is not None and not self._interrupts_pending(stripped):
            return "\n".join([*self._pending, line])
        return line if _TASK.match(stripped) else None

    def _interrupts_pending(self, stripped: str) -> bool:
        """Tell whether a line starts something new, abandoning the open call before it."""
        assert self._pending is not None
        starts_new = (
            _CALL_START.match(stripped) or _THOUGHT.match(stripped) or _JOIN.match(stripped)
        )
        return bool(starts_new) and open_state("\n".join(self._pending)) != "string"

    def _lines(self, lines: list[str]) -> Iterator[PlannedTask]:
        for line in lines:
            if self.done:
                return
            for task in self._line(line):
                self.tasks.append(task)
                yield task

    def _line(self, line: str) -> list[PlannedTask]:
        line = line.removesuffix("\r")
        stripped = line.strip()
        if self._pending is not None:
            if self._interrupts_pending(stripped):
                # A new line of the plan: the open call was never closed; report it, go on.
                source, self._pending = "\n".join(self._pending), None
                first = self._task_line(source, incomplete=True)
                return [t for t in (first, *self._line(line)) if t is not None]
            self._pending.append(line)
            source = "\n".join(self._pending)
            if open_state(source) and len(self._pending) < MAX_CONTINUATION_LINES:
                return []
            self._pending = None
            task = self._task_line(source)
            return [] if task is None else [task]
        if not stripped or stripped.startswith("```"):
            return []
        if (thought := _THOUGHT.match(stripped)) is not None:
            self._thought = [*(self._thought or []), thought.group(1).strip()]
            return []
        if _JOIN.match(stripped):
            self._end_plan()
            return []
        if _TASK.match(stripped) is None:
            if self._thought is not None:  # a thought that runs over several lines
                self._thought.append(stripped)
            return []
        if _CALL_START.match(stripped) and open_state(stripped):
            self._pending = [line.lstrip()]  # keep trailing spaces: they may be in a string
            return []
        task = self._task_line(stripped)
        return [] if task is None else [task]

    def _end_plan(self) -> None:
        thought, self._thought = self._thought, None
        self.final_thought = "\n".join(thought) if thought else None
        self.done = True

    def _task_line(self, source: str, *, incomplete: bool = False) -> PlannedTask | None:
        match = _TASK.match(source)
        assert match is not None
        index, body = int(match.group(1)), match.group(2).strip().removesuffix("**").strip()
        if _JOIN.match(body):
            self._end_plan()
            return None
        thought, self._thought = self._thought, None
        thought_text = "\n".join(thought) if thought else None
        if index in self._planned or index < 1:
            problem = (
                f"task number {index} is already used; number tasks uniquely, "
                f"continuing after the highest number so far"
                if index > 0
                else "task numbers start at 1"
            )
            return self._error_task(index, source, problem, thought_text, keep_index=False)
        if incomplete:
            problem = (
                "the call was never closed (a bracket or a triple-quoted string is still open)"
            )
            return self._error_task(index, source, problem, thought_text)
        try:
            name, args = parse_call(body, self._tools)
        except ValueError as exc:
            return self._error_task(index, source, str(exc), thought_text)
        try:
            deps = dependencies(args, self._planned, own=index)
        except ReferenceError_ as exc:
            return self._error_task(index, source, str(exc), thought_text, name=name, args=args)
        self._planned.add(index)
        return PlannedTask(index, name, args, deps, thought_text, None, source)

    def _error_task(
        self,
        written: int,
        source: str,
        problem: str,
        thought: str | None,
        *,
        keep_index: bool = True,
        name: str | None = None,
        args: dict[str, object] | None = None,
    ) -> PlannedTask:
        """Make a failing task; its message names the number and tool as written."""
        index = written
        if not keep_index:
            index, self._next_anonymous = self._next_anonymous, self._next_anonymous - 1
        self._planned.add(index)
        if name is None:
            name_match = _NAME.match(source)
            name = name_match.group(1) if name_match else ""
        error = f"{task_label(written, name)}: {problem} (line: {_shorten(source)})"
        return PlannedTask(index, name, args or {}, thought=thought, error=error, line=source)


def task_label(index: int, name: str) -> str:
    """Return how messages name a task: ``task 3 'search'`` (or ``task 3`` without a name)."""
    return f"task {index} '{name}'" if name else f"task {index}"


def parse_plan(
    text: str, tools: Mapping[str, ToolSpec], *, planned: Collection[int] = ()
) -> PlanParser:
    """Parse a whole plan at once; return the finished parser (``.tasks``, ``.final_thought``)."""
    parser = PlanParser(tools, planned=planned)
    parser.feed(text)
    parser.close()
    return parser


def _shorten(source: str, limit: int = 200) -> str:
    return source if len(source) <= limit else source[:limit] + "..."
