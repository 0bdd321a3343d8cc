"""What both drivers share: building the core from the options, counters, and how waits end.

:mod:`.threads` and :mod:`.aio` each subclass :class:`UnitBase` (same package, same layer)
and add only their I/O: how a call runs, how events are delivered, how a wait blocks.
"""

from __future__ import annotations

import math
import threading

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.jobs import Outcome
from llmcompiler_graph.fetching.options import UnitOptions, scheduler_for
from llmcompiler_graph.fetching.workers import WorkerPool

__all__ = ["UnitBase"]


class UnitBase:
    """The state and read-only API the thread and asyncio drivers have in common."""

    def __init__(self, options: UnitOptions, thread_name: str) -> None:
        """Check ``options``, build the core they describe and a pool of worker threads."""
        self._core = scheduler_for(options)
        timeout = options.get("timeout")
        self._timeout = None if timeout == math.inf else timeout  # inf: no limit
        self.cancel_event = options.get("cancel_event") or threading.Event()
        self._thread_name = options.get("thread_name", thread_name)
        self._pool = WorkerPool(self._thread_name)

    def keep_worker_ready(self) -> None:
        """Start a worker thread now if none is idle, so the next call need not wait for one.

        Call it while nothing waits (between a plan's chunks): the next job that starts on a
        thread, or what :meth:`~.threads.TaskFetchingUnit.hand_over` passes on (the sync
        round's plan reader), is taken at once. Nothing happens once closed or cancelled.
        """
        if not self._core.closed:  # one bool read: no lock needed
            self._pool.keep_one_idle()

    @property
    def abandoned_threads(self) -> int:
        """Return how many ended calls (timed out, cancelled) are still running."""
        return self._core.abandoned  # one int read: atomic, no lock needed

    @property
    def peak_running(self) -> int:
        """Return the most calls that ran at once (abandoned calls not counted)."""
        return self._core.peak

    def _check_closed(self) -> None:
        if not self._core.closed:
            raise SchedulerError("wait() before close(): the unit cannot know the plan ended")

    def _outcomes(self, finished: bool, timeout: float | None) -> dict[int, Outcome]:
        """End a wait: raise for a timeout or a ``propagate`` exception, else the outcomes."""
        if not finished:
            missing = self._core.unfinished()
            raise SchedulerError(f"tasks {missing} still unfinished after {timeout} s")
        if self._core.raised is not None:
            raise self._core.raised
        return self._core.results()
