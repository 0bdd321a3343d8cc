"""One call the core asks a driver to make, and what a driver must do after a core call.

A :class:`Start` is one job, or several jobs of one tool fused into one batched call
(see :class:`~.jobs.BatchForm`); a :class:`Step` lists the calls to start, the events to
deliver (in order) and when to wake the core for a rate limit.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field

from llmcompiler_graph.fetching.jobs import Job, TaskEvent

__all__ = ["Start", "Step", "split"]


@dataclass(frozen=True, slots=True)
class Start:
    """One call to make: a job, or several jobs of one tool fused into a batched call."""

    jobs: tuple[Job, ...]
    deps: tuple[Mapping[int, object], ...]
    started_at: float

    @property
    def job(self) -> Job:
        """Return the (first) job of this call; its index identifies the call."""
        return self.jobs[0]

    @property
    def fused(self) -> bool:
        """Tell whether this is a batched call of several jobs."""
        return len(self.jobs) > 1

    @property
    def is_async(self) -> bool:
        """Tell whether :meth:`call` returns a coroutine."""
        batch = self.job.batch
        fn = batch.call if self.fused and batch is not None else self.job.fn
        return inspect.iscoroutinefunction(fn)

    def call(self) -> object:
        """Make the call (a coroutine for an async job): the job's ``fn``, or its batch."""
        batch = self.job.batch
        if not self.fused or batch is None:
            assert self.job.fn is not None
            return self.job.fn(self.deps[0])
        inputs = [j.batch.argument(d) for j, d in zip(self.jobs, self.deps, strict=True) if j.batch]
        return batch.call(inputs)


@dataclass(frozen=True, slots=True)
class Step:
    """What a driver must do after a call into the core."""

    starts: list[Start] = field(default_factory=list)
    events: list[TaskEvent] = field(default_factory=list)
    wake_at: float | None = None
    """When to call :meth:`Scheduler.tick` (a rate-limited tool gets a token), if ever."""


def split(start: Start, value: object) -> list[object] | str:
    """Return a batched call's results, one per job, or what was wrong with ``value``."""
    if not isinstance(value, list | tuple):
        return f"a {type(value).__name__}, not a list"
    if len(value) != len(start.jobs):
        return f"{len(value)} results"
    return list(value)
