"""Plan size limits: most tasks per plan, longest line, longest plan.

A planner that writes thousands of tasks or a megabyte on one line is bad output, not a
reason to run thousands of tools or to hold a megabyte in the parser. :class:`PlanLimits`
watches the streamed text: beyond ``max_chars`` characters, or a line beyond
``max_line_chars``, the stream is cut there (and the reason recorded for the joiner); tasks
beyond ``max_tasks`` do not run and end with an error saying which limit to raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from llmcompiler_graph.planner.tasks import PlannedTask

__all__ = ["PlanLimits"]


@dataclass
class PlanLimits:
    """The size limits of one plan, and how much of them its stream has used."""

    max_tasks: int
    max_line_chars: int
    max_chars: int
    error: str | None = None
    """Why the stream was cut, once a character limit was reached."""
    _chars: int = 0
    _line: int = 0
    _tasks: int = field(default=0, repr=False)
    _last_name: str = field(default="", repr=False)

    def admit(self, piece: str) -> str:
        """Return the part of ``piece`` within the limits (all of it, until one is reached)."""
        if self.error is not None:
            return ""
        allowed = min(len(piece), self.max_chars - self._chars)
        position, line = 0, self._line
        while position < allowed:
            newline = piece.find("\n", position, allowed)
            end = allowed if newline < 0 else newline
            if line + end - position > self.max_line_chars:
                allowed = position + self.max_line_chars - line
                self.error = (
                    f"the plan was cut: a line is longer than max_plan_line_chars="
                    f"{self.max_line_chars} characters; write long values into fewer, "
                    "shorter steps, or raise max_plan_line_chars"
                )
                break
            if newline < 0:
                line += end - position
                break
            position, line = newline + 1, 0
        if self.error is None and allowed < len(piece):
            self.error = (
                f"the plan was cut at max_plan_chars={self.max_chars} characters; plan fewer, "
                "shorter steps, or raise max_plan_chars"
            )
        kept = piece[:allowed]
        self._chars += len(kept)
        tail = kept.rfind("\n")
        self._line = len(kept) - tail - 1 if tail >= 0 else self._line + len(kept)
        return kept

    def admit_calls(self, text: str, calls: Iterable[Mapping[str, object]]) -> bool:
        """Count a tool-calling chunk (text, name pieces, arguments) against ``max_chars``.

        Return whether to read it; once the plan is too long the stream is cut there. A name
        repeated in every chunk of its call (some providers do) counts once.
        """
        if self.error is not None:
            return False
        size = len(text)
        for call in calls:
            size += len(str(call.get("args") or ""))
            name = call.get("name")
            if isinstance(name, str) and name != self._last_name:
                size += len(name)
                self._last_name = name
        if self._chars + size > self.max_chars:
            self.error = (
                f"the plan was cut at max_plan_chars={self.max_chars} characters; plan fewer, "
                "shorter steps, or raise max_plan_chars"
            )
            return False
        self._chars += size
        return True

    def task_error(self, task: PlannedTask) -> str | None:
        """Count ``task``; return why it may not run when the plan has too many tasks."""
        self._tasks += 1
        if self._tasks <= self.max_tasks:
            return None
        return (
            f"task {task.label} '{task.name}': not run, the plan has more than "
            f"max_plan_tasks={self.max_tasks} tasks; plan fewer, larger steps (or replan "
            "for the rest), or raise max_plan_tasks"
        )
