"""The asyncio driver: ``TaskFetchingUnit``'s API on an event loop (options: ``UnitOptions``).

For the async nodes, whose loop must never block: coroutine jobs run as tasks on the loop,
others on daemon worker threads; bookkeeping stays on the loop's thread (no lock)::

    async with AsyncTaskFetchingUnit(max_concurrency=4) as tfu:
        tfu.submit(Job(1, "search", fn=async_search))
        tfu.submit(Job(2, "math", fn=sync_math, deps=frozenset({1})))
        tfu.close()
        outcomes = await tfu.wait()
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Unpack

from llmcompiler_graph.fetching.core import Start, Step
from llmcompiler_graph.fetching.driver import UnitBase
from llmcompiler_graph.fetching.jobs import Job, Outcome
from llmcompiler_graph.fetching.options import UnitOptions
from llmcompiler_graph.fetching.workers import run_for_loop

__all__ = ["AsyncTaskFetchingUnit"]


class AsyncTaskFetchingUnit(UnitBase):
    """Run submitted jobs on an event loop as soon as their dependencies are done."""

    def __init__(self, **options: Unpack[UnitOptions]) -> None:
        """Create a unit for one run, used from one event loop (see ``UnitOptions``)."""
        super().__init__(options, "llmcompiler-atask")
        self._on_event = options.get("on_event")
        self._tasks: set[asyncio.Task[None]] = set()
        self._done = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None

    def submit(self, job: Job) -> None:
        """Add a job; raises ``SchedulerError`` after close, for a reused index or unknown dep."""
        self._apply(self._core.submit(job))

    def close(self) -> None:
        """Declare that no more jobs will be submitted."""
        self._apply(self._core.close())

    def cancel(self, reason: str = "the run was cancelled") -> None:
        """Start nothing more, set ``cancel_event``, cancel running coroutines, end every job."""
        self.cancel_event.set()
        self._apply(self._core.cancel(reason))
        for task in self._tasks:
            task.cancel()

    async def wait(self, timeout: float | None = None) -> dict[int, Outcome]:
        """Wait until every job has an outcome; raises as :meth:`.threads.TaskFetchingUnit.wait`."""
        self._check_closed()
        try:
            async with asyncio.timeout(timeout):
                await self._done.wait()
        except TimeoutError:
            pass
        return self._outcomes(self._done.is_set(), timeout)

    async def __aenter__(self) -> AsyncTaskFetchingUnit:
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Cancel what is unfinished (leaving early) and release the threads."""
        if not self._core.done:
            self.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._timer is not None:
            self._timer.cancel()
        self._pool.shutdown()

    def _apply(self, step: Step) -> None:
        for event in step.events if self._on_event is not None else ():
            try:
                self._on_event(event)  # type: ignore[misc]
            except Exception:  # a broken listener must not break scheduling
                pass
        loop = asyncio.get_running_loop()
        for start in step.starts:
            task = loop.create_task(self._run(start))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if step.wake_at is not None:
            if self._timer is not None:
                self._timer.cancel()
            at = loop.time() + step.wake_at - time.perf_counter()
            self._timer = loop.call_at(at, lambda: self._apply(self._core.tick()))
        if self._core.done:
            self._done.set()

    def _late(self, start: Start, value: object, exc: BaseException | None) -> None:
        self._apply(self._core.finish(start, value, exc))  # counts the thread as returned

    async def _run(self, start: Start) -> None:
        threaded = not start.is_async
        value: object = None
        error: BaseException | None = None
        scope: asyncio.Timeout | None = None
        try:
            late = functools.partial(self._late, start)
            work = run_for_loop(self._pool, start.call, late) if threaded else start.call()
            async with asyncio.timeout(self._timeout) as scope:
                value = await work  # type: ignore[misc]
        except asyncio.CancelledError as exc:
            if not threaded:  # a thread reports itself when it returns
                self._apply(self._core.finish(start, error=exc))
            raise
        except TimeoutError as exc:
            if self._timeout is not None and scope is not None and scope.expired():
                self._apply(self._core.expire(start.job.index, self._timeout, abandon=threaded))
                return
            error = exc  # the tool's own TimeoutError: an ordinary failure
        except BaseException as exc:  # every failure of a tool becomes an observation
            error = exc
        self._apply(self._core.finish(start, value, error))
