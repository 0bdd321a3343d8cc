"""What the benchmark derives from one LLMCompiler run: its ideal, per-task overhead, timeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.harness import BenchChatModel, ToolRecord, ToolTimings, prefill_for
from benchmarks.ideal import (
    IdealRound,
    IdealSchedule,
    IdealTask,
    call_close_tokens,
    call_seconds,
    token_offset,
)
from benchmarks.scripts import joiner_reply, plan_text, plan_tool_calls
from benchmarks.workloads import Case, Round
from llmcompiler_graph.sim import LatencyProfile, count_tokens, tool_call_stream
from llmcompiler_graph.viz._style import clip_text

__all__ = ["ideal_rounds", "model_spans", "overheads", "readiness", "timeline"]


def readiness(
    round_: Round, tool_calls: bool = False
) -> tuple[dict[int, int], dict[int, int], int]:
    """Tell when each step of a round can be dispatched, by the planner's stream alone.

    Returns the token slot (0-based) and the chunk number at which each step is known
    complete, and the plan's output tokens. A text plan's call is complete when its closing
    ``)`` arrives (one chunk per token; the parser dispatches it then); a tool call when the
    next call's first chunk arrives, the last one when the stream ends (its final chunk is
    due with its last token).
    """
    if not tool_calls:
        plan = plan_text(round_)
        ready = call_close_tokens(plan)
        return ready, dict(ready), count_tokens(plan)
    message = plan_tool_calls(round_)
    layout = tool_call_stream(message.text, message.tool_calls)
    slots, chunks = {}, {}
    for i, step in enumerate(round_.steps):
        last = i + 1 >= len(round_.steps)
        slots[step.index] = layout.slots - 1 if last else layout.header_slots[i + 1]
        chunks[step.index] = layout.chunks - 1 if last else layout.header_chunks[i + 1]
    return slots, chunks, layout.slots


def ideal_rounds(
    case: Case,
    profile: LatencyProfile,
    timings: ToolTimings,
    planner_inputs: Sequence[float] = (),
    joiner_inputs: Sequence[float] = (),
    *,
    tool_calls: bool = False,
) -> list[IdealRound]:
    """Describe ``case``'s rounds for the ideal schedule under ``profile`` and ``timings``.

    ``planner_inputs`` and ``joiner_inputs`` are each call's prompt tokens (for prefill time;
    a token served from a prompt cache counts the cache's share of one);
    missing ones count as 0. ``tool_calls``: the planner makes tool calls, not a text plan.
    """
    slope = prefill_for(profile)
    rounds = []
    for number, round_ in enumerate(case.rounds):
        ready, _, plan_tokens = readiness(round_, tool_calls)
        plan_prefill = slope * (planner_inputs[number] if number < len(planner_inputs) else 0)
        join_prefill = slope * (joiner_inputs[number] if number < len(joiner_inputs) else 0)
        tasks = tuple(
            IdealTask(
                s.index,
                plan_prefill + token_offset(profile, ready[s.index]),
                timings.duration(s, case.seed),
                s.deps,
                s.tool,
            )
            for s in round_.steps
        )
        planner = call_seconds(profile, plan_tokens, plan_prefill)
        joiner = call_seconds(profile, count_tokens(joiner_reply(case, number)), join_prefill)
        rounds.append(IdealRound(planner, tasks, joiner))
    return rounds


def overheads(
    case: Case, planner: BenchChatModel, records: list[ToolRecord], *, tool_calls: bool = False
) -> list[float]:
    """Per task: tool start minus the moment it could start (streamed, dependencies done)."""
    by_task = {r.task: r for r in records if r.task is not None}
    found = []
    for number, round_ in enumerate(case.rounds):
        times = planner.chunk_times[number]
        _, ready, _ = readiness(round_, tool_calls)
        for step in round_.steps:
            record = by_task.get(step.index)
            if record is None or ready[step.index] >= len(times):
                continue
            could = max(
                [times[ready[step.index]], *(by_task[d].end for d in step.deps if d in by_task)]
            )
            found.append((record.start - could) * 1000.0)
    return found


def model_spans(model: BenchChatModel, t0: float) -> list[list[float]]:
    """Return each call of ``model`` as ``[start, first token, end]``, in seconds from ``t0``."""
    events = sorted(model.events, key=lambda e: e.index)
    return [
        [s - t0, e.first_token - t0, e.end - t0]
        for s, e in zip(model.call_starts, events, strict=False)
    ]


def timeline(
    case: Case,
    t0: float,
    planner: BenchChatModel,
    joiner: BenchChatModel,
    records: list[ToolRecord],
    schedule: IdealSchedule,
) -> dict[str, Any]:
    """Return the run's timeline (seconds from ``t0``) and its ideal schedule, for a Gantt."""
    texts = {s.index: f"{s.index}. {s.tool}({next(iter(s.args.values()))!s})" for s in case.steps}
    labels = {
        s.index: f"{s.index}. {s.tool}({clip_text(str(next(iter(s.args.values()))), 40)})"
        for s in case.steps
    }
    tasks = [
        {
            "index": r.task,
            "label": labels.get(r.task or 0, r.tool),  # cut at a word boundary
            "text": texts.get(r.task or 0, r.tool),  # whole
            "start": r.start - t0,
            "end": r.end - t0,
        }
        for r in sorted(records, key=lambda r: r.task or 0)
    ]
    return {
        "case": case.id,
        "workload": case.workload,
        "question": case.question,
        "plans": [plan_text(r) for r in case.rounds],
        "planner": model_spans(planner, t0),
        "joiner": model_spans(joiner, t0),
        "tasks": tasks,
        "ideal": {
            "makespan": schedule.makespan,
            "tasks": {str(k): v for k, v in schedule.tasks.items()},
        },
    }
