"""The ideal under limits: a lower bound on any schedule, and a list-scheduling reference.

With ``max_concurrency`` M and per-tool limits (``tool_limits={"search": 2}``), the unlimited
ideal of :mod:`llmcompiler_graph.bench.ideal` is no longer reachable. For each planning round
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
at least as long as its slowest member. :func:`list_schedule` is not a bound: it replays a
given policy (FIFO, critical-path priority, fusion) with zero overhead, the schedule a
perfect implementation of that policy reaches.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from llmcompiler_graph.bench.ideal import IdealRound, IdealTask, llmcompiler_schedule

__all__ = [
    "SPLIT_LIMIT",
    "LimitedBound",
    "LimitedSchedule",
    "Limits",
    "Priority",
    "limited_bound",
    "list_schedule",
    "round_bound",
    "tails",
]

Priority = Literal["fifo", "critical_path"]


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


@dataclass(frozen=True)
class LimitedSchedule:
    """A replayed list schedule: makespan, each task's (start, end), calls made per tool."""

    makespan: float
    tasks: Mapping[int, tuple[float, float]]
    calls: Mapping[str, int]


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


def list_schedule(
    rounds: Sequence[IdealRound],
    limits: Limits,
    *,
    priority: Priority = "fifo",
    fused: Collection[str] = (),
    batch_extra_s: float = 0.0,
    whole_plan: bool = False,
) -> LimitedSchedule:
    """Replay a list-scheduling policy with zero overhead.

    Ready tasks (line streamed, dependencies done) start whenever their tool and the global
    limit allow, in ``priority`` order: ``fifo`` (the order they became ready, ties in plan
    order) or ``critical_path`` (longest tail among the tasks planned so far first, ties in
    plan order). A task blocked by its tool's limit never blocks other tools' tasks. For a
    ``fused`` tool, when more of its calls are ready than it has room for, they share the
    room evenly: ``ceil(ready / room)`` calls per batched call (the task fetching unit's
    rule), each lasting its slowest member plus ``batch_extra_s`` per extra member. With
    ``whole_plan``, a fused tool's calls wait for the round's plan to end, then every ready
    one goes into one batched call (``fuse="plan"``).
    """
    now = 0.0
    spans: dict[int, tuple[float, float]] = {}
    calls: dict[str, int] = {}
    for round_ in rounds:
        start = now
        policy = _Policy(priority, frozenset(fused), batch_extra_s, whole_plan)
        end = _one_round(round_, start, limits, policy, spans, calls)
        now = max(start + round_.planner, end) + round_.joiner
    return LimitedSchedule(now, spans, calls)


@dataclass(frozen=True)
class _Policy:
    priority: Priority
    fused: frozenset[str]
    batch_extra_s: float
    whole_plan: bool


def _one_round(
    round_: IdealRound,
    start: float,
    limits: Limits,
    policy: _Policy,
    spans: dict[int, tuple[float, float]],
    calls: dict[str, int],
) -> float:
    priority, fused, batch_extra_s = policy.priority, policy.fused, policy.batch_extra_s
    plan_end = start + round_.planner
    tasks = {t.index: t for t in round_.tasks}
    own = set(tasks)
    order = {t.index: n for n, t in enumerate(round_.tasks)}
    waiting = dict(tasks)
    became_ready: dict[int, float] = {}
    running: list[tuple[float, tuple[int, ...], str]] = []
    finished: dict[int, float] = {}
    now, last = start, start

    def deps_done(task: IdealTask, at: float) -> bool:
        return all(d not in own or finished.get(d, math.inf) <= at + 1e-12 for d in task.deps)

    while waiting or running:
        for entry in [r for r in running if r[0] <= now + 1e-12]:
            running.remove(entry)
            for i in entry[1]:
                finished[i] = entry[0]
        held = policy.whole_plan and now < plan_end - 1e-12
        ready = [
            t
            for t in waiting.values()
            if start + t.ready <= now + 1e-12
            and deps_done(t, now)
            and not (held and t.tool in fused)
        ]
        for t in ready:
            became_ready.setdefault(t.index, now)
        key = _priority_key(priority, round_.tasks, start, now, became_ready, order)
        ready.sort(key=lambda t: key(t.index))
        for t in ready:
            if t.index not in waiting:
                continue  # already taken into a batch
            busy = sum(len(e[1]) if e[2] not in fused else 1 for e in running)
            tool_busy = sum(1 for e in running if e[2] == t.tool)
            if busy >= limits.total or tool_busy >= limits.cap(t.tool):
                continue
            members = [t]
            if t.tool in fused:
                same = [u for u in ready if u.tool == t.tool and u.index in waiting]
                room = min(limits.cap(t.tool) - tool_busy, limits.total - busy)
                if policy.whole_plan:  # the plan has streamed: all ready ones in one call
                    members = same
                elif len(same) > room:  # some would wait for capacity: share the room evenly
                    members = same[: math.ceil(len(same) / room)]
            length = max(u.duration for u in members) + batch_extra_s * (len(members) - 1)
            running.append((now + length, tuple(u.index for u in members), t.tool))
            calls[t.tool] = calls.get(t.tool, 0) + 1
            for u in members:
                del waiting[u.index]
                spans[u.index] = (now, now + length)
                last = max(last, now + length)
        upcoming = [e[0] for e in running]
        if held and any(t.tool in fused for t in waiting.values()):
            upcoming.append(plan_end)
        upcoming += [
            start + t.ready
            for t in waiting.values()
            if start + t.ready > now + 1e-12 and deps_done(t, now)
        ]
        if not upcoming:
            if waiting:  # cannot happen with valid deps; guard against an endless loop
                raise ValueError(f"tasks {sorted(waiting)} can never start (missing deps?)")
            break
        now = min(upcoming)
    return last


def _priority_key(
    priority: Priority,
    tasks: Sequence[IdealTask],
    start: float,
    now: float,
    became_ready: Mapping[int, float],
    order: Mapping[int, int],
) -> Callable[[int], tuple[float, int]]:
    if priority == "fifo":
        return lambda i: (became_ready[i], order[i])
    known = [t for t in tasks if start + t.ready <= now + 1e-12]
    tail = tails(known)
    return lambda i: (-tail.get(i, 0.0), order[i])
