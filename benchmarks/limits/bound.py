"""The ideal under limits: a lower bound on any schedule, and a list-scheduling reference.

With ``max_concurrency`` M and per-tool limits (``tool_limits={"search": 2}``), the unlimited
ideal of :mod:`benchmarks.ideal` is no longer reachable. For each planning round
(it starts at ``s``; its planner streams for ``P`` seconds; its joiner takes ``J``), with

* ``head_j``: the earliest start of task j with unlimited parallelism (its plan line has
  streamed and its dependencies are done: the unlimited ideal schedule),
* ``p_j``: its duration, and ``tail_j``: the longest chain of durations of the tasks of the
  round that depend on it (directly or not),

no scheduler can finish the round's tasks before

* the **critical path**: ``max_j (head_j + p_j + tail_j)``, nor
* the **capacity** of any group G of tasks that share a limit c (every task with M; the tasks
  of tool t with its limit): for every release time ``τ`` among the group's heads,
  ``τ + sum(p_j for j in G if head_j >= τ) / c + min(tail_j for those j)``: the tasks released
  at ``τ`` or later need that much work on c slots, and the last of them still has its tail
  to run.

For a small group (at most :data:`SPLIT_LIMIT` ways to split it), the same formula is also
applied per slot, for every way of splitting the group over its c slots, and the best split
bounds the group: with at most c calls at once, every schedule is one of these splits (this
catches what ``work / c`` averages away: eight 1 s searches on 2 slots cannot split into
two equal halves when their durations differ).

The round then ends at ``max(s + P, that bound) + J``; rounds follow one another. This is the
classic lower bound for list scheduling with release times and tails (``P|r_j,q_j|Cmax``);
it is valid for any order, preemption-free or not, so ``measured / bound >= 1`` always.

A fused tool (one whose waiting calls may run as one batched call) has no capacity term: a
batch may serve any number of calls. It keeps its critical-path term, since a batch takes
at least as long as its slowest member. The other reference, the zero-overhead replay of a
policy (:func:`~.replay.list_schedule`), is in :mod:`.replay`; it is not a bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from benchmarks.ideal import IdealRound, IdealTask, llmcompiler_schedule

__all__ = [
    "SPLIT_LIMIT",
    "LimitedBound",
    "Limits",
    "limited_bound",
    "round_bound",
    "tails",
]


@dataclass(frozen=True)
class Limits:
    """Concurrency limits: global (``None``: unlimited) and per tool."""

    max_concurrency: int | None = None
    tool_limits: Mapping[str, int] = field(default_factory=dict)

    def cap(self, tool: str) -> float:
        """Return how many calls of ``tool`` may run at once (``inf`` if unlimited)."""
        return float(self.tool_limits.get(tool, math.inf))

    @property
    def total(self) -> float:
        """Return how many calls may run at once in all (``inf`` if unlimited)."""
        return math.inf if self.max_concurrency is None else float(self.max_concurrency)


@dataclass(frozen=True)
class LimitedBound:
    """The lower bound of a whole run and, per round, which term bound it."""

    makespan: float
    binding: tuple[str, ...]
    """Per round: ``critical path``, ``plan stream``, ``all tools at once`` or ``<tool> limit``
    (``... (best split)`` when the split term bound it)."""


def tails(tasks: Sequence[IdealTask]) -> dict[int, float]:
    """Return, for each task, the longest chain of durations of the tasks that depend on it."""
    dependents: dict[int, list[IdealTask]] = {}
    for task in tasks:
        for d in task.deps:
            dependents.setdefault(d, []).append(task)
    tail: dict[int, float] = {}
    for task in reversed(tasks):  # plan order: dependents come after what they need
        tail[task.index] = max(
            (k.duration + tail[k.index] for k in dependents.get(task.index, ())), default=0.0
        )
    return tail


def round_bound(
    round_: IdealRound, limits: Limits, fused: Collection[str] = ()
) -> tuple[float, str]:
    """Return the lower bound on a round's length (from its planner's start) and its term."""
    heads = llmcompiler_schedule([IdealRound(round_.planner, round_.tasks, 0.0)]).tasks
    tail = tails(round_.tasks)
    best, why = round_.planner, "plan stream"
    for t in round_.tasks:
        end = heads[t.index][0] + t.duration + tail[t.index]
        if end > best:
            best, why = end, "critical path"
    groups: list[tuple[str, float, list[IdealTask]]] = [
        ("all tools at once", limits.total, [t for t in round_.tasks if t.tool not in fused])
    ]
    for tool, limit in limits.tool_limits.items():
        if tool not in fused:
            members = [t for t in round_.tasks if t.tool == tool]
            groups.append((f"{tool} limit", float(limit), members))
    for name, cap, group in groups:
        if math.isinf(cap) or not group:
            continue
        jobs = [(heads[t.index][0], t.duration, tail[t.index]) for t in group]
        end = _capacity(jobs, cap)
        if end > best + 1e-12:
            best, why = end, name
        if cap ** (len(jobs) - 1) <= SPLIT_LIMIT:
            end = min(_split_bounds(jobs, int(cap)))
            if end > best + 1e-12:
                best, why = end, f"{name} (best split)"
    return best + round_.joiner, why


SPLIT_LIMIT = 4096
"""Most ways to split a group over its slots that :func:`round_bound` tries one by one."""


def _capacity(jobs: Sequence[tuple[float, float, float]], cap: float) -> float:
    """Return max over release times of release + later work / cap + least later tail."""
    best = 0.0
    for tau in sorted({r for r, _, _ in jobs}):
        later = [(p, q) for r, p, q in jobs if r >= tau - 1e-12]
        best = max(best, tau + sum(p for p, _ in later) / cap + min(q for _, q in later))
    return best


def _split_bounds(jobs: Sequence[tuple[float, float, float]], cap: int) -> Iterator[float]:
    """Yield, for every split of ``jobs`` over ``cap`` slots, its busiest slot's bound.

    With at most ``cap`` calls at once, any schedule puts each call on one of ``cap`` slots
    (calls that overlap get different slots), so it is no shorter than the best split.
    The first job always goes to slot 0 (slots are interchangeable).
    """
    for rest in itertools.product(range(cap), repeat=len(jobs) - 1):
        slots: list[list[tuple[float, float, float]]] = [[] for _ in range(cap)]
        for job, slot in zip(jobs, (0, *rest), strict=True):
            slots[slot].append(job)
        yield max(_capacity(slot, 1.0) for slot in slots if slot)


def limited_bound(
    rounds: Sequence[IdealRound], limits: Limits, fused: Collection[str] = ()
) -> LimitedBound:
    """Return the lower bound on the makespan of the rounds under ``limits``."""
    total, binding = 0.0, []
    for round_ in rounds:
        length, why = round_bound(round_, limits, fused)
        total += length
        binding.append(why)
    return LimitedBound(total, tuple(binding))
