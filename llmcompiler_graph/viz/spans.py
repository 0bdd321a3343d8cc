"""The bars of a run's timeline and their labels.

Holds :class:`Span` (one bar: a model call or a task), :func:`task_label` and
:func:`arguments_text` (a task's row text, arguments shortened at a word boundary) and
:func:`model_label`, shared by :class:`~llmcompiler_graph.viz.timeline.Timeline` (which
records spans) and :mod:`.gantt` (which draws them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmcompiler_graph.viz._style import clip_text

__all__ = ["ARGS_CHARS", "Span", "arguments_text", "model_label", "task_label"]

ARGS_CHARS = 36
"""Longest argument text in a row label; the full text stays in :attr:`Span.detail`."""


@dataclass(frozen=True)
class Span:
    """One bar of the timeline; times are ``time.perf_counter()`` seconds.

    Attributes:
        label: Text on the row, e.g. ``"$1 search('Ed Wood')"`` or ``"planner"``.
        kind: ``"planner"``, ``"joiner"``, ``"model"`` or ``"task"``.
        start: When the call began.
        end: When it ended.
        status: For tasks: ``ok``, ``error``, ``timeout`` or ``skipped``.
        first_token: For model calls: when the first token arrived (the bar is lighter before).
        planned: For tasks: when the plan line was parsed (a tick on the row).
        index: For tasks: the task number.
        detail: The full text of a shortened ``label`` (its arguments whole), else ``None``.

    """

    label: str
    kind: str
    start: float
    end: float
    status: str = "ok"
    first_token: float | None = None
    planned: float | None = None
    index: int | None = None
    detail: str | None = None

    @property
    def text(self) -> str:
        """Return the row's full text: ``detail`` if the label was shortened, else ``label``."""
        return self.detail or self.label


def model_label(kind: str, count: int) -> str:
    """Return a model call's row label: ``planner``, ``planner (replan 1)``, ``joiner (2)``..."""
    if kind == "planner":
        return "planner" if count == 1 else f"planner (replan {count - 1})"
    if kind == "joiner":
        return "joiner" if count == 1 else f"joiner ({count})"
    return f"model call {count}"


def task_label(index: int, name: object, args: object, limit: int | None = ARGS_CHARS) -> str:
    """Return ``$N tool('arg', ...)`` for a planned task, arguments shortened to ``limit``.

    Arguments are cut at a word boundary with "…" (``limit=None``: whole).
    """
    shown = arguments_text(args, limit) if isinstance(args, Mapping) else ""
    return f"${index} {name or 'invalid'}({shown})" if index > 0 else f"invalid line: {name or '?'}"


def arguments_text(args: Mapping[str, Any], limit: int | None = None) -> str:
    """Return a call's arguments as ``'a', 2``, shortened to ``limit`` at a word boundary."""
    values = [v for v in args.values() if v is not None]
    full = ", ".join(repr(v) for v in values)
    if limit is None or len(full) <= limit:
        return full
    if len(values) == 1 and isinstance(values[0], str):  # keep the quotes around the text
        return repr(clip_text(values[0], limit - 2))
    return clip_text(full, limit)
