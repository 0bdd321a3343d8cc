"""The task fetching unit's vocabulary: jobs, their outcomes, lifecycle events and limits.

Pure Python, no LangChain types; see :mod:`llmcompiler_graph.fetching.core`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.hazards import Effects
from llmcompiler_graph.redact import redact_clipped

__all__ = [
    "MAX_CONCURRENCY",
    "MAX_ERROR_CHARS",
    "BatchForm",
    "Job",
    "Outcome",
    "Status",
    "TaskEvent",
    "check_limits",
    "clamp_concurrency",
    "failure_message",
    "timeout_message",
]

Status = Literal["ok", "error", "timeout", "skipped"]

MAX_CONCURRENCY = 64
"""The hard ceiling on calls running at once, whatever a setting asks for.

Each sync call may hold a thread; a context asking for a million once made thousands of
threads. Drivers clamp ``max_concurrency`` (and per-tool limits) to this value.
"""

MAX_ERROR_CHARS = 8_000
"""Longest text kept of a failed call's exception (its message says how much was cut)."""


@dataclass(frozen=True, slots=True)
class BatchForm:
    """How a job may be fused with other ready jobs of its tool into one batched call.

    Attributes:
        key: Jobs with the same key (the tool's name) may be fused.
        argument: Builds this job's input to the batched call from its deps' values.
        call: Runs one batched call on a list of inputs (a plain function or a coroutine
            function); returns one result per input, in order. An ``Exception`` instance
            in the list fails that job alone.
        max_size: Most jobs fused into one call; ``None`` for no limit.
        whole_plan: ``False``: fuse only the jobs that would otherwise wait for capacity
            (never delays a call). ``True``: hold the key's ready jobs until no more jobs
            can come (``close()``: the plan has streamed), then fuse every ready one into
            one call (``max_size`` per call): fewest calls, started later.

    """

    key: str
    argument: Callable[[Mapping[int, object]], object]
    call: Callable[[list[object]], object]
    max_size: int | None = None
    whole_plan: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of work: a numbered task with the tasks it waits for.

    Attributes:
        index: The task number from the plan; unique within a run.
        name: The tool name, used in messages and events.
        fn: Called on a worker thread with the results of ``deps`` (index to value).
            ``None`` for a task that failed before it could run (see ``error``).
        deps: Indices this job needs; all must be submitted (or pre-completed) first.
        error: A planning error: the job is not run and ends with this message.
        args: Free-form description of the arguments, passed through to events.
        batch: How to fuse this job with others of its tool (see :class:`BatchForm`).
        resolve: Given the results of ``deps``, return the arguments the call actually
            receives (``$N`` references replaced), for the ``started``/``finished`` events.
        effects: The shared resources the call reads and writes: it starts only after
            every earlier job it conflicts with has ended (see :mod:`.hazards`).

    """

    index: int
    name: str
    fn: Callable[[Mapping[int, object]], object] | None
    deps: frozenset[int] = frozenset()
    error: str | None = None
    args: object = None
    batch: BatchForm | None = None
    resolve: Callable[[Mapping[int, object]], object] | None = None
    effects: Effects | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one job ended. Times are ``time.perf_counter()`` seconds."""

    index: int
    name: str
    status: Status
    value: object = None
    error: str | None = None
    submitted_at: float = 0.0
    started_at: float | None = None
    finished_at: float = 0.0

    @property
    def ok(self) -> bool:
        """Tell whether the job produced a value."""
        return self.status == "ok"

    @property
    def duration(self) -> float:
        """Return seconds spent running (0 for a job that never started)."""
        return 0.0 if self.started_at is None else self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """A lifecycle event: ``planned``, ``started`` or ``finished`` (with its outcome).

    ``fused`` lists every task of the batched call this task ran in (empty if it ran alone).
    ``args`` are the job's arguments as planned; ``resolved`` (``started``/``finished`` of a
    job that started and has a ``resolve``) what the call received. ``after`` (``planned``)
    lists the earlier jobs it must follow because they share a resource (direct edges).
    """

    kind: Literal["planned", "started", "finished"]
    index: int
    name: str
    args: object = None
    outcome: Outcome | None = None
    time: float = field(default_factory=time.perf_counter)
    fused: tuple[int, ...] = ()
    resolved: object = None
    after: tuple[int, ...] = ()


def check_limits(max_concurrency: int, timeout: float | None) -> None:
    """Check a task fetching unit's limits.

    Raises:
        SchedulerError: For a ``max_concurrency`` below 1 or a non-positive ``timeout``.

    """
    if max_concurrency < 1:
        raise SchedulerError(f"max_concurrency must be at least 1, got {max_concurrency}")
    if timeout is not None and timeout <= 0:
        raise SchedulerError(f"timeout must be positive seconds or None, got {timeout}")


def clamp_concurrency(value: int) -> int:
    """Return ``value`` capped at :data:`MAX_CONCURRENCY`."""
    return min(int(value), MAX_CONCURRENCY)


def failure_message(job: Job, exc: BaseException) -> str:
    """Describe a job whose call raised ``exc``: redacted, at most :data:`MAX_ERROR_CHARS`.

    An exception's text may be a whole response body or a dump: it is cut here, once, so
    what every later step does with the error (events, the state, prompts) is bounded.
    """
    text = redact_clipped(str(exc) or type(exc).__name__, MAX_ERROR_CHARS)
    return f"task {job.index} '{job.name}' failed: {type(exc).__name__}: {text}"


def timeout_message(job: Job, seconds: float) -> str:
    """Describe a job that ran longer than ``seconds``."""
    return (
        f"task {job.index} '{job.name}' timed out after {seconds:g} s; "
        "raise task_timeout or make the tool faster"
    )
