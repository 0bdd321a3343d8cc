"""Task fetching unit: an event-driven DAG scheduler over a worker pool.

Pure Python, no LangChain types. The planner hands jobs over one at a time with
:meth:`TaskFetchingUnit.submit` while it is still streaming; a job is started
the instant its last dependency finishes (completion callbacks, no polling), at
most ``max_concurrency`` at once. A job that raises, times out or depends on a
failed job ends as an error :class:`Outcome`; nothing is raised to the caller.

Protocol, in the spirit of :mod:`graphlib`::

    with TaskFetchingUnit(max_concurrency=4) as tfu:
        tfu.submit(Job(1, "search", fn=...))
        tfu.submit(Job(2, "math", fn=..., deps=frozenset({1})))
        tfu.close()                 # no more jobs
        outcomes = tfu.wait()       # {index: Outcome}
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from llmcompiler_graph.workers import WorkerPool

__all__ = [
    "Job",
    "Outcome",
    "SchedulerError",
    "Status",
    "TaskEvent",
    "TaskFetchingUnit",
]

Status = Literal["ok", "error", "timeout", "skipped"]


class SchedulerError(RuntimeError):
    """Raise when the scheduler is used against its protocol (a caller bug, not a task failure)."""


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
    """

    index: int
    name: str
    fn: Callable[[Mapping[int, object]], object] | None
    deps: frozenset[int] = frozenset()
    error: str | None = None
    args: object = None


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
    """A lifecycle event: ``planned``, ``started`` or ``finished`` (with its outcome)."""

    kind: Literal["planned", "started", "finished"]
    index: int
    name: str
    args: object = None
    outcome: Outcome | None = None
    time: float = field(default_factory=time.perf_counter)


class TaskFetchingUnit:
    """Run submitted jobs as soon as their dependencies are done, within a concurrency cap."""

    def __init__(
        self,
        *,
        max_concurrency: int,
        timeout: float | None = None,
        on_event: Callable[[TaskEvent], None] | None = None,
        completed: Mapping[int, Outcome] | None = None,
        thread_name: str = "llmcompiler-task",
    ) -> None:
        """Create a unit for one run.

        Args:
            max_concurrency: Most jobs running at once (a hard cap, at least 1).
            timeout: Seconds a job may run before it ends as ``timeout``; ``None`` for no limit.
                Python cannot stop a thread, so a timed-out call is abandoned: its slot is freed
                and its eventual result discarded.
            on_event: Called (outside the lock, from any thread) for every lifecycle event.
            completed: Outcomes of earlier runs that new jobs may depend on.
            thread_name: Prefix for worker thread names.
        """
        if max_concurrency < 1:
            raise SchedulerError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if timeout is not None and timeout <= 0:
            raise SchedulerError(f"timeout must be positive seconds or None, got {timeout}")
        self._cap = max_concurrency
        self._timeout = timeout
        self._on_event = on_event
        self._pool = WorkerPool(thread_name)
        self._cond = threading.Condition()
        self._jobs: dict[int, Job] = {}
        self._submitted_at: dict[int, float] = {}
        self._started_at: dict[int, float] = {}
        self._outcomes: dict[int, Outcome] = dict(completed or {})
        self._prior = frozenset(self._outcomes)
        self._waiting_on: dict[int, set[int]] = {}  # job -> unfinished deps
        self._dependents: dict[int, list[int]] = {}  # dep -> jobs waiting for it
        self._ready: deque[int] = deque()
        self._running = 0
        self._abandoned = 0
        self._closed = False
        self._deadlines: list[tuple[float, int]] = []
        self._watchdog: threading.Thread | None = None
        self.peak_running = 0

    # -- protocol -------------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Add a job; it starts as soon as its dependencies are done and a slot is free."""
        events: list[TaskEvent] = []
        with self._cond:
            if self._closed:
                raise SchedulerError(f"task {job.index} '{job.name}': submitted after close()")
            if job.index in self._jobs or job.index in self._outcomes:
                raise SchedulerError(f"task {job.index} '{job.name}': index already used")
            unknown = sorted(d for d in job.deps if d not in self._jobs and d not in self._outcomes)
            if unknown:
                raise SchedulerError(
                    f"task {job.index} '{job.name}': depends on unknown task(s) {unknown}; "
                    "submit dependencies first"
                )
            self._jobs[job.index] = job
            self._submitted_at[job.index] = time.perf_counter()
            events.append(TaskEvent("planned", job.index, job.name, job.args))
            if job.fn is None or job.error is not None:
                events += self._finish(job.index, "error", error=job.error or "not runnable")
            else:
                failed = [d for d in sorted(job.deps) if d in self._outcomes and not self._outcomes[d].ok]
                pending = {d for d in job.deps if d not in self._outcomes}
                if failed:
                    events += self._skip(job.index, failed[0])
                elif pending:
                    self._waiting_on[job.index] = pending
                    for d in pending:
                        self._dependents.setdefault(d, []).append(job.index)
                else:
                    self._ready.append(job.index)
                    events += self._dispatch()
        self._emit(events)

    def close(self) -> None:
        """Declare that no more jobs will be submitted."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> dict[int, Outcome]:
        """Block until every submitted job has an outcome (after :meth:`close`).

        Returns:
            The outcomes of this run's jobs, by index (earlier runs' outcomes excluded).

        Raises:
            SchedulerError: If ``close()`` was never called, or ``timeout`` passed first.
        """
        with self._cond:
            if not self._closed:
                raise SchedulerError("wait() before close(): the unit cannot know the plan ended")
            if not self._cond.wait_for(self._all_done, timeout):
                missing = sorted(i for i in self._jobs if i not in self._outcomes)
                raise SchedulerError(f"tasks {missing} still unfinished after {timeout} s")
            return {i: o for i, o in self._outcomes.items() if i not in self._prior}

    def shutdown(self) -> None:
        """Release worker threads (abandoned timed-out calls are left to finish on their own)."""
        with self._cond:
            self._closed = True
            self._deadlines.clear()
            self._cond.notify_all()
        self._pool.shutdown()

    def __enter__(self) -> TaskFetchingUnit:
        """Return the unit itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Shut the worker pool down."""
        self.shutdown()

    @property
    def abandoned_threads(self) -> int:
        """Return how many timed-out calls are still running on their threads."""
        with self._cond:
            return self._abandoned

    # -- internals (called with the lock held unless noted) ------------------------------

    def _all_done(self) -> bool:
        return self._closed and len(self._outcomes) - len(self._prior) == len(self._jobs)

    def _dispatch(self) -> list[TaskEvent]:
        events: list[TaskEvent] = []
        while self._ready and self._running < self._cap:
            index = self._ready.popleft()
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
            now = time.perf_counter()
            self._started_at[index] = now
            job = self._jobs[index]
            deps = {d: self._outcomes[d].value for d in job.deps}
            if self._timeout is not None:
                self._arm_timeout(now + self._timeout, index)
            events.append(TaskEvent("started", index, job.name, job.args, time=now))
            self._pool.submit(self._runner(job, deps))
        return events

    def _runner(self, job: Job, deps: Mapping[int, object]) -> Callable[[], bool]:
        assert job.fn is not None
        fn = job.fn

        def run() -> bool:
            # Runs on a worker thread, without the lock. Returns whether the result was used.
            try:
                value, status, error = fn(deps), "ok", None
            except Exception as exc:
                value, status, error = None, "error", _describe(job, exc)
            with self._cond:
                if job.index in self._outcomes:  # timed out meanwhile: discard
                    self._abandoned -= 1
                    return False
                self._running -= 1
                events = self._finish(job.index, status, value=value, error=error)
                events += self._dispatch()
            self._emit(events)
            return True

        return run

    def _finish(
        self, index: int, status: Status, *, value: object = None, error: str | None = None
    ) -> list[TaskEvent]:
        job = self._jobs[index]
        outcome = Outcome(
            index,
            job.name,
            status,
            value,
            error,
            submitted_at=self._submitted_at[index],
            started_at=self._started_at.get(index),
            finished_at=time.perf_counter(),
        )
        self._outcomes[index] = outcome
        events = [TaskEvent("finished", index, job.name, job.args, outcome, outcome.finished_at)]
        for dependent in self._dependents.pop(index, ()):
            pending = self._waiting_on.get(dependent)
            if pending is None:  # already skipped because another dependency failed
                continue
            if not outcome.ok:
                del self._waiting_on[dependent]
                events += self._skip(dependent, index)
                continue
            pending.discard(index)
            if not pending:
                del self._waiting_on[dependent]
                self._ready.append(dependent)
        if self._all_done():
            self._cond.notify_all()
        return events

    def _skip(self, index: int, failed_dep: int) -> list[TaskEvent]:
        dep = self._outcomes[failed_dep]
        job = self._jobs[index]
        message = (
            f"task {index} '{job.name}' did not run: it depends on task {failed_dep} "
            f"'{dep.name}', which ended with {dep.status}"
        )
        return self._finish(index, "skipped", error=message)

    def _arm_timeout(self, deadline: float, index: int) -> None:
        heapq.heappush(self._deadlines, (deadline, index))
        if self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._watch, name=f"{self._pool.name}-watchdog", daemon=True
            )
            self._watchdog.start()
        self._cond.notify_all()

    def _watch(self) -> None:
        # Sleeps on the condition until the nearest deadline; woken early by new deadlines.
        with self._cond:
            while not (self._all_done() and not self._deadlines):
                if self._closed and not self._jobs.keys() - self._outcomes.keys():
                    return
                if not self._deadlines:
                    self._cond.wait()
                    continue
                deadline, index = self._deadlines[0]
                remaining = deadline - time.perf_counter()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                heapq.heappop(self._deadlines)
                if index in self._outcomes:
                    continue
                self._running -= 1
                self._abandoned += 1
                job = self._jobs[index]
                events = self._finish(
                    index,
                    "timeout",
                    error=(
                        f"task {index} '{job.name}' timed out after {self._timeout:g} s; "
                        "raise task_timeout or make the tool faster"
                    ),
                )
                events += self._dispatch()
                self._cond.release()
                try:
                    self._emit(events)
                finally:
                    self._cond.acquire()

    def _emit(self, events: list[TaskEvent]) -> None:
        if self._on_event is None:
            return
        for event in events:
            try:
                self._on_event(event)
            except Exception:  # noqa: S110 - a broken listener must not break scheduling
                pass


def _describe(job: Job, exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"task {job.index} '{job.name}' failed: {type(exc).__name__}: {text}"
