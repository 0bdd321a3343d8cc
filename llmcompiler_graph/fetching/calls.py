"""One call the core asks a driver to make, what a driver must do next, and how calls end.

A :class:`Start` is one job, or several jobs of one tool fused into one batched call
(see :class:`~.jobs.BatchForm`); a :class:`Step` lists the calls to start, the events to
deliver (in order) and when to wake the core for a rate limit. :func:`failures` and
:func:`batch_results` say how each job ends when its call failed, or when its batched call
returned.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from llmcompiler_graph.fetching.jobs import Job, Status, TaskEvent, failure_message

__all__ = ["Start", "Step", "batch_results", "failures", "split"]


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


def failures(start: Start, describe: Callable[[Job], str]) -> list[tuple[int, str]]:
    """Return each job's error message, ``describe(job)``, when ``start``'s call failed.

    The message of a job in a batched call names the tasks it shared the call with.
    """
    together = f" (in one batched call with tasks {[j.index for j in start.jobs]})"
    return [(job.index, describe(job) + (together if start.fused else "")) for job in start.jobs]


def batch_results(start: Start, value: object) -> list[tuple[int, Status, object, str | None]]:
    """Return each job's ``(index, status, value, error)`` from batched call's ``value``.

    A result that is an ``Exception`` fails its job alone; a ``value`` that is no list of
    one result per job fails them all.
    """
    results = split(start, value)
    if isinstance(results, str):
        count = f"{results} for {len(start.jobs)} tasks"
        return [
            (index, "error", None, message)
            for index, message in failures(
                start, lambda j: f"task {j.index} '{j.name}' failed: the batch returned {count}"
            )
        ]
    return [
        (job.index, "error", None, failure_message(job, item))
        if isinstance(item, Exception)
        else (job.index, "ok", item, None)
        for job, item in zip(start.jobs, results, strict=True)
    ]
