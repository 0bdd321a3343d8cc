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

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from llmcompiler_graph.executor.workers import Watchdog, WorkerPool
from llmcompiler_graph.fetching.core import DependencyTracker
from llmcompiler_graph.fetching.jobs import (
    Job,
    Outcome,
    SchedulerError,
    Status,
    TaskEvent,
    check_limits,
    failure_message,
    timeout_message,
)

__all__ = ["Job", "Outcome", "SchedulerError", "Status", "TaskEvent", "TaskFetchingUnit"]


class TaskFetchingUnit:
    """Run submitted jobs as soon as their dependencies are done, within a concurrency cap.

    Events reach ``on_event`` in the order they happened (``planned`` before ``started``
    before ``finished`` for each job), one at a time, from whichever thread caused them.
    A listener must not call :meth:`wait`.
    """

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
            on_event: Called for every lifecycle event; exceptions it raises are ignored.
            completed: Outcomes of earlier runs that new jobs may depend on.
            thread_name: Prefix for worker thread names.

        Raises:
            SchedulerError: For a ``max_concurrency`` below 1 or a non-positive ``timeout``.

        """
        check_limits(max_concurrency, timeout)
        self._cap = max_concurrency
        self._timeout = timeout
        self._on_event = on_event
        self._pool = WorkerPool(thread_name)
        self._watchdog = Watchdog(self._expire, f"{thread_name}-watchdog") if timeout else None
        self._cond = threading.Condition()
        self._dag = DependencyTracker(completed)
        self._events: deque[TaskEvent] = deque()
        self._delivering = False
        self._running = 0
        self._abandoned = 0
        self._shut = False
        self._peak = 0

    # -- protocol -------------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Add a job; it starts as soon as its dependencies are done and a slot is free.

        Raises:
            SchedulerError: After :meth:`close`, for an index already used, or for a
                dependency that was neither submitted nor given as ``completed``.

        """
        with self._cond:
            ended = self._dag.add(job)
            self._post(TaskEvent("planned", job.index, job.name, job.args))
            self._settled([ended] if ended is not None else [])
            self._dispatch()
        self._deliver()

    def close(self) -> None:
        """Declare that no more jobs will be submitted."""
        with self._cond:
            self._dag.close()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> dict[int, Outcome]:
        """Block until every submitted job has an outcome and its events were delivered.

        Returns:
            The outcomes of this run's jobs, by index (earlier runs' outcomes excluded).

        Raises:
            SchedulerError: If ``close()`` was never called, or ``timeout`` passed first.

        """
        with self._cond:
            if not self._dag.closed:
                raise SchedulerError("wait() before close(): the unit cannot know the plan ended")
            if not self._cond.wait_for(self._quiet, timeout):
                missing = self._dag.unfinished()
                raise SchedulerError(f"tasks {missing} still unfinished after {timeout} s")
            return self._dag.results()

    def shutdown(self) -> None:
        """Release worker threads (abandoned timed-out calls are left to finish on their own)."""
        with self._cond:
            self._dag.close()
            self._shut = True
            self._cond.notify_all()
        if self._watchdog is not None:
            self._watchdog.stop()
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

    @property
    def peak_running(self) -> int:
        """Return the most jobs that ran at once (abandoned timed-out calls not counted)."""
        with self._cond:
            return self._peak

    # -- internals (called with the lock held unless noted) ------------------------------

    def _quiet(self) -> bool:
        return self._dag.all_done and not self._events and not self._delivering

    def _post(self, event: TaskEvent) -> None:
        if self._on_event is not None:
            self._events.append(event)

    def _dispatch(self) -> None:
        while self._running < self._cap and not self._shut:
            launch = self._dag.start_next()
            if launch is None:
                return
            job, now = launch.job, launch.started_at
            self._running += 1
            self._peak = max(self._peak, self._running)
            if self._watchdog is not None and self._timeout is not None:
                self._watchdog.arm(job.index, now + self._timeout)
            self._post(
                TaskEvent(
                    "started", job.index, job.name, job.args, time=now, resolved=launch.resolved
                )
            )
            self._pool.submit(self._runner(job, launch.deps))

    def _runner(self, job: Job, deps: Mapping[int, object]) -> Callable[[], None]:
        assert job.fn is not None
        fn = job.fn

        def run() -> None:
            # Runs on a worker thread, without the lock.
            status: Status = "ok"
            value: object = None
            error: str | None = None
            try:
                value = fn(deps)
            except BaseException as exc:  # every failure becomes an observation
                status, error = "error", failure_message(job, exc)
            with self._cond:
                if self._dag.is_finished(job.index):  # timed out meanwhile: discard the result
                    self._abandoned -= 1
                    return
                if self._watchdog is not None:
                    self._watchdog.cancel(job.index)
                self._running -= 1
                self._settled(self._dag.finish(job.index, status, value=value, error=error))
                self._dispatch()
            self._deliver()

        return run

    def _expire(self, index: int) -> None:
        # Called by the watchdog thread, without the lock.
        with self._cond:
            if not self._dag.is_running(index) or self._timeout is None:
                return
            self._running -= 1
            self._abandoned += 1
            message = timeout_message(self._dag.job(index), self._timeout)
            self._settled(self._dag.finish(index, "timeout", error=message))
            self._dispatch()
        self._deliver()

    def _settled(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            job = self._dag.job(outcome.index)
            self._post(
                TaskEvent(
                    "finished",
                    job.index,
                    job.name,
                    job.args,
                    outcome,
                    outcome.finished_at,
                    self._dag.resolved(job.index),
                )
            )
        if self._dag.all_done:
            self._cond.notify_all()

    def _deliver(self) -> None:
        """Hand queued events to the listener, in order, one thread at a time (no lock held)."""
        listener = self._on_event
        if listener is None:
            return
        while True:
            with self._cond:
                if self._delivering or not self._events:
                    return
                self._delivering = True
                batch = list(self._events)
                self._events.clear()
            try:
                for event in batch:
                    try:
                        listener(event)
                    except Exception:  # a broken listener must not break scheduling
                        pass
            finally:
                with self._cond:
                    self._delivering = False
                    self._cond.notify_all()
