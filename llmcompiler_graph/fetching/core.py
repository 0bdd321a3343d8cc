"""The task fetching unit's scheduler, sans-IO: what to start and what to emit, never how.

:class:`Scheduler` owns everything both drivers share: dependencies (a
:class:`~.dependencies.DependencyTracker`, with the ordering edges between calls that share
a resource, :mod:`.hazards`), the concurrency cap, per-tool limits, which
ready job goes first (plan order or critical path) and fusion into batched calls, the
running count and its peak, timeouts, cancellation, and every lifecycle event (a call's
outcomes per job). It holds no lock,
starts no thread and calls no job: like :mod:`graphlib`'s ``get_ready``/``done`` or h11,
each method returns a :class:`Step` (calls to start, events to deliver in order, and when
to call :meth:`Scheduler.tick` for a rate limit) and the driver does the I/O:
:mod:`.threads` on worker threads, :mod:`.aio` on an event loop.

::

    core = Scheduler(max_concurrency=4)
    step = core.submit(Job(1, "search", fn=...))  # step.starts: [call of job 1]
    step = core.finish(step.starts[0], value="v")  # step.events: [finished 1]
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.dependencies import DependencyTracker
from llmcompiler_graph.fetching.jobs import (
    BatchForm,
    Job,
    Outcome,
    Status,
    TaskEvent,
    check_limits,
    clamp_concurrency,
    failure_message,
    timeout_message,
)
from llmcompiler_graph.fetching.limits import RateLimit, ToolLimits

__all__ = [
    "Priority",
    "Scheduler",
    "Start",
    "Step",
    "batch_members",
    "batch_results",
    "failures",
    "pick",
    "ready_in_order",
    "split",
]


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


Priority = Literal["fifo", "critical_path"]
"""Which ready job starts first when more are ready than may run.

``"fifo"``: the one that became ready first (the paper's order). ``"critical_path"``: the
one with the longest chain of dependents known so far; ties in plan order.
"""


class Scheduler:
    """One run's scheduling state; not thread-safe (a driver serializes calls)."""

    def __init__(
        self,
        *,
        max_concurrency: int,
        completed: Mapping[int, Outcome] | None = None,
        tool_limits: Mapping[str, int] | None = None,
        rate_limits: Mapping[str, RateLimit | float] | None = None,
        priority: Priority = "fifo",
        propagate: tuple[type[BaseException], ...] = (),
        hold: tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """Create the core of one run; see the drivers for what each argument means.

        Raises:
            SchedulerError: For a ``max_concurrency`` or tool limit below 1, a bad rate, or an
                unknown ``priority``.

        """
        check_limits(max_concurrency, None)
        if priority not in ("fifo", "critical_path"):
            raise SchedulerError(f"priority must be 'fifo' or 'critical_path', got {priority!r}")
        self._cap = clamp_concurrency(max_concurrency)
        self._clock = clock
        self._dag = DependencyTracker(
            completed, clock=clock, track_chains=priority == "critical_path"
        )
        self._limits = ToolLimits(tool_limits, rate_limits, now=clock())
        self._fifo = priority == "fifo"
        self._propagate = propagate
        self._hold = hold
        self._running: dict[int, Start] = {}  # by the index of the call's first job
        self._abandoned: set[int] = set()  # calls ended (timeout, cancel) that still run
        self._events: list[TaskEvent] = []
        self._resolved: dict[int, object] = {}  # started job -> the arguments it received
        self._raised: BaseException | None = None
        self._cancelled = False
        self.peak = 0

    # -- inputs -----------------------------------------------------------------------------

    def submit(self, job: Job) -> Step:
        """Add a job; it starts when its deps are done and a slot is free.

        After :meth:`cancel` the job is ignored (a plan may still be streaming).

        Raises:
            SchedulerError: After close, for an index already used, or for an unknown
                dependency.

        """
        if self._cancelled:
            return Step()
        ended = self._dag.add(job)
        after = self._dag.after(job.index)
        self._events.append(TaskEvent("planned", job.index, job.name, job.args, after=after))
        self._report([ended] if ended is not None else [])
        return self._step()

    def close(self) -> Step:
        """Declare that no more jobs will be submitted (held ``whole_plan`` jobs start now)."""
        self._dag.close()
        return self._step()

    def finish(
        self, start: Start, value: object = None, error: BaseException | None = None
    ) -> Step:
        """Record that a call returned ``value`` or raised ``error``.

        A call that had already ended (timed out, cancelled) is only counted as returned and
        its result is discarded. An error of a ``propagate`` type gives its jobs no outcome:
        nothing new starts and the driver's ``wait`` re-raises it once the others ended.

        Raises:
            SchedulerError: For a call this scheduler did not start.

        """
        key = start.job.index
        if key in self._abandoned:
            self._abandoned.discard(key)
            return Step()
        if self._running.get(key) is not start:
            raise SchedulerError(f"task {key}: finish() of a call that is not running")
        self._end_call(key)
        if error is not None and isinstance(error, self._propagate):
            self._raised = self._raised or error
        elif error is not None:
            hold = isinstance(error, self._hold)
            for index, message in failures(start, lambda job: failure_message(job, error)):
                self._report(self._dag.finish(index, "error", error=message, hold=hold))
        elif not start.fused:
            self._report(self._dag.finish(key, "ok", value=value))
        else:
            for index, status, result, problem in batch_results(start, value):
                self._report(self._dag.finish(index, status, value=result, error=problem))
        return self._step()

    def expire(self, index: int, seconds: float, *, abandon: bool) -> Step:
        """End the running call ``index`` as timed out after ``seconds``.

        Args:
            index: The call's first job.
            seconds: The timeout, for the message.
            abandon: Whether the call goes on running (a thread); the driver then calls
                :meth:`finish` when it returns.

        """
        start = self._running.get(index)
        if start is None:
            return Step()
        self._end_call(index)
        if abandon:
            self._abandoned.add(index)
        for job in start.jobs:
            self._report(
                self._dag.finish(job.index, "timeout", error=timeout_message(job, seconds))
            )
        return self._step()

    def cancel(self, reason: str = "the run was cancelled") -> Step:
        """End the run now: nothing new starts, and every job without an outcome gets one.

        Running calls are abandoned (the driver still calls :meth:`finish` when each returns).
        """
        self._cancelled = True
        for index in list(self._running):
            self._end_call(index)
            self._abandoned.add(index)
        self._report(self._dag.cancel(reason))
        return self._step()

    def tick(self) -> Step:
        """Start what a rate limit held back until now."""
        return self._step()

    # -- state ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Tell whether :meth:`close` (or :meth:`cancel`) was called."""
        return self._dag.closed

    @property
    def done(self) -> bool:
        """Tell whether the driver's ``wait`` may return (or re-raise :attr:`raised`)."""
        if self._raised is not None:
            return not self._running
        return self._dag.all_done

    @property
    def raised(self) -> BaseException | None:
        """Return the first error of a ``propagate`` type a call raised, if any."""
        return self._raised

    @property
    def running(self) -> int:
        """Return how many calls are running (abandoned ones not counted)."""
        return len(self._running)

    @property
    def abandoned(self) -> int:
        """Return how many ended calls (timed out, cancelled) have not returned yet."""
        return len(self._abandoned)

    def is_running(self, index: int) -> bool:
        """Tell whether ``index`` is the first job of a running call."""
        return index in self._running

    def held(self) -> set[int]:
        """Return the jobs whose call raised a ``hold`` error, and those skipped because of them."""
        return self._dag.held()

    def unfinished(self) -> list[int]:
        """Return the submitted jobs without an outcome, in plan order."""
        return self._dag.unfinished()

    def results(self) -> dict[int, Outcome]:
        """Return this run's outcomes by index (earlier runs' outcomes excluded)."""
        return self._dag.results()

    # -- internals --------------------------------------------------------------------------

    def _end_call(self, index: int) -> None:
        start = self._running.pop(index)
        self._limits.release(start.job.name)

    def _report(self, outcomes: Iterable[Outcome]) -> None:
        for o in outcomes:
            job = self._dag.job(o.index)
            resolved = self._resolved.get(o.index)
            self._events.append(
                TaskEvent("finished", o.index, o.name, job.args, o, o.finished_at, (), resolved)
            )

    def _step(self) -> Step:
        starts = self._dispatch()
        events, self._events = self._events, []
        return Step(starts, events, self._wake_at() if self._limits.any else None)

    def _dispatch(self) -> list[Start]:
        starts: list[Start] = []
        if self._raised is not None or self._cancelled:
            return starts
        while len(self._running) < self._cap:
            now = self._clock()
            chosen = pick(self._dag, self._limits, self._fifo, self._cap - len(self._running), now)
            if chosen is None:
                return starts
            starts.append(self._start(*chosen, now))
        return starts

    def _start(self, index: int, room: int, now: float) -> Start:
        job = self._dag.job(index)
        batch = job.batch
        members = (
            [index] if batch is None else batch_members(self._dag, index, batch, room, self._fifo)
        )
        launches = [self._dag.start(i, now) for i in members]
        start = Start(tuple(x.job for x in launches), tuple(x.deps for x in launches), now)
        self._running[index] = start
        self._limits.acquire(job.name, now)
        self.peak = max(self.peak, len(self._running))
        fused = tuple(members) if len(members) > 1 else ()
        for x in launches:
            j, resolved = x.job, self._resolve(x.job, x.deps)
            self._events.append(
                TaskEvent("started", j.index, j.name, j.args, None, now, fused, resolved)
            )
        return start

    def _resolve(self, job: Job, deps: Mapping[int, object]) -> object:
        """Return (and remember for its ``finished`` event) what ``job``'s call receives."""
        if job.resolve is None:
            return None
        try:
            resolved = self._resolved[job.index] = job.resolve(deps)
        except Exception:  # the call itself fails the same way and says why
            return None
        return resolved

    def _wake_at(self) -> float | None:
        if self._raised is not None or self._cancelled or len(self._running) >= self._cap:
            return None
        times = [self._limits.wake_at(self._dag.job(i).name) for i in self._dag.ready()]
        return min((t for t in times if t is not None), default=None)
