"""Task fetching unit for asyncio: the same contract as :class:`~.scheduler.TaskFetchingUnit`.

Used by the graph's async nodes (``ainvoke``/``astream``, and ``langgraph dev``, which runs
graphs on an event loop that must never block). A job whose ``fn`` is a coroutine function
runs as an asyncio task on the loop; any other ``fn`` runs on a daemon worker thread and its
result is handed back to the loop with ``call_soon_threadsafe``. Either way a job starts the
instant its last dependency finishes (completion callbacks, no polling) and at most
``max_concurrency`` run at once, counting both kinds. A job that raises, times out or depends
on a failed job ends as an error :class:`~.jobs.Outcome`. All bookkeeping happens on the
event loop's thread, so it needs no lock.

::

    async with AsyncTaskFetchingUnit(max_concurrency=4) as tfu:
        tfu.submit(Job(1, "search", fn=async_search))
        tfu.submit(Job(2, "math", fn=sync_math, deps=frozenset({1})))
        tfu.close()
        outcomes = await tfu.wait()
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from llmcompiler_graph.jobs import Job, Outcome, SchedulerError, Status, TaskEvent
from llmcompiler_graph.workers import WorkerPool

__all__ = ["AsyncTaskFetchingUnit"]

_VERB = {"error": "failed", "timeout": "timed out", "skipped": "was skipped", "ok": "succeeded"}


class AsyncTaskFetchingUnit:
    """Run submitted jobs on an event loop as soon as their dependencies are done."""

    def __init__(
        self,
        *,
        max_concurrency: int,
        timeout: float | None = None,
        on_event: Callable[[TaskEvent], None] | None = None,
        completed: Mapping[int, Outcome] | None = None,
        thread_name: str = "llmcompiler-atask",
    ) -> None:
        """Create a unit for one run; use it from one event loop only.

        Args:
            max_concurrency: Most jobs running at once (a hard cap, at least 1).
            timeout: Seconds a job may run before it ends as ``timeout``. A coroutine is
                cancelled; a thread cannot be stopped, so its call is abandoned.
            on_event: Called on the loop's thread for every lifecycle event; exceptions it
                raises are ignored.
            completed: Outcomes of earlier runs that new jobs may depend on.
            thread_name: Prefix for the names of worker threads (for plain-function jobs).

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
        self._jobs: dict[int, Job] = {}
        self._submitted_at: dict[int, float] = {}
        self._started_at: dict[int, float] = {}
        self._outcomes: dict[int, Outcome] = dict(completed or {})
        self._prior = frozenset(self._outcomes)
        self._root_cause: dict[int, int] = {}  # skipped job -> the failure behind it
        self._waiting_on: dict[int, set[int]] = {}
        self._dependents: dict[int, list[int]] = {}
        self._ready: deque[int] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._done = asyncio.Event()
        self._running = 0
        self._closed = False
        self.peak_running = 0
        self.abandoned_threads = 0

    def submit(self, job: Job) -> None:
        """Add a job; it starts as soon as its dependencies are done and a slot is free.

        Raises:
            SchedulerError: After :meth:`close`, for an index already used, or for a
                dependency that was neither submitted nor given as ``completed``.

        """
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
        self._emit(TaskEvent("planned", job.index, job.name, job.args))
        failed = [d for d in sorted(job.deps) if d in self._outcomes and not self._outcomes[d].ok]
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

    def close(self) -> None:
        """Declare that no more jobs will be submitted."""
        self._closed = True
        self._check_done()

    async def wait(self) -> dict[int, Outcome]:
        """Wait until every submitted job has an outcome (after :meth:`close`).

        Returns:
            The outcomes of this run's jobs, by index (earlier runs' outcomes excluded).

        Raises:
            SchedulerError: If ``close()`` was never called.

        """
        if not self._closed:
            raise SchedulerError("wait() before close(): the unit cannot know the plan ended")
        await self._done.wait()
        return {i: o for i, o in self._outcomes.items() if i not in self._prior}

    async def aclose(self) -> None:
        """Cancel jobs still running (after an error or a cancelled run) and free the threads."""
        self._closed = True
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._pool.shutdown()

    async def __aenter__(self) -> AsyncTaskFetchingUnit:
        """Return the unit itself."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Cancel what still runs and release the worker threads."""
        await self.aclose()

    # -- internals (all on the event loop's thread) ---------------------------------------

    def _check_done(self) -> None:
        if self._closed and len(self._outcomes) - len(self._prior) == len(self._jobs):
            self._done.set()

    def _dispatch(self) -> None:
        while self._ready and self._running < self._cap:
            index = self._ready.popleft()
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
            now = time.perf_counter()
            self._started_at[index] = now
            job = self._jobs[index]
            deps = {d: self._outcomes[d].value for d in job.deps}
            self._emit(TaskEvent("started", index, job.name, job.args, time=now))
            task = asyncio.get_running_loop().create_task(self._run(job, deps))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Job, deps: Mapping[int, object]) -> None:
        assert job.fn is not None
        status: Status = "ok"
        value: object = None
        error: str | None = None
        threaded = not inspect.iscoroutinefunction(job.fn)
        try:
            work = self._in_thread(job.fn, deps) if threaded else job.fn(deps)
            value = await asyncio.wait_for(_awaitable(work), self._timeout)
        except TimeoutError:
            status, error = (
                "timeout",
                (
                    f"task {job.index} '{job.name}' timed out after {self._timeout:g} s; "
                    "raise task_timeout or make the tool faster"
                ),
            )
            self.abandoned_threads += threaded
        except asyncio.CancelledError:
            self._running -= 1
            raise
        except Exception as exc:  # every failure of a tool becomes an observation
            status, error = "error", _describe(job, exc)
        self._running -= 1
        self._finish(job.index, status, value=value, error=error)
        self._dispatch()

    def _in_thread(
        self, fn: Callable[[Mapping[int, object]], object], deps: Mapping[int, object]
    ) -> asyncio.Future[object]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()

        def settle(value: object, exc: BaseException | None) -> None:
            if future.done():  # timed out or cancelled meanwhile: the result is discarded
                return
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(value)

        def run() -> None:
            try:
                value, exc = fn(deps), None
            except BaseException as failure:  # handed to the loop, never lost on the thread
                value, exc = None, failure
            try:
                loop.call_soon_threadsafe(settle, value, exc)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

        self._pool.submit(run)
        return future

    def _finish(
        self, index: int, status: Status, *, value: object = None, error: str | None = None
    ) -> None:
        # Iterative, so a long chain of skipped dependents cannot exhaust the stack.
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
            self._emit(TaskEvent("finished", i, job.name, job.args, outcome, outcome.finished_at))
            for dependent in self._dependents.pop(i, ()):
                pending = self._waiting_on.get(dependent)
                if pending is None:  # already skipped because another dependency failed
                    continue
                if not outcome.ok:
                    del self._waiting_on[dependent]
                    stack.append((dependent, "skipped", None, self._skip_message(dependent, i)))
                    continue
                pending.discard(i)
                if not pending:
                    del self._waiting_on[dependent]
                    self._ready.append(dependent)
        self._check_done()

    def _skip_message(self, index: int, failed_dep: int) -> str:
        # Same wording as the threaded unit: name the dependency and the failure behind it.
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

    def _emit(self, event: TaskEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            pass


async def _awaitable(work: Any) -> object:
    return await work


def _describe(job: Job, exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"task {job.index} '{job.name}' failed: {type(exc).__name__}: {text}"
