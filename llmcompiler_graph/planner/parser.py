"""Streaming parser for the planner's numbered plan (the LLMCompiler format).

::

    Thought: I need both birthplaces.
    1. search(query="Scott Derrickson")
    2. search("Ed Wood")
    3. join()<END_OF_PLAN>

:class:`PlanParser` is fed the model's text as it streams and returns each task the
moment its call's closing ``)`` arrives (the rest of the line is commentary and cannot
change it). Model output is untrusted input: a line that does not parse, an unknown tool,
arguments that do not fit the tool, an unsatisfiable reference or a duplicate number
becomes a :class:`PlannedTask` carrying an ``error`` that quotes the line and says how to
fix it, never an exception. Arguments are parsed with :mod:`ast` into literals; nothing
is evaluated (see :mod:`.syntax`; what counts as a call line is in :mod:`.lenient`, the
repairs of the arguments chat models write in :mod:`.arguments`).

Lines are read as follows: a ``Thought:`` line (and any unnumbered lines after it) is
kept with the next task; a call line (:func:`~.lenient.match_head`) is a task, numbered
in order when the plan does not number it; a numbered line that is no call is an error; a
call whose brackets or triple-quoted string are still open continues on the next lines
(at most ``MAX_CONTINUATION_LINES``), and one left open when something new starts is
closed at the end of its text if that parses; ``join()`` (numbered or not),
``<END_OF_PLAN>`` (outside a quoted argument) or the end of the stream ends the plan.
A plan with no task and no ``join()`` becomes one error task, so the joiner can replan.
Anything else is ignored. The result does not depend on how the text is chunked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Iterator, Mapping

from llmcompiler_graph.planner.arguments import parse_call
from llmcompiler_graph.planner.lenient import NUMBERED, Head, match_head, resolve_tool
from llmcompiler_graph.planner.references import ReferenceError_, dependencies
from llmcompiler_graph.planner.syntax import CallScanner, ToolSpec, ends_in_string, open_state
from llmcompiler_graph.planner.tasks import (
    QUOTED,
    THOUGHT,
    PlannedTask,
    failed_task,
    no_call,
    no_tasks,
    number_taken,
    thought_text,
    unknown_tool,
)

__all__ = ["END_OF_PLAN", "PlanParser", "PlanState", "parse_plan"]


class PlanState:
    """One plan's numbering, thoughts, tasks and end, and the failing tasks it makes."""

    def __init__(self, tools: Mapping[str, ToolSpec], *, planned: Collection[int] = ()) -> None:
        """Create the state of one planning round.

        Args:
            tools: The runnable tools by name.
            planned: Task numbers from earlier rounds, which this plan may reference
                and must not reuse.

        """
        self._tools = tools
        self._planned: set[int] = set(planned)
        self._thought: list[str] | None = None
        self._next_anonymous = -1
        self._joined = False
        self._seen: list[str] = []  # the first lines, quoted when the plan has no task
        self._now = 0.0  # when the text being parsed was fed (each task's closed_at)
        self.done = False
        self.final_thought: str | None = None
        self.tasks: list[PlannedTask] = []

    def _taken(self, index: int) -> str | None:
        return number_taken(index, self._planned)

    def _take_thought(self) -> str | None:
        thought, self._thought = self._thought, None
        return "\n".join(thought) if thought else None

    def _end_plan(self) -> None:
        self.final_thought = self._take_thought()
        self._joined = self.done = True

    def _auto_number(self) -> int:
        return max((i for i in self._planned if i > 0), default=0) + 1

    def _end_stream(self) -> list[PlannedTask]:
        """End the plan with its stream; return its one error task if it has no task.

        A plan with no task and no ``join()`` becomes that error task (so the joiner can
        replan); a thought left without a task is the plan's final thought.
        """
        empty = [] if self.tasks or self._joined else [self._no_tasks()]
        if self._thought and self.final_thought is None:
            self.final_thought = "\n".join(self._thought)
        self.done = True
        return empty

    def _not_a_call(self, numbered: re.Match[str], line: str) -> PlannedTask:
        """Make the failing task of a numbered ``line`` that is no call (``numbered``: match)."""
        number = int(numbered.group("step") or numbered.group("num"))
        taken = self._taken(number)
        problem = taken or no_call(self._tools)
        return self._error(number, line, problem, self._take_thought(), keep_index=taken is None)

    def _no_tasks(self) -> PlannedTask:
        quoted, problem = no_tasks(self._seen, self._tools)
        index, self._next_anonymous = self._next_anonymous, self._next_anonymous - 1
        return PlannedTask(index, "", error=problem, line=quoted, closed_at=self._now)

    def _error(
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
        """Make a failing task (renumbered when its own number cannot be kept)."""
        index = written
        if not keep_index:
            index, self._next_anonymous = self._next_anonymous, self._next_anonymous - 1
        self._planned.add(index)
        if name is None:
            head = match_head(source)
            name = head.name if head is not None else ""
        return failed_task(index, written, name, source, problem, thought, args, self._now)


END_OF_PLAN = "<END_OF_PLAN>"
MAX_CONTINUATION_LINES = 50


class PlanParser(PlanState):
    """Turn a streamed plan into tasks, each as soon as its call is complete.

    The result does not depend on how the text is split into chunks. The plan's numbering,
    thoughts, failing tasks and end are kept by :class:`~.plan_state.PlanState`.
    """

    def __init__(self, tools: Mapping[str, ToolSpec], *, planned: Collection[int] = ()) -> None:
        """Create a parser for one planning round.

        Args:
            tools: The runnable tools by name.
            planned: Task numbers from earlier rounds, which this plan may reference
                and must not reuse.

        """
        super().__init__(tools, planned=planned)
        self._parts: list[str] = []  # the current, incomplete line
        self._tail = ""  # the last characters fed, to find a split <END_OF_PLAN>
        self._pending: list[str] | None = None  # lines of a task call still open
        self._scanner: CallScanner | None = None  # follows the current line's call as it streams
        self._no_scan = False  # the current line cannot complete a call before its newline
        self._line_done = False  # the current line's call was emitted at its ")"
        self._cut = False

    def feed(self, chunk: str) -> list[PlannedTask]:
        """Add streamed text; return the tasks it completed.

        Only the new chunk (and the last few characters before it, for a split
        ``<END_OF_PLAN>``) is scanned, so a long line costs linear time however it is chunked.
        """
        if self.done or not chunk:
            return []
        self._now = time.perf_counter()
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
            tasks += self._early(partial)
        return tasks

    def close(self, *, cut: bool = False) -> list[PlannedTask]:
        """End the stream; return any task left in the last line.

        Args:
            cut: The stream broke off (an error): a call still open then is an error
                instead of being closed at the end of its text.

        """
        if self.done:
            return []
        self._now = time.perf_counter()
        self._cut = cut
        rest, self._parts, self._tail = "".join(self._parts), [], ""
        tasks = list(self._lines([rest])) if rest.strip() or self._line_done else []
        if self._pending is not None and not self.done:
            source, self._pending = "\n".join(self._pending), None
            tasks += self._record(self._call(source))
        tasks += self._record(self._end_stream())
        return tasks

    # -- streaming: a task at its closing ")" ----------------------------------------------------

    def _early(self, piece: str) -> list[PlannedTask]:
        """Emit the current line's call if ``piece`` brought its closing ``)``."""
        if self._line_done or self._no_scan:
            return []
        if self._scanner is None:
            line = "".join(self._parts)
            if self._pending is None:
                head = self._head(line)
                if head is None:
                    self._no_scan = "(" in line or len(line) > 300  # the head is decided
                    return []
                start, source = head.end, line
            else:
                source = "\n".join([*self._pending, line])
                start = source.find("(") + 1
            self._scanner, piece = CallScanner(), source[start:]
        close = self._scanner.feed(piece)
        if close is None:
            return []
        line = "".join(self._parts)
        line = line[: len(line) - len(piece) + close]
        if self._pending is not None:
            in_string = open_state("\n".join(self._pending)) == "string"
            if self._interrupts_pending(line.strip()) or (NUMBERED.match(line) and not in_string):
                self._no_scan = True  # a new call may start: the newline settles both
                return []
            source, self._pending = "\n".join([*self._pending, line]), None
        else:
            source = line
        self._line_done = True
        return list(self._record(self._call(source, closed=True)))

    def _find_end(self, piece: str) -> str | None:
        """Return the line up to an ``<END_OF_PLAN>`` ending in ``piece``, if there is one.

        A marker inside a quoted argument of an open call is text, not the end of the plan.
        """
        window = self._tail + piece
        end = window.find(END_OF_PLAN)
        while end >= 0:
            cut = end - len(self._tail)  # where the marker starts in piece; < 0: buffered
            line = "".join(self._parts)
            before = line + piece[:cut] if cut >= 0 else line[:cut]
            if not self._in_string(before):
                self._parts, self._tail = [], ""
                return before
            end = window.find(END_OF_PLAN, end + 1)
        return None

    def _in_string(self, line: str) -> bool:
        if self._line_done:
            return False
        if self._pending is not None and not self._interrupts_pending(line.strip()):
            return ends_in_string("\n".join([*self._pending, line]))
        return self._head(line) is not None and ends_in_string(line)

    # -- lines -----------------------------------------------------------------------------------

    def _head(self, line: str) -> Head | None:
        """Return the call head of ``line``: numbered, or unnumbered naming a tool or join."""
        head = match_head(line)
        if head is None or head.number is not None:
            return head
        known = head.name.lower() == "join" or resolve_tool(head.name, self._tools) is not None
        return head if known and not head.spaced else None

    def _interrupts_pending(self, stripped: str) -> bool:
        """Tell whether a line starts something new, abandoning the open call before it."""
        assert self._pending is not None
        starts_new = self._head(stripped) is not None or THOUGHT.match(stripped)
        return bool(starts_new) and open_state("\n".join(self._pending)) != "string"

    def _lines(self, lines: list[str]) -> Iterator[PlannedTask]:
        for line in lines:
            if self.done:
                return
            yield from self._record(self._line(line))

    def _record(self, tasks: list[PlannedTask]) -> list[PlannedTask]:
        self.tasks += tasks
        return tasks

    def _line(self, line: str) -> list[PlannedTask]:
        done, self._line_done, self._scanner, self._no_scan = self._line_done, False, None, False
        if done:
            return []  # its call was emitted at its ")"; the rest is commentary
        line = line.removesuffix("\r")
        stripped = line.strip()
        if len(self._seen) < 5 and stripped:
            self._seen.append(stripped[:QUOTED])
        if self._pending is not None:
            if self._interrupts_pending(stripped):
                source, self._pending = "\n".join(self._pending), None
                return [*self._call(source), *self._line(line)]
            self._pending.append(line)
            source = "\n".join(self._pending)
            if open_state(source) and len(self._pending) < MAX_CONTINUATION_LINES:
                return []
            self._pending = None
            return self._call(source)
        if not stripped or stripped.startswith("```"):
            return []
        if (thought := THOUGHT.match(stripped)) is not None:
            self._thought = [*(self._thought or []), thought_text(thought)]
            return []
        head = self._head(stripped)
        if head is None:
            if (numbered := NUMBERED.match(stripped)) is not None:
                return [self._not_a_call(numbered, stripped)]
            if self._thought is not None:  # a thought that runs over several lines
                self._thought.append(stripped)
            return []
        if open_state(stripped) and head.name.lower() != "join":
            self._pending = [line.lstrip()]  # keep trailing spaces: they may be in a string
            return []
        return self._call(stripped)

    def _call(self, source: str, *, closed: bool = False) -> list[PlannedTask]:
        """Make the task of a call line, cut at its closing ``)`` (repaired if it has none).

        ``closed``: ``source`` is known to end at the call's ``)`` (the scanner of
        :meth:`_early` found it: no need to scan again).
        """
        head = self._head(source)
        assert head is not None
        if head.name.lower() == "join" and resolve_tool(head.name, self._tools) is None:
            self._end_plan()
            return []
        close: int | None
        if closed:
            close, broken = len(source) - head.end, False
        else:
            scanner = CallScanner()
            close, broken = scanner.feed(source[head.end :], final=True), scanner.broken
        source = source if close is None else source[: head.end + close]
        body = source[head.end :] if close is None else source[head.end : head.end + close - 1]
        index = head.number if head.number is not None else self._auto_number()
        thought = self._take_thought()
        if (taken := self._taken(index)) is not None:
            return [self._error(index, source, taken, thought, keep_index=False)]
        name = resolve_tool(head.name, self._tools)
        if name is None:
            return [self._error(index, source, unknown_tool(head.name, self._tools), thought)]
        unclosed = close is None and not broken
        try:
            if unclosed and self._cut:
                raise ValueError("the planner's stream broke off inside it")
            args = parse_call(self._tools[name], body, plain_text=not unclosed)
        except ValueError as exc:
            problem = str(exc)
            if unclosed:
                problem = (
                    f"the call was never closed (a bracket or string is still open); {problem}"
                )
            return [self._error(index, source, problem, thought, name=name)]
        try:
            deps = dependencies(args, self._planned, own=index)
        except ReferenceError_ as exc:
            fix = f"{exc}; write the tasks it needs above it"
            return [self._error(index, source, fix, thought, name=name, args=args)]
        self._planned.add(index)
        return [PlannedTask(index, name, args, deps, thought, None, source, self._now)]


def parse_plan(
    text: str, tools: Mapping[str, ToolSpec], *, planned: Collection[int] = ()
) -> PlanParser:
    """Parse a whole plan at once; return the finished parser (``.tasks``, ``.final_thought``)."""
    parser = PlanParser(tools, planned=planned)
    parser.feed(text)
    parser.close()
    return parser
