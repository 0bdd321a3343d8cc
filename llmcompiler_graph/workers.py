"""A minimal on-demand pool of daemon worker threads.

Why not :class:`concurrent.futures.ThreadPoolExecutor`: a tool that hangs past its
timeout keeps its worker busy forever. The executor would then run with one worker
fewer for the rest of the run (its size is fixed), and at interpreter exit it joins
its threads, so one hung tool would keep the process alive. This pool starts a new
thread whenever no idle one is free (the scheduler enforces the concurrency cap),
and its threads are daemons.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable

__all__ = ["WorkerPool"]

_STOP = None


class WorkerPool:
    """Run callables on reusable daemon threads, starting threads only when none is idle."""

    def __init__(self, name: str = "llmcompiler-task") -> None:
        """Create an empty pool whose threads are named ``{name}-{n}``."""
        self.name = name
        self._queue: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads: list[threading.Thread] = []
        self._counter = itertools.count(1)
        self._closed = False

    def submit(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` on an idle thread, or on a new one if none is idle."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"worker pool {self.name!r} is shut down")
            if self._idle > 0:
                self._idle -= 1  # reserve the idle worker that will take this item
            else:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{next(self._counter)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._queue.put(fn)

    def shutdown(self) -> None:
        """Let idle threads exit; busy ones exit when their call returns."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            count = len(self._threads)
        for _ in range(count):
            self._queue.put(_STOP)

    @property
    def threads_started(self) -> int:
        """Return how many threads this pool has started."""
        with self._lock:
            return len(self._threads)

    def _work(self) -> None:
        while True:
            fn = self._queue.get()
            if fn is _STOP:
                return
            fn()
            with self._lock:
                if self._closed:
                    return
                self._idle += 1
