"""What a plan being parsed has settled so far, whatever the streaming: :class:`PlanState`.

The base of :class:`~.parser.PlanParser`. It holds the plan's bookkeeping (the task numbers
taken, by this plan and earlier rounds; the pending ``Thought:`` lines; the tasks made; the
first lines seen, to quote; whether the plan ended) and the steps that only touch it, none
of them run per streamed chunk: numbering a task the plan did not number, taking the thought
that goes with a task, ending the plan at ``join()`` or at the end of its stream (a plan
with no task becomes one error task), and making the failing task of a line that cannot run
(renumbered when its own number is taken), such as a numbered line that is no call. How
text becomes lines and calls, as it streams, is in :mod:`.parser`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from llmcompiler_graph.planner.lenient import match_head
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tasks import (
    PlannedTask,
    failed_task,
    no_call,
    no_tasks,
    number_taken,
)

__all__ = ["PlanState"]


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
