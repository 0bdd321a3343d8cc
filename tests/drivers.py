"""Both task fetching units behind one synchronous test interface.

``LoopUnit`` runs an :class:`AsyncTaskFetchingUnit` on an event loop in a thread of its own
and forwards each call to it, so one test body exercises both drivers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.jobs import Job, Outcome
from llmcompiler_graph.fetching.threads import TaskFetchingUnit

T = TypeVar("T")


class Unit(Protocol):
    def submit(self, job: Job) -> None: ...
    def close(self) -> None: ...
    def cancel(self, reason: str = ...) -> None: ...
    def wait(self, timeout: float | None = None) -> dict[int, Outcome]: ...
    def __enter__(self) -> Any: ...
    def __exit__(self, *exc: object) -> None: ...
    @property
    def peak_running(self) -> int: ...
    @property
    def abandoned_threads(self) -> int: ...
    @property
    def cancel_event(self) -> threading.Event: ...


class LoopUnit:
    """An ``AsyncTaskFetchingUnit`` driven from synchronous test code."""

    def __init__(self, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-loop")
        self._thread.start()
        try:
            self.unit = self._call(lambda: AsyncTaskFetchingUnit(**options))
        except BaseException:
            self._stop()
            raise

    def _call(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(60)

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def submit(self, job: Job) -> None:
        self._call(lambda: self.unit.submit(job))

    def close(self) -> None:
        self._call(self.unit.close)

    def cancel(self, reason: str = "the run was cancelled") -> None:
        self._call(lambda: self.unit.cancel(reason))

    def wait(self, timeout: float | None = None) -> dict[int, Outcome]:
        return asyncio.run_coroutine_threadsafe(self.unit.wait(timeout), self._loop).result()

    def __enter__(self) -> LoopUnit:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.unit.__aexit__(*exc), self._loop).result(60)
        finally:
            self._stop()

    @property
    def peak_running(self) -> int:
        return self._call(lambda: self.unit.peak_running)

    @property
    def abandoned_threads(self) -> int:
        return self._call(lambda: self.unit.abandoned_threads)

    @property
    def cancel_event(self) -> threading.Event:
        return self.unit.cancel_event


DRIVERS: dict[str, Callable[..., Unit]] = {"threads": TaskFetchingUnit, "aio": LoopUnit}
