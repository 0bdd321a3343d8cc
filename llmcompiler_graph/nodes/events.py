"""Task events for LangGraph's ``custom`` stream mode, sent safely from any thread."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from llmcompiler_graph.fetching.jobs import TaskEvent
from llmcompiler_graph.joiner.rounds import clip
from llmcompiler_graph.nodes.transcript import jsonable, observation
from llmcompiler_graph.redact import redact

__all__ = ["MAX_ARG_CHARS", "EventRelay", "EventSink", "does_nothing", "task_event"]

MAX_ARG_CHARS = 500
"""Longest text of one resolved argument in an event; the rest is cut with a note."""

EventSink = Callable[[dict[str, Any]], None]
"""Where events go: LangGraph's stream writer in the graph's nodes."""

# One offset from the monotonic clock to Unix time, so event times keep their true order.
_WALL_CLOCK_OFFSET = time.time() - time.perf_counter()


def task_event(
    event: TaskEvent,
    *,
    deps: Collection[int] = (),
    waits_for: Collection[int] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Turn a scheduler event into a JSON-friendly custom stream event.

    Keys: ``type`` (``"llmcompiler.task"``), ``event`` (``planned``/``started``/``finished``),
    ``index``, ``tool``, ``args`` (as planned, with ``$N`` references), ``deps``,
    ``waits_for`` (earlier tasks it runs after because they share a resource, one of them
    writing it: ``tool_effects``; in plan order), ``time``
    (Unix seconds), ``fused`` (the tasks of the batched call it ran in, if fused); for a task
    that started, ``resolved_args`` (what the tool received, each text clipped to
    :data:`MAX_ARG_CHARS`); once finished ``status``, ``ok``, ``duration`` (seconds),
    ``error`` and ``observation`` (clipped).
    """
    data: dict[str, Any] = {
        "type": "llmcompiler.task",
        "event": event.kind,
        "index": event.index,
        "tool": event.name,
        "args": jsonable(event.args),
        "deps": sorted(deps),
        "waits_for": list(waits_for),
        "time": round(_WALL_CLOCK_OFFSET + event.time, 6),
    }
    if event.fused:
        data["fused"] = list(event.fused)
    if event.kind != "planned" and event.resolved is not None:
        data["resolved_args"] = _clipped(jsonable(event.resolved), MAX_ARG_CHARS)
    if event.outcome is not None:
        data.update(
            status=event.outcome.status,
            ok=event.outcome.ok,
            duration=round(event.outcome.duration, 6),
            error=None if event.outcome.error is None else redact(event.outcome.error),
            observation=clip(observation(event.outcome), 500),
        )
    data.update(extra or {})
    return data


def _clipped(value: Any, limit: int) -> Any:
    """Clip every string in JSON data to ``limit`` characters (a result can be a whole page)."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, list):
        return [_clipped(v, limit) for v in value]
    if isinstance(value, dict):
        return {k: _clipped(v, limit) for k, v in value.items()}
    return value


class EventRelay:
    """Send task events to LangGraph's stream writer from any thread.

    The writer reads the node's context (``get_config()``), which worker threads do not
    have, so each event is sent inside a fresh copy of the node's context.
    """

    def __init__(self, sink: EventSink) -> None:
        """Capture the calling node's context; create this on the node's thread."""
        self._sink = sink
        self._context = contextvars.copy_context()
        self.deps: dict[int, Collection[int]] = {}
        self.waits_for: dict[int, Collection[int]] = {}
        self.silent = does_nothing(sink)
        """Whether the sink does nothing (nobody streams the ``custom`` mode): send nothing."""

    def send(self, data: dict[str, Any]) -> None:
        """Send one event dict; a failing writer never breaks the run."""
        if self.silent:
            return
        try:
            self._context.copy().run(self._sink, data)
        except Exception:
            pass

    def __call__(self, event: TaskEvent) -> None:
        """Send a scheduler event (the scheduler's ``on_event``)."""
        if not self.silent:
            index = event.index
            after = self.waits_for.get(index, ())
            self.send(task_event(event, deps=self.deps.get(index, ()), waits_for=after))


def _nothing(_: object) -> None:
    pass


def does_nothing(sink: EventSink) -> bool:
    """Tell whether ``sink`` is a plain function whose body does nothing.

    When nobody streams the ``custom`` mode, LangGraph hands a node a stream writer that
    is such a function (``def stream_writer(c): pass``). Building an event costs about as
    much as parsing the call it reports, on each call's way to its tool, so a
    relay to such a writer builds none. Anything else (a bound method, a builtin, a
    function that does anything at all) counts as listening.
    """
    code = getattr(sink, "__code__", None)
    nothing = _nothing.__code__
    return (
        code is not None
        and code.co_code == nothing.co_code
        and code.co_consts == nothing.co_consts
        and code.co_names == nothing.co_names
    )
