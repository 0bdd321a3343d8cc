"""Run one hazard case with LLMCompiler and compare it with the sequential run and the ideal.

Every run builds fresh scripted models (latency-faithful: time to first token, streaming
rate, prefill per prompt token) and fresh files, runs the real graph once, sync or async,
with or without ``tool_effects``, and returns a :class:`HazardRun`: wall time, the ideal
schedule under the same ordering edges (every call starting the moment its line has
streamed, its ``$N`` inputs are done and every earlier call it conflicts with has ended;
no limit, no overhead), the ideal without ordering edges, and whether every task's result
and the files at the end equal the sequential run's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import HumanMessage, ToolMessage

from benchmarks.harness import BenchChatModel, bench_model, prefill_for, run_coroutine
from benchmarks.hazards.workload import (
    TOOL_EFFECTS,
    Files,
    FileTimings,
    HazardCase,
    make_tools,
    run_sequentially,
)
from benchmarks.ideal import (
    IdealRound,
    IdealTask,
    call_close_tokens,
    call_seconds,
    llmcompiler_schedule,
    token_offset,
)
from llmcompiler_graph.compiler import create_llm_compiler
from llmcompiler_graph.fetching.hazards import Effects, Hazards, conflict_edges
from llmcompiler_graph.sim import LatencyProfile, count_tokens
from llmcompiler_graph.state import result_record

__all__ = ["HazardEnv", "HazardRun", "Path", "ideal_round", "ordering_edges", "run_case"]

Path = Literal["sync", "async"]

_EFFECTS = {name: Effects.parse(spec) for name, spec in TOOL_EFFECTS.items()}


@dataclass(frozen=True)
class HazardEnv:
    """What every run shares: the model profile, the tools' latencies, the concurrency cap."""

    profile: LatencyProfile
    timings: FileTimings
    max_concurrency: int = 16


@dataclass
class HazardRun:
    """The measurements of one run (seconds)."""

    case_id: str
    path: str
    ordered: bool
    """Whether the graph had ``tool_effects`` (ordering edges)."""
    latency: float
    ideal: float
    """The ideal schedule's makespan under the ordering edges."""
    ideal_unordered: float
    """The ideal schedule's makespan with ``$N`` edges only (what ignoring hazards would allow)."""
    identical: bool
    """Whether every result and every file equals the sequential run's."""
    differences: list[str] = field(default_factory=list)
    tasks: int = 0
    edges: int = 0
    """Ordering edges in the plan (direct ones, as drawn)."""
    answer: str = ""


def ordering_edges(case: HazardCase) -> dict[int, tuple[int, ...]]:
    """Return each step's earlier conflicting steps (every one it must follow)."""
    hazards = Hazards()
    return {s.index: hazards.add(s.index, _EFFECTS.get(s.tool)).conflicts for s in case.steps}


def ideal_round(
    case: HazardCase,
    env: HazardEnv,
    planner_input: int = 0,
    joiner_input: int = 0,
    *,
    ordered: bool = True,
) -> IdealRound:
    """Describe the case's one round for the ideal schedule (with the ordering edges or not)."""
    slope = prefill_for(env.profile)
    ready = call_close_tokens(case.plan)
    edges = ordering_edges(case) if ordered else {}
    plan_prefill = slope * planner_input
    tasks = tuple(
        IdealTask(
            s.index,
            plan_prefill + token_offset(env.profile, ready[s.index]),
            env.timings.duration(s, case.seed),
            tuple(sorted({*s.deps, *edges.get(s.index, ())})),
            s.tool,
        )
        for s in case.steps
    )
    planner = call_seconds(env.profile, count_tokens(case.plan), plan_prefill)
    joiner = call_seconds(env.profile, count_tokens(case.joiner), slope * joiner_input)
    return IdealRound(planner, tasks, joiner)


def _input(model: BenchChatModel) -> int:
    events = sorted(model.events, key=lambda e: e.index)
    return events[0].input_tokens if events else 0


def run_case(
    case: HazardCase, env: HazardEnv, path: Path = "sync", *, ordered: bool = True
) -> HazardRun:
    """Run ``case`` once and compare it with the sequential run and the ideal schedule."""
    files = Files()
    planner = bench_model([case.plan], env.profile)
    joiner = bench_model([case.joiner], env.profile)
    app = create_llm_compiler(
        planner,
        make_tools(files, env.timings, case.seed),
        joiner_model=joiner,
        max_concurrency=env.max_concurrency,
        tool_effects=dict(TOOL_EFFECTS) if ordered else None,
    )
    inputs: Any = {"messages": [HumanMessage(case.question)]}
    if path == "async":

        async def go() -> tuple[Any, float]:
            began = time.perf_counter()
            result = await app.ainvoke(inputs)
            return result, time.perf_counter() - began

        out, latency = run_coroutine(go)
    else:
        began = time.perf_counter()
        out = app.invoke(inputs)
        latency = time.perf_counter() - began
    results: dict[int, str] = {}
    for message in out["messages"]:
        if isinstance(message, ToolMessage):
            record = result_record(message)
            results[int(record["index"])] = str(record.get("value", message.content))
    expected, expected_files = run_sequentially(case)
    differences = [f"task {i}" for i in sorted(expected) if results.get(i) != expected[i]]
    differences += [
        f"file {p}" for p in sorted(expected_files) if files.contents.get(p) != expected_files[p]
    ]
    p_in, j_in = _input(planner), _input(joiner)
    direct = conflict_edges((s.index, _EFFECTS.get(s.tool)) for s in case.steps)
    return HazardRun(
        case.id,
        path,
        ordered,
        latency,
        llmcompiler_schedule([ideal_round(case, env, p_in, j_in)]).makespan,
        llmcompiler_schedule([ideal_round(case, env, p_in, j_in, ordered=False)]).makespan,
        not differences,
        differences,
        len(case.steps),
        sum(len(after) for after in direct.values()),
        str(out["messages"][-1].content),
    )
