"""The limits benchmark's simulated tools: recorded, optionally self-limited, and batchable.

``search`` and ``math`` sleep like :mod:`llmcompiler_graph.sim`'s tools (same seeded search
jitter, same answers as the main benchmark), sync or async. Every call is logged with its
start, end and the queries it served, and the number of calls running at once is tracked per
tool, so a run can show that a limit held.

``search_many(queries)`` is the batched form used by fusion: one request answering several
queries. It takes as long as its slowest query plus :data:`BATCH_EXTRA_S` per extra query.

Tool-side tokens: every search request carries :data:`REQUEST_OVERHEAD_TOKENS` of fixed
overhead (the instructions an LLM-backed search service sends with each request) plus its
queries; the response is the results' tokens. A batched request pays the overhead once,
which is what fusion saves in tokens. The planner's and joiner's tokens do not change with
fusion: every fused task keeps its own transcript entry.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from benchmarks.harness import ToolTimings
from benchmarks.scripts import search_corpus
from benchmarks.workloads import Case
from llmcompiler_graph.sim import (
    count_tokens,
    simulated_latency,
    simulated_math_tool,
    simulated_search_tool,
)

__all__ = ["BATCH_EXTRA_S", "REQUEST_OVERHEAD_TOKENS", "CallLog", "ToolBench"]

REQUEST_OVERHEAD_TOKENS = 150
"""Fixed tokens of every search request (simulated): instructions sent with each call."""
BATCH_EXTRA_S = 0.05
"""Extra seconds a batched search takes per query beyond the first (simulated)."""


@dataclass(frozen=True)
class CallLog:
    """One tool call as it ran (``time.perf_counter`` seconds).

    Attributes:
        tool: ``search`` or ``math`` (a batched search is logged as ``search``).
        keys: The query (search) or problem (math) of each call it served; several if batched.
        start: When the tool's body began (after any self-imposed limit let it in).
        end: When it returned.
        tokens: Tool-side tokens (request + response; 0 for math).

    """

    tool: str
    keys: tuple[str, ...]
    start: float
    end: float
    tokens: int = 0


class ToolBench:
    """The tools of one run, and what they recorded."""

    def __init__(
        self,
        case: Case,
        timings: ToolTimings,
        *,
        self_limits: Mapping[str, int] | None = None,
    ) -> None:
        """Prepare the case's tools.

        Args:
            case: The case (its search corpus and jitter seed).
            timings: Simulated latencies.
            self_limits: Limits the tools enforce themselves (a semaphore around the body),
                for agents that cannot limit a tool; LLMCompiler runs get ``tool_limits``.

        """
        self.case = case
        self.timings = timings
        self.calls: list[CallLog] = []
        self.peak: dict[str, int] = {}
        self.peak_total = 0
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()
        self._corpus = search_corpus(case)
        self._gates = {t: threading.BoundedSemaphore(n) for t, n in (self_limits or {}).items()}
        self._math = simulated_math_tool(latency_s=timings.math_s)
        self._search = simulated_search_tool(corpus=self._corpus)  # only for its schema

    # -- simulated bodies ---------------------------------------------------------------

    def _latency(self, query: str) -> float:
        t = self.timings
        return simulated_latency(
            query, latency_s=t.search_s, jitter_s=t.search_jitter_s, seed=self.case.seed
        )

    def _batch_latency(self, queries: list[str]) -> float:
        return max(self._latency(q) for q in queries) + BATCH_EXTRA_S * (len(queries) - 1)

    def _answer(self, query: str) -> str:
        return self._corpus.get(query, f"No indexed page for '{query}'.")

    def _tokens(self, queries: list[str], answers: list[str]) -> int:
        request = REQUEST_OVERHEAD_TOKENS + sum(count_tokens(q) for q in queries)
        return request + sum(count_tokens(a) for a in answers)

    def _enter(self, tool: str) -> float:
        with self._lock:
            self._running[tool] = self._running.get(tool, 0) + 1
            self.peak[tool] = max(self.peak.get(tool, 0), self._running[tool])
            self.peak_total = max(self.peak_total, sum(self._running.values()))
        return time.perf_counter()

    def _leave(self, tool: str, keys: list[str], start: float, tokens: int) -> None:
        end = time.perf_counter()
        with self._lock:
            self._running[tool] -= 1
            self.calls.append(CallLog(tool, tuple(keys), start, end, tokens))

    def _gate(self, tool: str) -> Any:
        gate = self._gates.get(tool)
        return gate if gate is not None else _NoGate()

    # -- the tools ----------------------------------------------------------------------

    def search_many(self, queries: list[str]) -> list[str]:
        """Answer several queries in one (simulated) request; the batched form of ``search``."""
        with self._gate("search"):
            start = self._enter("search")
            time.sleep(self._batch_latency(queries))
            answers = [self._answer(q) for q in queries]
            self._leave("search", queries, start, self._tokens(queries, answers))
        return answers

    async def asearch_many(self, queries: list[str]) -> list[str]:
        """Async :meth:`search_many`."""
        start = self._enter("search")
        await asyncio.sleep(self._batch_latency(queries))
        answers = [self._answer(q) for q in queries]
        self._leave("search", queries, start, self._tokens(queries, answers))
        return answers

    def search(self) -> StructuredTool:
        """Return the ``search`` tool (one query per call), sync and async."""

        def run(query: str) -> str:
            return self.search_many([query])[0]

        async def arun(query: str) -> str:
            return (await self.asearch_many([query]))[0]

        return StructuredTool.from_function(
            func=run,
            coroutine=arun,
            name="search",
            description=self._search.description,
            args_schema=self._search.args_schema,
        )

    def math(self) -> StructuredTool:
        """Return the ``math`` tool, sync and async."""
        inner = self._math
        sync, coro = inner.func, inner.coroutine
        assert sync is not None and coro is not None

        def run(problem: str, context: list[str] | None = None) -> str:
            with self._gate("math"):
                start = self._enter("math")
                out = str(sync(problem=problem, context=context))
                self._leave("math", [problem], start, 0)
            return out

        async def arun(problem: str, context: list[str] | None = None) -> str:
            start = self._enter("math")
            out = str(await coro(problem=problem, context=context))
            self._leave("math", [problem], start, 0)
            return out

        return StructuredTool.from_function(
            func=run,
            coroutine=arun,
            name="math",
            description=inner.description,
            args_schema=inner.args_schema,
        )

    def tools(self) -> list[BaseTool]:
        """Return ``[search, math]``."""
        return [self.search(), self.math()]

    def batch_forms(
        self,
    ) -> tuple[Callable[[list[str]], list[str]], Callable[[list[str]], Any]]:
        """Return the batched search, sync and async."""
        return self.search_many, self.asearch_many


class _NoGate:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
