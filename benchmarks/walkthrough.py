"""A text walkthrough of one LLMCompiler run: the plan, an ASCII timeline, the answer."""

from __future__ import annotations

from benchmarks.runner import RunResult
from llmcompiler_graph.viz._style import clip_text

__all__ = ["walkthrough"]

WIDTH = 48


def walkthrough(result: RunResult, width: int = WIDTH) -> str:
    """Render ``result`` (an LLMCompiler run with a timeline) for the terminal."""
    timeline = result.timeline or {}
    end = max(result.latency, 1e-9)
    scale = width / end

    def bar(start: float, stop: float, first: float | None = None) -> str:
        a, b = round(start * scale), max(round(stop * scale), round(start * scale) + 1)
        cells = [" "] * (width + 1)
        for i in range(a, min(b, width + 1)):
            cells[i] = "="
        if first is not None:
            for i in range(a, min(round(first * scale), b, width + 1)):
                cells[i] = "."
        return "".join(cells).rstrip()

    rows: list[tuple[str, str]] = []
    for n, (start, first, stop) in enumerate(timeline.get("planner", []), 1):
        rows.append((f"planner #{n}", bar(start, stop, first)))
    for task in timeline.get("tasks", []):
        rows.append((str(task["label"]), bar(task["start"], task["end"])))
    for n, (start, first, stop) in enumerate(timeline.get("joiner", []), 1):
        rows.append((f"joiner #{n}", bar(start, stop, first)))
    rows.sort(key=lambda row: len(row[1]) - len(row[1].lstrip()))
    label_width = min(max(len(label) for label, _ in rows), 34) if rows else 10
    lines = [
        f"Example: LLMCompiler on {result.workload} question {result.case_id} (simulated)",
        f"Q: {timeline.get('question', '').strip()}",
        "Plan, streamed by the planner (each task starts as soon as its line is complete):",
        *(f"  {line}" for plan in timeline.get("plans", []) for line in plan.splitlines()),
        f"Timeline, 0 to {result.latency:.2f} s ('.' waiting for the first token, '=' working):",
        *(f"  {clip_text(label, label_width):<{label_width}} |{cells}" for label, cells in rows),
        f"Answer: {result.answer}  ({result.latency:.2f} s; ideal {result.ideal:.2f} s)",
    ]
    return "\n".join(lines)
