"""Instrumented simulation pieces: tool timings, recording tools, a chunk-timing model.

Built on :mod:`llmcompiler_graph.sim`; the additions here only *record* what happens
(when each streamed chunk left the model, when each tool call started and ended, and for
which LLMCompiler task), so the benchmark can measure orchestration overhead and draw
timelines without touching the code paths it measures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import Field, PrivateAttr

from llmcompiler_graph.bench.scripts import search_corpus
from llmcompiler_graph.bench.workloads import Case, Step
from llmcompiler_graph.sim import ScriptedChatModel, make_math_tool, make_search_tool, simulated_latency

__all__ = ["ToolRecord", "ToolTimings", "TimedScriptedChatModel", "make_tools"]


@dataclass(frozen=True)
class ToolTimings:
    """Simulated tool latencies (seconds); search jitter is seeded per query."""

    search_s: float = 1.0
    search_jitter_s: float = 0.2
    math_s: float = 0.3

    def duration(self, step: Step, seed: int) -> float:
        """Return how long ``step``'s tool call sleeps."""
        if step.tool == "search":
            return simulated_latency(
                str(step.args["query"]), latency_s=self.search_s, jitter_s=self.search_jitter_s, seed=seed
            )
        return max(0.0, self.math_s)


ZERO_TIMINGS = ToolTimings(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class ToolRecord:
    """One tool call as it ran (``time.perf_counter`` seconds)."""

    tool: str
    task: int | None
    args: dict[str, Any]
    start: float
    end: float


class TimedScriptedChatModel(ScriptedChatModel):
    """A :class:`ScriptedChatModel` that also records when each chunk was handed on."""

    chunk_times: list[list[float]] = Field(default_factory=list, exclude=True)
    """Per call (in start order), the ``perf_counter`` time each chunk was yielded."""

    _times_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        times: list[float] = []
        with self._times_lock:
            self.chunk_times.append(times)
        inner = super()._stream(messages, stop, run_manager, **kwargs)
        for chunk in inner:
            times.append(time.perf_counter())
            if getattr(chunk.message, "chunk_position", None) == "last":
                # A consumer may stop reading at the last chunk (the planner stops at
                # <END_OF_PLAN>); run the model's end-of-call bookkeeping (its ``events``
                # record) now, not when the generator is finally resumed or discarded.
                for _ in inner:
                    pass
            yield chunk


def make_tools(case: Case, timings: ToolTimings, records: list[ToolRecord]) -> list[BaseTool]:
    """Build the case's ``search`` and ``math`` tools (simulated), recording every call.

    The LLMCompiler task number is read from the call's config metadata
    (``llmcompiler_task``), which the graph sets on every task it runs.
    """
    search = make_search_tool(
        latency_s=timings.search_s,
        jitter_s=timings.search_jitter_s,
        seed=case.seed,
        corpus=search_corpus(case),
    )
    math = make_math_tool(latency_s=timings.math_s)
    return [_recording(search, records), _recording(math, records)]


def _recording(tool: StructuredTool, records: list[ToolRecord]) -> StructuredTool:
    inner = tool.func
    assert inner is not None

    def call(config: RunnableConfig, **kwargs: Any) -> Any:
        start = time.perf_counter()
        output = inner(**kwargs)
        task = (config.get("metadata") or {}).get("llmcompiler_task")
        records.append(ToolRecord(tool.name, task, kwargs, start, time.perf_counter()))
        return output

    return StructuredTool.from_function(
        func=call, name=tool.name, description=tool.description, args_schema=tool.args_schema
    )
