"""The physical limit: the makespan a perfect scheduler reaches under the same timings.

For LLMCompiler, per planning round: the planner streams its plan (time to first token,
then one token every ``1 / rate`` seconds); each task starts the moment its call has
streamed (its closing ``)``, where the parser dispatches it) *and* its dependencies are
done, with unlimited parallelism and no overhead; the joiner starts when the plan has
finished streaming and every task is done. Rounds follow one another. For the agent
baselines: each turn is one model call followed by its tool calls run in parallel, and the
next turn starts when the slowest call ends.

Nothing here measures anything: given the scripted texts, the profile and the tool
latencies, it computes. ``ours / ideal`` is then our distance to the limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmcompiler_graph.sim import LatencyProfile, tokenize

__all__ = [
    "IdealRound",
    "IdealSchedule",
    "IdealTask",
    "agent_makespan",
    "call_close_tokens",
    "call_seconds",
    "line_ready_tokens",
    "llmcompiler_schedule",
    "token_offset",
]


@dataclass(frozen=True)
class IdealTask:
    """A task for the ideal schedule.

    Attributes:
        index: Task number.
        ready: Seconds after its round's planner call starts when the task's line has streamed.
        duration: Seconds the tool call takes.
        deps: Task numbers it waits for (earlier rounds' tasks count as done).
        tool: The tool it calls (for per-tool limits; see :mod:`benchmarks.limits`).

    """

    index: int
    ready: float
    duration: float
    deps: tuple[int, ...] = ()
    tool: str = ""


@dataclass(frozen=True)
class IdealRound:
    """One planning round: the planner's stream length, its tasks, the joiner's call length."""

    planner: float
    tasks: tuple[IdealTask, ...]
    joiner: float


@dataclass(frozen=True)
class IdealSchedule:
    """The perfect schedule: when each call and task starts and ends (seconds from 0)."""

    makespan: float
    tasks: Mapping[int, tuple[float, float]]
    planners: tuple[tuple[float, float], ...]
    joiners: tuple[tuple[float, float], ...]


def token_offset(profile: LatencyProfile, k: int) -> float:
    """Return when token ``k`` (0-based) of a reply arrives, in seconds from the call's start."""
    step = 1.0 / profile.output_tokens_per_s if profile.output_tokens_per_s > 0 else 0.0
    return profile.ttft_s + max(k, 0) * step


def call_seconds(profile: LatencyProfile, output_tokens: int, prefill: float = 0.0) -> float:
    """Return how long a call takes: ``prefill`` seconds, then ``output_tokens`` streamed."""
    return prefill + token_offset(profile, output_tokens - 1)


def _marks(text: str, at_paren: bool) -> dict[int, int]:
    ends: list[int] = []
    position = 0
    for token in tokenize(text):
        position += len(token)
        ends.append(position)
    marks: dict[int, int] = {}
    offset = 0
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        head = line.strip().split(".", 1)[0]
        if not head.isdigit() or "join()" in line:
            continue
        at = start + (line.rindex(")") if at_paren and ")" in line else len(line))
        marks[int(head)] = next((i for i, end in enumerate(ends) if end > at), len(ends) - 1)
    return marks


def line_ready_tokens(text: str) -> dict[int, int]:
    """Map each numbered plan line of ``text`` to the index of the token holding its newline.

    Whitespace travels at the front of the next token; a line with no newline after it
    completes with the last token. The parser once dispatched here; it now
    dispatches at the call's closing ``)`` (:func:`call_close_tokens`), one token earlier.
    """
    return _marks(text, at_paren=False)


def call_close_tokens(text: str) -> dict[int, int]:
    """Map each numbered plan line of ``text`` to the index of the token holding its last ``)``.

    This is when the parser dispatches a task: the rest of its line cannot change it.
    """
    return _marks(text, at_paren=True)


def llmcompiler_schedule(rounds: Sequence[IdealRound]) -> IdealSchedule:
    """Compute the perfect LLMCompiler schedule for the given rounds."""
    finished: dict[int, float] = {}
    tasks: dict[int, tuple[float, float]] = {}
    planners: list[tuple[float, float]] = []
    joiners: list[tuple[float, float]] = []
    now = 0.0
    for round_ in rounds:
        start = now
        planners.append((start, start + round_.planner))
        for task in round_.tasks:
            begin = max([start + task.ready, *(finished[d] for d in task.deps if d in finished)])
            finished[task.index] = begin + task.duration
            tasks[task.index] = (begin, finished[task.index])
        join_start = max([start + round_.planner, *(tasks[t.index][1] for t in round_.tasks)])
        now = join_start + round_.joiner
        joiners.append((join_start, now))
    return IdealSchedule(now, tasks, tuple(planners), tuple(joiners))


def agent_makespan(turns: Sequence[tuple[float, Sequence[float]]]) -> float:
    """Return the ideal time of an agent loop: each turn's model call, then its slowest tool."""
    return sum(model + max(tools, default=0.0) for model, tools in turns)
