"""Record when the planner, each task and the joiner ran: the :class:`Timeline` handler.

Its bars are :class:`~llmcompiler_graph.viz.spans.Span` objects (:mod:`.spans` also makes
their labels); :mod:`.gantt` draws them as a Gantt chart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from llmcompiler_graph.state import planned_tasks, result_record
from llmcompiler_graph.viz.spans import ARGS_CHARS, Span, arguments_text, model_label, task_label

__all__ = ["Timeline"]

_NODE_KIND = {"plan_and_schedule": "planner", "join": "joiner"}


class Timeline(BaseCallbackHandler):
    """Callback handler (plus stream observer) that records a run's timeline.

    Pass it as a callback, ``app.invoke(inputs, {"callbacks": [timeline]})``, or let
    :meth:`run` / :meth:`arun` do that and also read the custom task events (when each plan
    line was parsed) and the final state (how each task ended).
    """

    run_inline = True  # record the time on the calling thread, also under ainvoke

    def __init__(self) -> None:
        """Start an empty timeline."""
        super().__init__()
        self._lock = threading.Lock()
        self._open: dict[UUID, Span] = {}
        self._spans: list[Span] = []
        self._planned: dict[int, float] = {}
        self._ended: dict[int, tuple[float, str]] = {}
        self._started: dict[int, tuple[float, tuple[int, ...]]] = {}  # from task events
        self._counts: dict[str, int] = {}
        self.origin: float | None = None

    # -- recording ------------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Open a bar for a planner, joiner or other model call."""
        kind = _NODE_KIND.get(str((metadata or {}).get("langgraph_node")), "model")
        with self._lock:
            count = self._counts[kind] = self._counts.get(kind, 0) + 1
            self._open[run_id] = Span(model_label(kind, count), kind, time.perf_counter(), 0.0)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Note the first token of a model call."""
        with self._lock:
            span = self._open.get(run_id)
            if span is not None and span.first_token is None:
                self._open[run_id] = replace(span, first_token=time.perf_counter())

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a model call's bar."""
        self._end(run_id, "ok")

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a failed model call's bar."""
        self._end(run_id, "error")

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Open a task's bar; its number comes from the ``llmcompiler_task`` metadata."""
        index = (metadata or {}).get("llmcompiler_task")
        name = str((serialized or {}).get("name") or kwargs.get("name") or "tool")
        given: Mapping[str, Any] = inputs if inputs else {"input": input_str}
        number = f"${index} " if isinstance(index, int) else ""  # other agents' tool calls
        label = f"{number}{name}({arguments_text(given, ARGS_CHARS)})"
        full = f"{number}{name}({arguments_text(given)})"
        span = Span(
            label,
            "task",
            time.perf_counter(),
            0.0,
            index=index if isinstance(index, int) else None,
            detail=full if full != label else None,
        )
        with self._lock:
            self._open[run_id] = span

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a task's bar."""
        self._end(run_id, "ok")

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a failed task's bar."""
        self._end(run_id, "error")

    def observe(self, event: Any) -> None:
        """Read one custom stream event (``stream_mode="custom"``); other items are ignored."""
        if not (isinstance(event, Mapping) and event.get("type") == "llmcompiler.task"):
            return
        now, index = time.perf_counter(), event.get("index")
        if not isinstance(index, int):
            return
        with self._lock:
            if event.get("event") == "planned":
                self._planned.setdefault(index, now)
            elif event.get("event") == "started":
                fused = tuple(i for i in event.get("fused") or () if isinstance(i, int))
                self._started.setdefault(index, (now, fused))
            elif event.get("event") == "finished":
                self._ended[index] = (now, str(event.get("status", "ok")))

    def observe_state(self, state: Mapping[str, Any]) -> None:
        """Take each task's plan line and final status (and tasks that never ran) from a state."""
        messages = state.get("messages", [])
        results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
        with self._lock:
            self._close_abandoned()
            ran = {s.index: s for s in self._spans if s.index is not None}
            for plan in (m for m in messages if isinstance(m, AIMessage)):
                for task in planned_tasks(plan):
                    result = results.get(str(task.get("id")))
                    if result is not None:
                        self._settle(task, _status(result), ran)

    def _close_abandoned(self) -> None:
        # A timed-out call's thread may still run: end its bar when the scheduler gave up.
        for run_id, span in list(self._open.items()):
            ended = self._ended.get(span.index) if span.index is not None else None
            if ended is not None:
                del self._open[run_id]
                self._spans.append(replace(span, end=ended[0], status=ended[1]))

    def _settle(self, task: Mapping[str, Any], status: str, ran: Mapping[int, Span]) -> None:
        index = int(task["index"])
        label = task_label(index, task.get("name"), task.get("args"))
        full = task_label(index, task.get("name"), task.get("args"), limit=None)
        detail = full if full != label else None
        ended = self._ended.get(index, (None, ""))[0]
        if index in ran:  # relabel with the arguments as planned, before $N substitution
            span = ran[index]
            end = ended if status == "timeout" and ended is not None else span.end
            self._spans[self._spans.index(span)] = replace(
                span, label=label, status=status, end=end, detail=detail
            )
            return
        started, fused = self._started.get(index, (None, ()))
        if started is not None and ended is not None and fused:
            # Ran inside a batched call (no tool callback of its own): its bar is the call's.
            label = f"{label} (batch of {len(fused)})"
            self._spans.append(Span(label, "task", started, ended, status, index=index))
            return
        deps = [ran[d] for d in task.get("deps", []) if d in ran]
        when = ended or max((d.end for d in deps), default=None) or self._planned.get(index)
        if when is not None:  # never ran: a point where it ended (dependency failed, bad line)
            self._spans.append(Span(label, "task", when, when, status, index=index, detail=detail))

    def _end(self, run_id: UUID, status: str) -> None:
        now = time.perf_counter()
        with self._lock:
            span = self._open.pop(run_id, None)
            if span is not None:
                self._spans.append(replace(span, end=now, status=status))

    # -- running --------------------------------------------------------------------------

    def run(
        self, app: Any, inputs: Any, config: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Invoke ``app`` while recording; return its output state."""
        state: dict[str, Any] = {}
        for mode, chunk in self.stream(app, inputs, config, **kwargs):
            if mode == "values":
                state = chunk
        self.observe_state(state)
        return state

    async def arun(
        self, app: Any, inputs: Any, config: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Like :meth:`run`, with ``app.astream`` (async tools run on the event loop)."""
        state: dict[str, Any] = {}
        async for mode, chunk in self.astream(app, inputs, config, **kwargs):
            if mode == "values":
                state = chunk
        self.observe_state(state)
        return state

    def stream(
        self, app: Any, inputs: Any, config: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Iterator[tuple[str, Any]]:
        """Yield ``(mode, chunk)`` from ``app.stream`` (custom, messages, values), recording."""
        self.origin = time.perf_counter()
        for mode, chunk in app.stream(
            inputs, self._config(config), stream_mode=["custom", "messages", "values"], **kwargs
        ):
            if mode == "custom":
                self.observe(chunk)
            yield mode, chunk

    async def astream(
        self, app: Any, inputs: Any, config: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> AsyncIterator[tuple[str, Any]]:
        """Async form of :meth:`stream`."""
        self.origin = time.perf_counter()
        modes = ["custom", "messages", "values"]
        async for mode, chunk in app.astream(
            inputs, self._config(config), stream_mode=modes, **kwargs
        ):
            if mode == "custom":
                self.observe(chunk)
            yield mode, chunk

    def _config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        merged = dict(config or {})
        merged["callbacks"] = [*(merged.get("callbacks") or []), self]
        return merged

    # -- reading --------------------------------------------------------------------------

    def spans(self) -> list[Span]:
        """Return the finished bars in start order, with plan-line ticks attached to tasks."""
        with self._lock:
            spans = [
                replace(s, planned=self._planned.get(s.index)) if s.index is not None else s
                for s in self._spans
            ]
        return sorted(spans, key=lambda s: (s.start, s.kind != "planner"))


def _status(result: ToolMessage) -> str:
    artifact = result_record(result)
    return str(artifact.get("status", "error" if result.status == "error" else "ok"))
