"""Which ready job the scheduler starts next, and which ready jobs start with it in one call.

Pure functions over the scheduler's :class:`~.dependencies.DependencyTracker` and
:class:`~.limits.ToolLimits`, used by :class:`~.core.Scheduler` whenever a slot may be free:
:func:`ready_in_order` (plan order, or the longest chain of dependents first),
:func:`pick` (the first ready job whose tool has room under its limits and is not held
for a whole-plan batch) and :func:`batch_members` (the ready jobs of the same batch fused
into its call). They read the state and change nothing; starting is the core's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from llmcompiler_graph.fetching.dependencies import DependencyTracker
from llmcompiler_graph.fetching.jobs import BatchForm
from llmcompiler_graph.fetching.limits import ToolLimits

__all__ = ["batch_members", "pick", "ready_in_order"]


def ready_in_order(dag: DependencyTracker, fifo: bool) -> Iterable[int]:
    """Return the ready jobs, the one to start first first.

    Args:
        dag: The run's dependency state.
        fifo: Plan order (the order they became ready); else the longest chain of
            dependents first, ties in plan order.

    """
    if fifo:
        return dag.ready()
    return sorted(dag.ready(), key=lambda i: (-dag.chain(i), i))


def pick(
    dag: DependencyTracker, limits: ToolLimits, fifo: bool, free: int, now: float
) -> tuple[int, int] | None:
    """Return the next job to start and how many calls of its tool may start at ``now``.

    Args:
        dag: The run's dependency state.
        limits: The run's per-tool limits.
        fifo: See :func:`ready_in_order`.
        free: How many more calls the concurrency cap allows (the room returned is at most
            this).
        now: The clock's time, for rate limits.

    Returns:
        ``(index, room)``, or ``None`` when no ready job may start now.

    """
    blocked: set[str] = set()
    for index in ready_in_order(dag, fifo):
        name = dag.job(index).name
        if name in blocked or _held(dag, index):
            continue
        room = limits.room(name, now)
        if room > 0:
            return index, min(room, free)
        blocked.add(name)
    return None


def _held(dag: DependencyTracker, index: int) -> bool:
    """Tell whether ready job ``index`` waits for the plan to close (a whole-plan batch)."""
    batch = dag.job(index).batch
    return batch is not None and batch.whole_plan and not dag.closed


def batch_members(
    dag: DependencyTracker, index: int, batch: BatchForm, room: int, fifo: bool
) -> list[int]:
    """Return the jobs of the batched call that starts ``index``: it first, then those fused.

    With ``batch.whole_plan`` every ready job of its key joins (the plan has streamed);
    otherwise only as many as would wait for capacity (``room`` calls of the tool may
    start), so fusing never delays a call. ``batch.max_size`` caps the call.
    """
    same = [
        i
        for i in ready_in_order(dag, fifo)
        if i != index and (b := dag.job(i).batch) is not None and b.key == batch.key
    ]
    size = 1
    if batch.whole_plan:  # the plan has streamed: all ready ones in one call
        size = len(same) + 1
    elif len(same) + 1 > room:  # some would wait for capacity: fuse them
        size = math.ceil((len(same) + 1) / room)
    if batch.max_size is not None:
        size = min(size, batch.max_size)
    return [index, *same[: size - 1]]
