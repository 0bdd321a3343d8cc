"""The options both drivers take, documented once: ``TaskFetchingUnit(**options)``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import NotRequired, Required, TypedDict

from llmcompiler_graph.fetching.core import Priority, Scheduler
from llmcompiler_graph.fetching.jobs import Outcome, TaskEvent, check_limits
from llmcompiler_graph.fetching.limits import RateLimit

__all__ = ["UnitOptions", "scheduler_for"]


class UnitOptions(TypedDict, total=False):
    """Keyword arguments of both drivers, ``TaskFetchingUnit`` and ``AsyncTaskFetchingUnit``.

    Attributes:
        max_concurrency: Most calls running at once (at least 1; clamped to
            :data:`~.jobs.MAX_CONCURRENCY`). A fused batched call counts once.
        timeout: Seconds a call may run before its jobs end as ``timeout``; ``None`` for no
            limit. A coroutine is cancelled; a thread cannot be stopped, so its call is
            abandoned (counted in ``abandoned_threads`` until it returns; result discarded).
        on_event: Called for every lifecycle event, in order, one at a time; exceptions it
            raises are ignored. It must not call ``wait``.
        completed: Outcomes of earlier runs that new jobs may depend on.
        thread_name: Prefix for worker thread names.
        tool_limits: Most calls of a tool (by job name) running at once, on top of
            ``max_concurrency``, e.g. ``{"search": 2}``. A job waiting for its tool's limit
            never holds back other tools' jobs.
        rate_limits: Calls per second per tool, as a number or a
            :class:`~.limits.RateLimit` (token bucket with a burst); waiting is a timer.
        priority: ``"fifo"`` (default; the order jobs became ready) or ``"critical_path"``
            (the longest chain of dependents known so far first; ties in plan order).
        propagate: Exception types that are not task failures (LangGraph's
            ``GraphBubbleUp`` for ``interrupt()`` inside a tool): the jobs of the call that
            raised it get no outcome, nothing new starts, running calls finish, and
            ``wait`` re-raises the first such exception.
        hold: Exception types that mean a call will run again later (a tool that asked for
            input, its interrupt recorded): its jobs fail, and what must follow them (their
            dependents, the jobs ordered after them by a shared resource) is skipped and
            held too (``held()``), so it runs after them, later.
        cancel_event: Set when the run is cancelled (``cancel()``, or leaving the ``with``
            block early); sync jobs can watch it to stop early. One is created if not given.

    """

    max_concurrency: Required[int]
    timeout: NotRequired[float | None]
    on_event: NotRequired[Callable[[TaskEvent], None] | None]
    completed: NotRequired[Mapping[int, Outcome] | None]
    thread_name: NotRequired[str]
    tool_limits: NotRequired[Mapping[str, int] | None]
    rate_limits: NotRequired[Mapping[str, RateLimit | float] | None]
    priority: NotRequired[Priority]
    propagate: NotRequired[tuple[type[BaseException], ...]]
    hold: NotRequired[tuple[type[BaseException], ...]]
    cancel_event: NotRequired[threading.Event | None]


def scheduler_for(options: UnitOptions) -> Scheduler:
    """Check the options and build the core they describe.

    Raises:
        SchedulerError: For a ``max_concurrency`` or limit below 1, a non-positive
            ``timeout`` or rate, or an unknown ``priority``.

    """
    check_limits(options["max_concurrency"], options.get("timeout"))
    return Scheduler(
        max_concurrency=options["max_concurrency"],
        completed=options.get("completed"),
        tool_limits=options.get("tool_limits"),
        rate_limits=options.get("rate_limits"),
        priority=options.get("priority", "fifo"),
        propagate=options.get("propagate", ()),
        hold=options.get("hold", ()),
    )
