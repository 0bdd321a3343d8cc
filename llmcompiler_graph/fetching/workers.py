"""Threads for the task fetching unit: a daemon worker pool and a deadline watchdog.

Why not :class:`concurrent.futures.ThreadPoolExecutor`: a tool that hangs past its
timeout keeps its worker busy forever. The executor would then run with one worker
fewer for the rest of the run (its size is fixed), and at interpreter exit it joins
its threads, so one hung tool would keep the process alive. This pool starts a new
thread whenever no idle one is free (the scheduler enforces the concurrency cap),
and its threads are daemons.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

__all__ = ["SerialDelivery", "Watchdog", "WorkerPool", "run_for_loop"]

T = TypeVar("T")

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
        """Run ``fn`` on an idle thread, or on a new one if none is idle.

        ``fn`` must not raise: the pool does not report errors (the scheduler's runner
        catches everything).

        Raises:
            RuntimeError: If the pool was shut down.

        """
        with self._lock:
            if self._closed:
                raise RuntimeError(f"worker pool {self.name!r} is shut down")
            if self._idle > 0:
                self._idle -= 1  # reserve the idle worker that will take this item
            else:
                self._start_thread()
        self._queue.put(fn)

    def keep_one_idle(self) -> None:
        """Start a thread now if none is idle, so the next :meth:`submit` hands over at once.

        Starting a thread waits for it to run (about a millisecond in a busy VM); a driver
        calls this when nothing is waiting (between a plan's chunks), so no call waits for a
        thread to start. A no-op when a thread is idle or the pool is shut down.
        """
        with self._lock:
            if self._closed or self._idle > 0:
                return
            self._idle += 1  # the new thread takes the next item
            self._start_thread()

    def _start_thread(self) -> None:  # with the lock held
        thread = threading.Thread(
            target=self._work, name=f"{self.name}-{next(self._counter)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

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
            try:
                fn()
            except BaseException:  # keep the worker alive whatever fn does
                pass
            with self._lock:
                if self._closed:
                    return
                self._idle += 1


class Watchdog:
    """Call ``on_expire(key)`` on a daemon thread when a key's deadline passes.

    The thread sleeps on a condition until the nearest deadline (no polling) and is
    started on the first :meth:`arm`. ``on_expire`` runs without the watchdog's lock
    held, so it may take other locks; it must not raise.
    """

    def __init__(
        self, on_expire: Callable[[int], None], name: str = "llmcompiler-watchdog"
    ) -> None:
        """Create a stopped watchdog that will report expired keys to ``on_expire``."""
        self.name = name
        self._on_expire = on_expire
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, float] = {}  # key -> its live deadline
        self._stopped = False
        self._thread: threading.Thread | None = None

    def arm(self, key: int, deadline: float) -> None:
        """Expire ``key`` at ``deadline`` (a ``time.perf_counter()`` value) unless cancelled."""
        with self._cond:
            if self._stopped:
                return
            self._armed[key] = deadline
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def cancel(self, key: int) -> None:
        """Forget ``key``'s deadline (its heap entry is dropped when it comes up)."""
        with self._cond:
            self._armed.pop(key, None)

    def stop(self) -> None:
        """Stop the thread; pending deadlines never fire."""
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._armed.clear()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, key = self._heap[0]
                if self._armed.get(key) != deadline:  # cancelled or re-armed
                    heapq.heappop(self._heap)
                    continue
                remaining = deadline - time.perf_counter()
                if remaining > 0:
                    # A deadline centuries away (a huge timeout, a tiny rate) is slept on in
                    # steps the platform can time; the thread must never die of it.
                    self._cond.wait(min(remaining, threading.TIMEOUT_MAX))
                    continue
                heapq.heappop(self._heap)
                del self._armed[key]
                self._cond.release()
                try:
                    self._on_expire(key)
                except Exception:  # a failing callback must not stop the watchdog
                    pass
                finally:
                    self._cond.acquire()


class SerialDelivery(Generic[T]):
    """Hand items to a listener in order, one thread at a time, outside the caller's lock.

    Threads :meth:`put` items while holding ``cond``'s lock and call :meth:`deliver` after
    releasing it; whichever thread delivers takes everything queued so far. A listener's
    exceptions are ignored.
    """

    def __init__(self, cond: threading.Condition, listener: Callable[[T], None] | None) -> None:
        """Deliver to ``listener`` (nothing is queued if it is ``None``)."""
        self._cond = cond
        self._listener = listener
        self._items: deque[T] = deque()
        self._busy = False

    def put(self, items: Iterable[T]) -> None:
        """Queue items (call with the lock held)."""
        if self._listener is not None:
            self._items.extend(items)

    @property
    def idle(self) -> bool:
        """Tell whether everything queued was delivered (call with the lock held)."""
        return not self._items and not self._busy

    def deliver(self) -> None:
        """Deliver what is queued unless another thread is at it (call without the lock)."""
        listener = self._listener
        while listener is not None:
            with self._cond:
                if self._busy or not self._items:
                    return
                self._busy = True
                batch = list(self._items)
                self._items.clear()
            try:
                for item in batch:
                    try:
                        listener(item)
                    except Exception:  # a broken listener must not break scheduling
                        pass
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def run_for_loop(
    pool: WorkerPool,
    fn: Callable[[], object],
    late: Callable[[object, BaseException | None], None],
) -> asyncio.Future[object]:
    """Run ``fn`` on ``pool`` and return a future of the running loop that gets its result.

    If the future was already given up (timed out, cancelled) when ``fn`` returns, ``late``
    gets the value or exception on the loop's thread instead.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[object] = loop.create_future()

    def settle(value: object, exc: BaseException | None) -> None:
        if future.done():
            late(value, exc)
        elif exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(value)

    def run() -> None:
        try:
            value, exc = fn(), None
        except BaseException as failure:  # handed to the loop, never lost on the thread
            value, exc = None, failure
        try:
            loop.call_soon_threadsafe(settle, value, exc)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    pool.submit(run)
    return future
