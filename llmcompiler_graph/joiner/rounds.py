"""How a question's rounds are shown to a model: plans, results and feedback as prompt text.

The joiner reads them (and the text-format replanner, which sees the same rounds). Results
are clipped (:func:`clip`) and fitted fairly into a budget (:func:`fair_cap`).
"""

from __future__ import annotations

import json

from langchain_core.messages import ToolMessage

from llmcompiler_graph.executor.toolcall import tool_text
from llmcompiler_graph.state import KIND, Round, planned_tasks

__all__ = [
    "FENCE",
    "MAX_OBSERVATION_CHARS",
    "clip",
    "edited_args",
    "fair_cap",
    "fence",
    "render_rounds",
]

MAX_OBSERVATION_CHARS = 8_000
"""Longest result text put in a ToolMessage; the rest is cut with a note."""

FENCE = "  | "
"""Start of every line of a result (or any model's text) after its first, in prompts."""


def clip(text: str, limit: int = MAX_OBSERVATION_CHARS) -> str:
    """Cut ``text`` to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... {len(text) - limit} more characters not shown]"


def render_rounds(rounds: list[Round], budget: int | None = None) -> str:
    """Render each round's plan with its results and the joiner's feedback.

    Every text a model or a tool wrote (results, errors, plan lines, thoughts, feedback) is
    fenced: its lines after the first start with :data:`FENCE`, so no result can open a
    section of its own (a fake ``Observation:`` or ``Plan 2:``). With a ``budget`` (in
    characters), those texts are clipped to fit it, the largest first (see :func:`fair_cap`),
    each cut saying how much it left out, and a first line states the budget.
    """
    lines: list[str | _Field] = []
    results: dict[str, ToolMessage] = {}
    for round_ in rounds:
        results.update({m.tool_call_id: m for m in round_.results})
    for number, round_ in enumerate(rounds, start=1):
        lines.append(f"Plan {number}:")
        for task in planned_tasks(round_.plan):
            if task.get("thought"):
                lines.append(_Field("Thought: ", str(task["thought"])))
            lines.append(
                _Field("", str(task.get("line") or f"{task['index']}. {task['name']}(...)"))
            )
            result = results.get(str(task.get("id")))
            if result is None:
                lines.append("Observation: (no result)")
            else:
                if (edited := edited_args(result)) is not None:
                    lines.append(_Field("The reviewer edited its arguments to: ", edited))
                prefix = "Observation: ERROR: " if result.status == "error" else "Observation: "
                lines.append(_Field(prefix, tool_text(result.content)))
        marker = round_.plan.additional_kwargs.get("llmcompiler", {})
        if isinstance(marker, dict) and marker.get("error"):
            lines.append(_Field("Planner error: ", str(marker["error"])))
        if isinstance(marker, dict) and marker.get("thought"):
            lines.append(_Field("Thought: ", str(marker["thought"])))
        if round_.feedback:
            lines.append(_Field("Feedback: ", round_.feedback))
        lines.append("")
    return _fit(lines, budget)


def edited_args(result: ToolMessage) -> str | None:
    """Return the arguments a reviewer edited a task's call to (as JSON), if they did."""
    marker = result.additional_kwargs.get(KIND)
    edited = marker.get("edited_args") if isinstance(marker, dict) else None
    return None if edited is None else json.dumps(edited, ensure_ascii=False, default=str)


class _Field:
    """A label and a text some model or tool wrote (fenced, and clipped to a budget)."""

    def __init__(self, label: str, text: str) -> None:
        self.label = label
        self.text = text
        self.size = len(fence(text))


def fence(text: str) -> str:
    """Return ``text`` with every line after the first starting with :data:`FENCE`.

    Any line break counts (carriage returns, form feeds, Unicode separators), so a text cannot
    start a line of its own in a prompt.
    """
    return f"\n{FENCE}".join(text.splitlines()) if text else text


def fair_cap(sizes: list[int], budget: int) -> int | None:
    """Return the size to clip texts to so that they fit ``budget``, or ``None`` if they do.

    Texts up to the cap are kept whole; only larger ones are cut, all to the same size,
    so the largest are clipped first and a small result is never sacrificed for a big one.
    """
    if sum(sizes) <= budget:
        return None
    remaining, count = budget, len(sizes)
    for size in sorted(sizes):
        if size * count > remaining:
            return max(remaining // count, 0)
        remaining -= size
        count -= 1
    return None  # unreachable: the sum exceeded the budget


def _clip_fenced(text: str, cap: int | None, size: int) -> str:
    if cap is None or size <= cap:
        return fence(text)
    shown, used, kept = [], 0, 0
    for number, line in enumerate(text.splitlines()):
        cost = len(line) + (len(FENCE) + 1 if number else 0)
        if used + cost > cap:
            room = max(cap - used - (len(FENCE) + 1 if number else 0), 0)
            if room or not number:
                shown.append(line[:room])
                kept += room
            break
        shown.append(line)
        used += cost
        kept += len(line) + 1
    omitted = max(len(text) - kept, 1)
    return fence("\n".join(shown) + f"\n[... {omitted} more characters not shown]")


_FLOOR = 100
"""Fewest characters a clipped text keeps; below that, the earliest lines are dropped."""

_CUT_NOTE = 45
"""Room kept for the note a cut adds (``"\\n  | [... 123456 more characters not shown]"``)."""


def _fit(lines: list[str | _Field], budget: int | None) -> str:
    fields = [line for line in lines if isinstance(line, _Field)]
    fixed = sum(len(line) + 1 for line in lines if isinstance(line, str))
    fixed += sum(len(field.label) + 1 for field in fields)
    sizes = [field.size for field in fields]
    cap = None
    if budget is not None and fixed + sum(sizes) > budget:
        note = _budget_note(budget, len(fields))
        room = max(budget - fixed - len(note), 0)
        # Each cut adds a note: keep room for the notes of the texts a first pass cuts.
        first = fair_cap(sizes, room)
        cuts = sum(1 for size in sizes if first is not None and size > first)
        cap = fair_cap(sizes, max(room - _CUT_NOTE * cuts, 0))
        # None: the texts fit but the labels alone do not. Below the floor, texts would
        # say nothing: keep the floor and let the last step drop the earliest lines.
        cap = max(sizes, default=0) if cap is None else max(cap, _FLOOR)
    rendered = [
        line if isinstance(line, str) else line.label + _clip_fenced(line.text, cap, line.size)
        for line in lines
    ]
    text = "\n".join(rendered).strip()
    if budget is None or cap is None:
        return text
    note = _budget_note(budget, sum(1 for size in sizes if size > cap))
    room = budget - len(note) - 1
    if len(text) > room:  # too many tasks for even their labels: drop the oldest lines
        keep = max(room - 80, 0)  # 80: room for the line saying what was dropped
        cut = text[len(text) - keep :] if keep else ""
        cut = cut[cut.find("\n") + 1 :] if "\n" in cut else ""
        text = f"[... the earliest {len(text) - len(cut):,} characters are not shown]\n{cut}"
    return f"{note}\n{text}"


def _budget_note(budget: int, clipped: int) -> str:
    return (
        f"[Plans and results are clipped to this prompt's budget of {budget:,} characters: "
        f"the largest {clipped} text(s) were cut, each saying how much is missing.]"
    )
