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
import time
from collections import deque
from collections.abc import Callable, Mapping

from llmcompiler_graph.jobs import Job, Outcome, SchedulerError, Status, TaskEvent
from llmcompiler_graph.workers import Watchdog, WorkerPool

__all__ = ["Job", "Outcome", "SchedulerError", "Status", "TaskEvent", "TaskFetchingUnit"]

_VERB = {"error": "failed", "timeout": "timed out", "skipped": "was skipped", "ok": "succeeded"}


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
        if max_concurrency < 1:
            raise SchedulerError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if timeout is not None and timeout <= 0:
            raise SchedulerError(f"timeout must be positive seconds or None, got {timeout}")
        self._cap = max_concurrency
        self._timeout = timeout
        self._on_event = on_event
        self._pool = WorkerPool(thread_name)
        self._watchdog = Watchdog(self._expire, f"{thread_name}-watchdog") if timeout else None
        self._cond = threading.Condition()
        self._jobs: dict[int, Job] = {}
        self._submitted_at: dict[int, float] = {}
        self._started_at: dict[int, float] = {}
        self._outcomes: dict[int, Outcome] = dict(completed or {})
        self._prior = frozenset(self._outcomes)
        self._root_cause: dict[int, int] = {}  # skipped job -> the failure that caused it
        self._waiting_on: dict[int, set[int]] = {}  # job -> unfinished deps
        self._dependents: dict[int, list[int]] = {}  # dep -> jobs waiting for it
        self._ready: deque[int] = deque()
        self._events: deque[TaskEvent] = deque()
        self._delivering = False
        self._running = 0
        self._abandoned = 0
        self._closed = False
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
            self._post(TaskEvent("planned", job.index, job.name, job.args))
            failed = [
                d for d in sorted(job.deps) if d in self._outcomes and not self._outcomes[d].ok
            ]
            pending = {d for d in job.deps if d not in self._outcomes}
            if job.fn is None or job.error is not None:
                self._finish(job.index, "error", error=job.error or "not runnable")
            elif failed:
                self._finish(job.index, "skipped", error=self._skip_message(job.index, failed[0]))
            elif pending:
                self._waiting_on[job.index] = pending
                for d in pending:
                    self._dependents.setdefault(d, []).append(job.index)
            else:
                self._ready.append(job.index)
                self._dispatch()
        self._deliver()

    def close(self) -> None:
        """Declare that no more jobs will be submitted."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> dict[int, Outcome]:
        """Block until every submitted job has an outcome and its events were delivered.

        Returns:
            The outcomes of this run's jobs, by index (earlier runs' outcomes excluded).

        Raises:
            SchedulerError: If ``close()`` was never called, or ``timeout`` passed first.

        """
        with self._cond:
            if not self._closed:
                raise SchedulerError("wait() before close(): the unit cannot know the plan ended")
            if not self._cond.wait_for(self._quiet, timeout):
                missing = sorted(i for i in self._jobs if i not in self._outcomes)
                raise SchedulerError(f"tasks {missing} still unfinished after {timeout} s")
            return {i: o for i, o in self._outcomes.items() if i not in self._prior}

    def shutdown(self) -> None:
        """Release worker threads (abandoned timed-out calls are left to finish on their own)."""
        with self._cond:
            self._closed = self._shut = True
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

    def _all_done(self) -> bool:
        return self._closed and len(self._outcomes) - len(self._prior) == len(self._jobs)

    def _quiet(self) -> bool:
        return self._all_done() and not self._events and not self._delivering

    def _post(self, event: TaskEvent) -> None:
        if self._on_event is not None:
            self._events.append(event)

    def _dispatch(self) -> None:
        while self._ready and self._running < self._cap and not self._shut:
            index = self._ready.popleft()
            self._running += 1
            self._peak = max(self._peak, self._running)
            now = time.perf_counter()
            self._started_at[index] = now
            job = self._jobs[index]
            deps = {d: self._outcomes[d].value for d in job.deps}
            if self._watchdog is not None and self._timeout is not None:
                self._watchdog.arm(index, now + self._timeout)
            self._post(TaskEvent("started", index, job.name, job.args, time=now))
            self._pool.submit(self._runner(job, deps))

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
                status, error = "error", _describe(job, exc)
            with self._cond:
                if job.index in self._outcomes:  # timed out meanwhile: discard the result
                    self._abandoned -= 1
                    return
                if self._watchdog is not None:
                    self._watchdog.cancel(job.index)
                self._running -= 1
                self._finish(job.index, status, value=value, error=error)
                self._dispatch()
            self._deliver()

        return run

    def _expire(self, index: int) -> None:
        # Called by the watchdog thread, without the lock.
        with self._cond:
            if index in self._outcomes or index not in self._started_at:
                return
            self._running -= 1
            self._abandoned += 1
            job = self._jobs[index]
            self._finish(
                index,
                "timeout",
                error=(
                    f"task {index} '{job.name}' timed out after {self._timeout:g} s; "
                    "raise task_timeout or make the tool faster"
                ),
            )
            self._dispatch()
        self._deliver()

    def _finish(
        self, index: int, status: Status, *, value: object = None, error: str | None = None
    ) -> None:
        """Record an outcome and, iteratively, skip everything that waited on a failure."""
        stack: list[tuple[int, Status, object, str | None]] = [(index, status, value, error)]
        while stack:
            i, st, val, err = stack.pop()
            job = self._jobs[i]
            outcome = Outcome(
                i,
                job.name,
                st,
                val,
                err,
                submitted_at=self._submitted_at[i],
                started_at=self._started_at.get(i),
                finished_at=time.perf_counter(),
            )
            self._outcomes[i] = outcome
            self._post(TaskEvent("finished", i, job.name, job.args, outcome, outcome.finished_at))
            for dependent in self._dependents.pop(i, ()):
                pending = self._waiting_on.get(dependent)
                if pending is None:  # already skipped because another dependency failed
                    continue
                if not outcome.ok:
                    del self._waiting_on[dependent]
                    message = self._skip_message(dependent, i)
                    stack.append((dependent, "skipped", None, message))
                    continue
                pending.discard(i)
                if not pending:
                    del self._waiting_on[dependent]
                    self._ready.append(dependent)
        if self._all_done():
            self._cond.notify_all()

    def _skip_message(self, index: int, failed_dep: int) -> str:
        dep = self._outcomes[failed_dep]
        root = self._root_cause.get(failed_dep, failed_dep)
        self._root_cause[index] = root
        message = (
            f"task {index} '{self._jobs[index].name}' did not run: it depends on task "
            f"{failed_dep} '{dep.name}', which {_VERB[dep.status]}"
        )
        if root != failed_dep:
            cause = self._outcomes[root]
            message += f" (because task {root} '{cause.name}' {_VERB[cause.status]})"
        return message

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


def _describe(job: Job, exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"task {job.index} '{job.name}' failed: {type(exc).__name__}: {text}"
