"""The list-scheduling reference under limits: a policy replayed with zero overhead.

:func:`list_schedule` replays a given policy (FIFO, critical-path priority, fusion) on the
same timings and limits as a measured run, every call starting the instant the policy
allows: the schedule a perfect implementation of that policy reaches (measured/ideal under
limits). It is not a bound; the lower bound on any schedule is in :mod:`.bound`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from benchmarks.ideal import IdealRound, IdealTask
from benchmarks.limits.bound import Limits, tails

__all__ = ["LimitedSchedule", "Priority", "list_schedule"]

Priority = Literal["fifo", "critical_path"]


@dataclass(frozen=True)
class LimitedSchedule:
    """A replayed list schedule: makespan, each task's (start, end), calls made per tool."""

    makespan: float
    tasks: Mapping[int, tuple[float, float]]
    calls: Mapping[str, int]


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
