"""What a run measured, read from its models' and tools' logs (see :mod:`.runner`).

:func:`model_calls` (the models' calls and tokens), :func:`tool_figures` (the tool-side
fields of a :class:`~.runner.LimitRun`: calls per tool, tool tokens, peaks at once),
:func:`served_calls` (which logged call served each task) and :func:`timeline` (the run in
the main benchmark's Gantt format, with the zero-overhead replay beside it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.harness import BenchChatModel
from benchmarks.limits.tools import CallLog, ToolBench
from benchmarks.measures import model_spans
from benchmarks.scripts import plan_text
from benchmarks.workloads import Case

__all__ = ["model_calls", "served_calls", "timeline", "tool_figures"]


def model_calls(*models: BenchChatModel) -> tuple[int, int, int]:
    """Return the models' calls, input tokens and output tokens, all together."""
    events = [e for m in models for e in m.events]
    return len(events), sum(e.input_tokens for e in events), sum(e.output_tokens for e in events)


def tool_figures(case: Case, bench: ToolBench) -> dict[str, Any]:
    """Return a run's tool-side fields of :class:`~.runner.LimitRun`, from its tools' call log."""
    counts: dict[str, int] = {}
    for call in bench.calls:
        counts[call.tool] = counts.get(call.tool, 0) + 1
    return {
        "tool_calls": counts,
        "tasks": len(case.steps),
        "tool_tokens": sum(c.tokens for c in bench.calls),
        "peak": dict(bench.peak),
        "peak_total": bench.peak_total,
    }


def served_calls(case: Case, calls: Sequence[CallLog]) -> dict[int, CallLog]:
    """Map each task to the call that served it (matched by query or problem)."""
    by_key: dict[tuple[str, str], int] = {
        (s.tool, str(s.args.get("query", s.args.get("problem", "")))): s.index for s in case.steps
    }
    served: dict[int, CallLog] = {}
    for call in calls:
        for key in call.keys:
            if (index := by_key.get((call.tool, key))) is not None:
                served.setdefault(index, call)
    return served


def timeline(
    case: Case,
    t0: float,
    planner: BenchChatModel,
    joiner: BenchChatModel,
    served: dict[int, CallLog],
    replay: Mapping[int, tuple[float, float]],
    replay_makespan: float,
) -> dict[str, Any]:
    """Return the run's timeline in the main benchmark's Gantt format (seconds from ``t0``)."""
    tasks = []
    for step in case.steps:
        call = served.get(step.index)
        if call is None:
            continue
        batch = f" [batch of {len(call.keys)}]" if len(call.keys) > 1 else ""
        tasks.append(
            {
                "index": step.index,
                "label": f"{step.index}. {step.tool}({next(iter(step.args.values()))!s:.24})"
                + batch,
                "start": call.start - t0,
                "end": call.end - t0,
                "batch": len(call.keys),
            }
        )
    return {
        "case": case.id,
        "workload": case.workload,
        "question": case.question,
        "plans": [plan_text(r) for r in case.rounds],
        "planner": model_spans(planner, t0),
        "joiner": model_spans(joiner, t0),
        "tasks": tasks,
        "ideal": {"makespan": replay_makespan, "tasks": {str(k): v for k, v in replay.items()}},
    }
