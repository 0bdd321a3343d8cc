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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from llmcompiler_graph.executor.workers import WorkerPool
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

__all__ = ["AsyncTaskFetchingUnit"]


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
        check_limits(max_concurrency, timeout)
        self._cap = max_concurrency
        self._timeout = timeout
        self._on_event = on_event
        self._pool = WorkerPool(thread_name)
        self._dag = DependencyTracker(completed)
        self._tasks: set[asyncio.Task[None]] = set()
        self._done = asyncio.Event()
        self._running = 0
        self.peak_running = 0
        self.abandoned_threads = 0

    def submit(self, job: Job) -> None:
        """Add a job; it starts as soon as its dependencies are done and a slot is free.

        Raises:
            SchedulerError: After :meth:`close`, for an index already used, or for a
                dependency that was neither submitted nor given as ``completed``.

        """
        ended = self._dag.add(job)
        self._emit(TaskEvent("planned", job.index, job.name, job.args))
        self._settled([ended] if ended is not None else [])
        self._dispatch()

    def close(self) -> None:
        """Declare that no more jobs will be submitted."""
        self._dag.close()
        self._check_done()

    async def wait(self) -> dict[int, Outcome]:
        """Wait until every submitted job has an outcome (after :meth:`close`).

        Returns:
            The outcomes of this run's jobs, by index (earlier runs' outcomes excluded).

        Raises:
            SchedulerError: If ``close()`` was never called.

        """
        if not self._dag.closed:
            raise SchedulerError("wait() before close(): the unit cannot know the plan ended")
        await self._done.wait()
        return self._dag.results()

    async def aclose(self) -> None:
        """Cancel jobs still running (after an error or a cancelled run) and free the threads."""
        self._dag.close()
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
        if self._dag.all_done:
            self._done.set()

    def _dispatch(self) -> None:
        while self._running < self._cap:
            launch = self._dag.start_next()
            if launch is None:
                return
            job = launch.job
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
            self._emit(
                TaskEvent(
                    "started",
                    job.index,
                    job.name,
                    job.args,
                    time=launch.started_at,
                    resolved=launch.resolved,
                )
            )
            task = asyncio.get_running_loop().create_task(self._run(job, launch.deps))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Job, deps: Mapping[int, object]) -> None:
        assert job.fn is not None
        status: Status = "ok"
        value: object = None
        error: str | None = None
        threaded = not inspect.iscoroutinefunction(job.fn)
        scope: asyncio.Timeout | None = None
        try:
            work = self._in_thread(job.fn, deps) if threaded else job.fn(deps)
            async with asyncio.timeout(self._timeout) as scope:
                value = await _awaitable(work)
        except TimeoutError as exc:
            if self._timeout is None or scope is None or not scope.expired():
                # Raised by the tool itself: an ordinary failure, not our deadline.
                status, error = "error", failure_message(job, exc)
            else:
                status, error = "timeout", timeout_message(job, self._timeout)
                self.abandoned_threads += threaded
        except asyncio.CancelledError:
            self._running -= 1
            raise
        except Exception as exc:  # every failure of a tool becomes an observation
            status, error = "error", failure_message(job, exc)
        self._running -= 1
        self._settled(self._dag.finish(job.index, status, value=value, error=error))
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

    def _settled(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            job = self._dag.job(outcome.index)
            self._emit(
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
        self._check_done()

    def _emit(self, event: TaskEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            pass


async def _awaitable(work: Any) -> object:
    return await work
