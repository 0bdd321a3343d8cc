"""Instrumented simulation pieces: tool timings, recording tools, the benchmark's model.

Built on :mod:`llmcompiler_graph.sim`. Two additions: prompt-processing (prefill) time per
input token, which the sim's fixed time to first token leaves out; and recording (when each
call began, when each streamed chunk left the model, when each tool call started and ended
and for which LLMCompiler task), so the benchmark can measure orchestration overhead and
draw timelines without touching the code paths it measures. What keeps the machine steady
during a session (:func:`~.steady.cpus_kept_awake`, :func:`~.steady.heap_settled`) is in
:mod:`.steady`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import Field, PrivateAttr

from benchmarks.scripts import search_corpus
from benchmarks.workloads import Case, Step
from llmcompiler_graph.sim import (
    LatencyProfile,
    PrefixCache,
    ScriptedChatModel,
    simulated_latency,
    simulated_math_tool,
    simulated_search_tool,
)

__all__ = [
    "PREFILL_S_PER_TOKEN",
    "ZERO_TIMINGS",
    "BenchChatModel",
    "ToolRecord",
    "ToolTimings",
    "bench_model",
    "make_tools",
    "prefill_for",
    "run_coroutine",
]


T = TypeVar("T")


def run_coroutine(make: Callable[[], Awaitable[T]]) -> T:
    """Run ``make()`` to completion on a fresh event loop and return its result.

    ``asyncio.run`` refuses to start inside a running loop (a Jupyter cell), so there the
    coroutine runs on its own loop in a helper thread.
    """

    async def main() -> T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(1, thread_name_prefix="bench-loop") as pool:
        return pool.submit(asyncio.run, main()).result()


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
                str(step.args["query"]),
                latency_s=self.search_s,
                jitter_s=self.search_jitter_s,
                seed=seed,
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


PREFILL_S_PER_TOKEN: dict[str, float] = {
    "instant": 0.0,
    "gpt-3.5-like": 0.00004,
    "gpt-4-like": 0.00012,
}
"""Prompt-processing time per input token, added before the first token (seconds).

The sim's profiles give a fixed time to first token; real endpoints take longer on longer
prompts. These slopes approximate public TTFT-versus-prompt-length measurements (about
0.04 s per 1,000 prompt tokens for gpt-3.5-turbo, 0.12 s for gpt-4-turbo; 2023-2024
latency trackers). They matter most for ReAct, whose prompt grows every turn.
"""


def prefill_for(profile: LatencyProfile) -> float:
    """Return the prefill slope for ``profile`` (0 for profiles not listed)."""
    return PREFILL_S_PER_TOKEN.get(profile.name, 0.0)


class BenchChatModel(ScriptedChatModel):
    """A :class:`ScriptedChatModel` that records call and chunk times.

    Its prefill (``prefill_s_per_token`` for each input token the simulated provider cache,
    if any, did not serve) delays the first chunk, as in any scripted model. Both the sync
    and the async path are instrumented (the limits benchmark runs LLMCompiler both ways).
    """

    call_starts: list[float] = Field(default_factory=list, exclude=True)
    """Per call (in start order), when the call began (before prefill)."""
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
        start, times = time.perf_counter(), list[float]()
        with self._times_lock:
            self.call_starts.append(start)
            self.chunk_times.append(times)
        inner = super()._stream(messages, stop, run_manager, **kwargs)
        try:
            for chunk in inner:
                times.append(time.perf_counter())
                yield chunk
        finally:
            # A consumer that stops reading early closes us; close the scripted stream too,
            # so it records the call (ScriptedChatModel records in its own ``finally``).
            if isinstance(inner, Generator):
                inner.close()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        start, times = time.perf_counter(), list[float]()
        with self._times_lock:
            self.call_starts.append(start)
            self.chunk_times.append(times)
        inner = super()._astream(messages, stop, run_manager, **kwargs)
        try:
            async for chunk in inner:
                times.append(time.perf_counter())
                yield chunk
        finally:
            if isinstance(inner, AsyncGenerator):
                await inner.aclose()


def bench_model(
    responses: list[Any],
    profile: LatencyProfile,
    *,
    stream_tool_calls: bool = False,
    prompt_cache: PrefixCache | None = None,
) -> BenchChatModel:
    """Build a scripted model with ``profile``'s latency and the matching prefill slope.

    With ``stream_tool_calls`` its tool calls stream as deltas timed like text (see
    :func:`~llmcompiler_graph.sim.tool_call_stream`); with ``prompt_cache`` its prompts are
    served from that simulated provider cache where they repeat a prefix.
    """
    return BenchChatModel(
        responses=responses,
        latency=profile,
        prefill_s_per_token=prefill_for(profile),
        prompt_cache=prompt_cache,
        stream_tool_calls=stream_tool_calls,
    )


def make_tools(case: Case, timings: ToolTimings, records: list[ToolRecord]) -> list[BaseTool]:
    """Build the case's ``search`` and ``math`` tools (simulated, sync and async), recording calls.

    The LLMCompiler task number is read from the call's config metadata
    (``llmcompiler_task``), which the graph sets on every task it runs.
    """
    search = simulated_search_tool(
        latency_s=timings.search_s,
        jitter_s=timings.search_jitter_s,
        seed=case.seed,
        corpus=search_corpus(case),
    )
    math = simulated_math_tool(latency_s=timings.math_s)
    return [_recording(search, records), _recording(math, records)]


def _recording(tool: StructuredTool, records: list[ToolRecord]) -> StructuredTool:
    inner, ainner = tool.func, tool.coroutine
    assert inner is not None and ainner is not None

    def record(config: RunnableConfig, kwargs: dict[str, Any], start: float) -> None:
        task = (config.get("metadata") or {}).get("llmcompiler_task")
        records.append(ToolRecord(tool.name, task, kwargs, start, time.perf_counter()))

    def call(config: RunnableConfig, **kwargs: Any) -> Any:
        start = time.perf_counter()
        output = inner(**kwargs)
        record(config, kwargs, start)
        return output

    async def acall(config: RunnableConfig, **kwargs: Any) -> Any:
        start = time.perf_counter()
        output = await ainner(**kwargs)
        record(config, kwargs, start)
        return output

    return StructuredTool.from_function(
        func=call,
        coroutine=acall,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
    )
