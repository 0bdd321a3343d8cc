"""Run cases with each approach and measure them.

Every run builds fresh scripted models and tools, invokes the real graph (LLMCompiler or a
``create_agent`` baseline) once, and returns a :class:`RunResult`: wall time, the ideal
makespan under the same timings, tokens, cost, the answer and, for LLMCompiler, the
orchestration overhead of every task and a timeline for the Gantt chart.

LLMCompiler runs both ways: ``invoke`` (sync nodes, tools on worker threads) and
``ainvoke`` (``llmcompiler-async``: async nodes, the async task fetching unit, async tools);
``llmcompiler-tool-calls`` is ``invoke`` with ``plan_format="tool_calls"``: the planner emits
the same calls as streamed tool-call deltas, timed by the same latency model.

Timing fidelity on a small machine: :func:`run_suite` runs all LLMCompiler runs one after
another with nothing else going on, then the baselines several at a time (their time is
almost all simulated sleeping). Each baseline run's own measured/ideal ratio is recorded,
so any slowdown from sharing the machine is visible, not hidden.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage

from benchmarks.baselines import build_agent, scripted_turns
from benchmarks.harness import (
    BenchChatModel,
    ToolRecord,
    ToolTimings,
    bench_model,
    make_tools,
    prefill_for,
    run_coroutine,
)
from benchmarks.ideal import agent_makespan, call_seconds, llmcompiler_schedule
from benchmarks.measures import ideal_rounds, overheads, timeline
from benchmarks.scripts import extract_answer, joiner_reply, plan_text, plan_tool_calls
from benchmarks.workloads import Case
from llmcompiler_graph.compiler import create_llm_compiler
from llmcompiler_graph.sim import CACHE_RULES, LatencyProfile, PrefixCache

__all__ = ["APPROACHES", "OURS", "Approach", "Env", "RunResult", "run_case", "run_suite"]

Approach = Literal[
    "llmcompiler", "llmcompiler-async", "llmcompiler-tool-calls", "react", "parallel"
]
APPROACHES: tuple[Approach, ...] = (
    "llmcompiler",
    "llmcompiler-async",
    "llmcompiler-tool-calls",
    "react",
    "parallel",
)
"""``llmcompiler-async`` is the same graph run with ``ainvoke`` (async nodes, async tools);
``llmcompiler-tool-calls`` plans with native tool calls (``plan_format="tool_calls"``)."""
OURS: tuple[Approach, ...] = ("llmcompiler", "llmcompiler-async", "llmcompiler-tool-calls")


@dataclass(frozen=True)
class Env:
    """What every run shares: the model profile, tool latencies and the concurrency cap.

    With ``cache`` (a provider's rules, a key of :data:`~llmcompiler_graph.sim.CACHE_RULES`),
    the models are served from a simulated prompt cache: one per approach (its planner and
    joiner are one deployment), kept across every run that shares this ``Env``.
    """

    profile: LatencyProfile
    timings: ToolTimings = field(default_factory=ToolTimings)
    max_concurrency: int = 64
    cache: str | None = None
    caches: dict[str, PrefixCache] = field(default_factory=dict, compare=False, repr=False)

    def cache_for(self, approach: str) -> PrefixCache | None:
        """Return ``approach``'s simulated prompt cache (``None`` without ``cache``)."""
        if self.cache is None:
            return None
        with _CACHES_LOCK:
            return self.caches.setdefault(approach, PrefixCache(CACHE_RULES[self.cache]))


_CACHES_LOCK = threading.Lock()


@dataclass
class RunResult:
    """The measurements of one case run with one approach (times in seconds)."""

    workload: str
    case_id: str
    approach: str
    latency: float
    ideal: float
    answer: str
    expected: str
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cost: float
    tasks: int
    call_tokens: list[tuple[int, int]] = field(default_factory=list)
    """(input, output) tokens of each model call, in call order."""
    overheads_ms: list[float] = field(default_factory=list)
    timeline: dict[str, Any] | None = None
    cached_tokens: int = 0
    """Input tokens served from the simulated prompt cache (0 without one)."""
    ttft_s: float | None = None
    """Mean time to first token of the run's model calls (measured)."""
    planner_tokens: list[tuple[int, int]] = field(default_factory=list)
    """(input, cached) tokens of each planner call (every model call for the agents)."""

    @property
    def correct(self) -> bool:
        """Tell whether the approach produced the scripted answer."""
        return self.answer.strip() == self.expected.strip()


def run_case(approach: Approach, case: Case, env: Env) -> RunResult:
    """Run ``case`` once with ``approach`` and measure it."""
    if approach == "llmcompiler":
        return _run_llmcompiler(case, env)
    if approach == "llmcompiler-async":
        return _run_llmcompiler(case, env, run_async=True)
    if approach == "llmcompiler-tool-calls":
        return _run_llmcompiler(case, env, tool_calls=True)
    return _run_agent(case, approach, env)


def _calls(*models: BenchChatModel) -> list[tuple[int, int]]:
    events = [e for m in models for e in sorted(m.events, key=lambda e: e.index)]
    return [(e.input_tokens, e.output_tokens) for e in sorted(events, key=lambda e: e.start)]


def _totals(*models: BenchChatModel) -> tuple[int, int, int, float, int]:
    """Return calls, input, output and cached tokens and the cost (at the cache's prices)."""
    events = [e for m in models for e in m.events]
    inp = sum(e.input_tokens for e in events)
    out = sum(e.output_tokens for e in events)
    cached = sum(e.cached_tokens for e in events)
    return len(events), inp, out, sum(m.cost_usd() for m in models), cached


def _inputs(model: BenchChatModel) -> list[float]:
    """Return each call's prefill-equivalent input tokens (a cached token counts its share)."""
    share = model.prompt_cache.rules.prefill_share if model.prompt_cache is not None else 1.0
    return [
        e.input_tokens - e.cached_tokens * (1.0 - share)
        for e in sorted(model.events, key=lambda e: e.index)
    ]


def ttft(*models: BenchChatModel) -> float | None:
    """Return the mean measured time to first token (first chunk) of the models' calls."""
    gaps = [
        times[0] - start
        for m in models
        for start, times in zip(m.call_starts, m.chunk_times, strict=False)
        if times
    ]
    return sum(gaps) / len(gaps) if gaps else None


def planner_tokens(model: BenchChatModel) -> list[tuple[int, int]]:
    """Return (input, cached) tokens of each of ``model``'s calls, in call order."""
    return [(e.input_tokens, e.cached_tokens) for e in sorted(model.events, key=lambda e: e.index)]


def _run_llmcompiler(
    case: Case, env: Env, *, run_async: bool = False, tool_calls: bool = False
) -> RunResult:
    records: list[ToolRecord] = []
    tools = make_tools(case, env.timings, records)
    plans = [plan_tool_calls(r) if tool_calls else plan_text(r) for r in case.rounds]
    name = (
        "llmcompiler-tool-calls"
        if tool_calls
        else ("llmcompiler-async" if run_async else "llmcompiler")
    )
    cache = env.cache_for(name)
    planner = bench_model(plans, env.profile, stream_tool_calls=tool_calls, prompt_cache=cache)
    joiner = bench_model(
        [joiner_reply(case, i) for i in range(len(case.rounds))], env.profile, prompt_cache=cache
    )
    app = create_llm_compiler(
        planner,
        tools,
        joiner_model=joiner,
        max_replans=len(case.rounds),
        max_concurrency=env.max_concurrency,
        plan_format="tool_calls" if tool_calls else "text",
    )
    inputs: Any = {"messages": [HumanMessage(case.question)]}
    if run_async:

        async def go() -> tuple[Any, float, float]:
            began = time.perf_counter()
            result = await app.ainvoke(inputs)
            return result, began, time.perf_counter() - began

        out, start, latency = run_coroutine(go)
    else:
        start = time.perf_counter()
        out = app.invoke(inputs)
        latency = time.perf_counter() - start
    answer = str(out["messages"][-1].content)
    rounds = ideal_rounds(
        case, env.profile, env.timings, _inputs(planner), _inputs(joiner), tool_calls=tool_calls
    )
    schedule = llmcompiler_schedule(rounds)
    per_call = _calls(planner, joiner)
    calls, inp, outp, cost, cached = _totals(planner, joiner)
    return RunResult(
        case.workload,
        case.id,
        name,
        latency,
        schedule.makespan,
        answer,
        case.answer,
        calls,
        inp,
        outp,
        cost,
        len(case.steps),
        per_call,
        overheads_ms=overheads(case, planner, records, tool_calls=tool_calls),
        timeline=timeline(case, start, planner, joiner, records, schedule),
        cached_tokens=cached,
        ttft_s=ttft(planner, joiner),
        planner_tokens=planner_tokens(planner),
    )


def _run_agent(case: Case, approach: Literal["react", "parallel"], env: Env) -> RunResult:
    records: list[ToolRecord] = []
    tools = make_tools(case, env.timings, records)
    turns = scripted_turns(case, approach)
    model = bench_model(list(turns), env.profile, prompt_cache=env.cache_for(approach))
    agent = build_agent(model, tools, approach)
    config = {"max_concurrency": env.max_concurrency, "recursion_limit": 4 * len(turns) + 10}
    start = time.perf_counter()
    out = agent.invoke({"messages": [("user", case.question)]}, config)
    latency = time.perf_counter() - start
    final = next((m for m in reversed(out["messages"]) if isinstance(m, AIMessage)), None)
    answer = extract_answer(str(final.content)) if final is not None else ""
    steps = {f"call_{s.index}": s for s in case.steps}
    events = sorted(model.events, key=lambda e: e.index)
    ideal = agent_makespan(
        [
            (
                call_seconds(env.profile, e.output_tokens, prefill_for(env.profile) * tokens),
                [env.timings.duration(steps[c["id"] or ""], case.seed) for c in turn.tool_calls],
            )
            for e, tokens, turn in zip(events, _inputs(model), turns, strict=False)
        ]
    )
    per_call = _calls(model)
    calls, inp, outp, cost, cached = _totals(model)
    return RunResult(
        case.workload,
        case.id,
        approach,
        latency,
        ideal,
        answer,
        case.answer,
        calls,
        inp,
        outp,
        cost,
        len(case.steps),
        per_call,
        cached_tokens=cached,
        ttft_s=ttft(model),
        planner_tokens=planner_tokens(model),
    )


def run_suite(
    cases: Sequence[Case],
    env: Env,
    *,
    approaches: Sequence[Approach] = APPROACHES,
    jobs: int = 8,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run every case with every approach: LLMCompiler runs alone; baselines ``jobs`` at a time.

    Args:
        cases: The cases to run.
        env: Profile, tool timings and concurrency cap shared by all runs.
        approaches: Which approaches to run.
        jobs: How many baseline runs share the machine at once (1: strictly one at a time).
        on_result: Called after each run (e.g. to advance a progress bar).

    """
    results: list[RunResult] = []

    def done(result: RunResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    for ours in [a for a in OURS if a in approaches]:
        for case in cases:
            done(run_case(ours, case, env))
    baseline_runs: list[tuple[Literal["react", "parallel"], Case]] = [
        (a, c) for a in approaches if a in ("react", "parallel") for c in cases
    ]
    # Longest first, so the slowest ReAct runs do not start last.
    baseline_runs.sort(key=lambda ac: -len(scripted_turns(ac[1], ac[0])))
    if jobs <= 1:
        for approach, case in baseline_runs:
            done(run_case(approach, case, env))
    else:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="bench") as pool:
            futures = [pool.submit(run_case, a, c, env) for a, c in baseline_runs]
            for future in as_completed(futures):
                done(future.result())
    return results
