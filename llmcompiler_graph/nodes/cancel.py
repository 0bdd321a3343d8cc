"""Ending a sync ``stream``'s rounds when its consumer stops reading early.

LangGraph's sync runner waits for running nodes when a stream is closed and tells them
nothing. The graph's ``stream`` (:func:`cancel_on_close`) sets a :class:`CancelScope` in the
context its nodes run in (:data:`STREAM_SCOPE`) and cancels it on close; a planning round
running in it cancels its task fetching unit and stops reading the planner's stream.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

__all__ = ["STREAM_SCOPE", "CancelScope", "cancel_on_close"]

T = TypeVar("T")


class CancelScope:
    """Cancels the rounds of one sync ``stream`` whose consumer stopped reading early.

    LangGraph's sync runner waits for running nodes when a stream is closed and tells them
    nothing; the graph's ``stream`` (:func:`cancel_on_close`) sets this scope instead, and a
    round running in it cancels its unit (nothing new starts, the cancel event is set) and
    stops reading the planner's stream, so the close returns promptly.
    """

    def __init__(self) -> None:
        """Create a scope that is not cancelled."""
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], object]] = []
        self.cancelled = False

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` on :meth:`cancel` (now, if already cancelled); return a remover."""
        with self._lock:
            if not self.cancelled:
                self._callbacks.append(callback)
                return lambda: self._remove(callback)
        callback()
        return lambda: None

    def cancel(self) -> None:
        """Cancel: run every callback once (their exceptions are ignored)."""
        with self._lock:
            self.cancelled = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one failing callback must not keep the others from running
                pass

    def _remove(self, callback: Callable[[], object]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


STREAM_SCOPE: contextvars.ContextVar[CancelScope | None] = contextvars.ContextVar(
    "llmcompiler_stream_scope", default=None
)
"""The :class:`CancelScope` of the sync ``stream`` a node runs in (LangGraph copies the
context into its worker threads), or ``None``."""


def cancel_on_close(inner: Iterator[T]) -> Iterator[T]:
    """Iterate over a graph's sync stream; when the consumer closes it early, cancel its rounds."""
    scope = CancelScope()
    context = contextvars.copy_context()
    context.run(STREAM_SCOPE.set, scope)
    try:
        while True:
            try:
                item = context.run(next, inner)
            except StopIteration:
                return
            yield item
    except GeneratorExit:  # the consumer stopped reading: end what runs now
        scope.cancel()
        raise
    finally:
        if isinstance(inner, Generator):
            context.run(inner.close)
