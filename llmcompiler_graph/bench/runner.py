"""Run cases with each approach and measure them.

Every run builds fresh scripted models and tools, invokes the real graph (LLMCompiler or a
``create_agent`` baseline) once, and returns a :class:`RunResult`: wall time, the ideal
makespan under the same timings, tokens, cost, the answer and, for LLMCompiler, the
orchestration overhead of every task and a timeline for the Gantt chart.

Timing fidelity on a small machine: :func:`run_suite` runs all LLMCompiler runs one after
another with nothing else going on, then the baselines several at a time (their time is
almost all simulated sleeping). Each baseline run's own measured/ideal ratio is recorded,
so any slowdown from sharing the machine is visible, not hidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage

from llmcompiler_graph.bench.baselines import build_agent, scripted_turns
from llmcompiler_graph.bench.harness import TimedScriptedChatModel, ToolRecord, ToolTimings, make_tools
from llmcompiler_graph.bench.ideal import (
    IdealRound,
    IdealSchedule,
    IdealTask,
    agent_makespan,
    call_seconds,
    line_ready_tokens,
    llmcompiler_schedule,
    token_offset,
)
from llmcompiler_graph.bench.scripts import extract_answer, joiner_reply, plan_text
from llmcompiler_graph.bench.workloads import Case
from llmcompiler_graph.graph import create_llm_compiler
from llmcompiler_graph.sim import CallRecord, LatencyProfile, ScriptedChatModel, cost_of, count_tokens

__all__ = ["APPROACHES", "Approach", "Env", "RunResult", "run_case", "run_suite"]

Approach = Literal["llmcompiler", "react", "parallel"]
APPROACHES: tuple[Approach, ...] = ("llmcompiler", "react", "parallel")


@dataclass(frozen=True)
class Env:
    """What every run shares: the model profile, tool latencies and the concurrency cap."""

    profile: LatencyProfile
    timings: ToolTimings = field(default_factory=ToolTimings)
    max_concurrency: int = 64


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
    overheads_ms: list[float] = field(default_factory=list)
    timeline: dict[str, Any] | None = None

    @property
    def correct(self) -> bool:
        """Tell whether the approach produced the scripted answer."""
        return self.answer.strip() == self.expected.strip()


def run_case(approach: Approach, case: Case, env: Env) -> RunResult:
    """Run ``case`` once with ``approach`` and measure it."""
    if approach == "llmcompiler":
        return _run_llmcompiler(case, env)
    return _run_agent(case, approach, env)


def _totals(events: Sequence[CallRecord], profile: LatencyProfile) -> tuple[int, int, int, float]:
    inp = sum(e.input_tokens for e in events)
    out = sum(e.output_tokens for e in events)
    return len(events), inp, out, sum(cost_of(profile, e.input_tokens, e.output_tokens) for e in events)


def ideal_rounds(case: Case, env: Env) -> list[IdealRound]:
    """Describe ``case``'s rounds for :func:`llmcompiler_schedule` under ``env``'s timings."""
    rounds = []
    for number, round_ in enumerate(case.rounds):
        plan = plan_text(round_)
        ready = line_ready_tokens(plan)
        tasks = tuple(
            IdealTask(
                s.index,
                token_offset(env.profile, ready[s.index]),
                env.timings.duration(s, case.seed),
                s.deps,
            )
            for s in round_.steps
        )
        planner = call_seconds(env.profile, count_tokens(plan))
        joiner = call_seconds(env.profile, count_tokens(joiner_reply(case, number)))
        rounds.append(IdealRound(planner, tasks, joiner))
    return rounds


def _run_llmcompiler(case: Case, env: Env) -> RunResult:
    records: list[ToolRecord] = []
    tools = make_tools(case, env.timings, records)
    planner = TimedScriptedChatModel(responses=[plan_text(r) for r in case.rounds], latency=env.profile)
    joiner = ScriptedChatModel(
        responses=[joiner_reply(case, i) for i in range(len(case.rounds))], latency=env.profile
    )
    app = create_llm_compiler(
        planner, tools, joiner_model=joiner, max_replans=len(case.rounds), max_concurrency=env.max_concurrency
    )
    start = time.perf_counter()
    out = app.invoke({"messages": [("user", case.question)]})
    latency = time.perf_counter() - start
    answer = str(out["messages"][-1].content)
    schedule = llmcompiler_schedule(ideal_rounds(case, env))
    calls, inp, outp, cost = _totals([*planner.events, *joiner.events], env.profile)
    return RunResult(
        case.workload, case.id, "llmcompiler", latency, schedule.makespan, answer, case.answer,
        calls, inp, outp, cost, len(case.steps),
        overheads_ms=_overheads(case, planner, records),
        timeline=_timeline(case, start, planner, joiner, records, schedule),
    )


def _overheads(case: Case, planner: TimedScriptedChatModel, records: list[ToolRecord]) -> list[float]:
    """Per task: tool start minus the moment it could start (line streamed, dependencies done)."""
    by_task = {r.task: r for r in records if r.task is not None}
    overheads = []
    for number, round_ in enumerate(case.rounds):
        times = planner.chunk_times[number]
        ready = line_ready_tokens(plan_text(round_))
        for step in round_.steps:
            record = by_task.get(step.index)
            if record is None or ready[step.index] >= len(times):
                continue
            could = max([times[ready[step.index]], *(by_task[d].end for d in step.deps if d in by_task)])
            overheads.append((record.start - could) * 1000.0)
    return overheads


def _timeline(
    case: Case,
    t0: float,
    planner: ScriptedChatModel,
    joiner: ScriptedChatModel,
    records: list[ToolRecord],
    schedule: IdealSchedule,
) -> dict[str, Any]:
    def call(e: CallRecord) -> list[float]:
        return [e.start - t0, e.first_token - t0, e.end - t0]

    labels = {s.index: f"{s.index}. {s.tool}({next(iter(s.args.values()))!s:.28})" for s in case.steps}
    tasks = [
        {"index": r.task, "label": labels.get(r.task or 0, r.tool), "start": r.start - t0, "end": r.end - t0}
        for r in sorted(records, key=lambda r: r.task or 0)
    ]
    return {
        "case": case.id,
        "workload": case.workload,
        "planner": [call(e) for e in sorted(planner.events, key=lambda e: e.index)],
        "joiner": [call(e) for e in sorted(joiner.events, key=lambda e: e.index)],
        "tasks": tasks,
        "ideal": {"makespan": schedule.makespan, "tasks": {str(k): v for k, v in schedule.tasks.items()}},
    }


def _run_agent(case: Case, approach: Literal["react", "parallel"], env: Env) -> RunResult:
    records: list[ToolRecord] = []
    tools = make_tools(case, env.timings, records)
    turns = scripted_turns(case, approach)
    model = ScriptedChatModel(responses=list(turns), latency=env.profile)
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
                call_seconds(env.profile, e.output_tokens),
                [env.timings.duration(steps[c["id"] or ""], case.seed) for c in turn.tool_calls],
            )
            for e, turn in zip(events, turns, strict=False)
        ]
    )
    calls, inp, outp, cost = _totals(events, env.profile)
    return RunResult(case.workload, case.id, approach, latency, ideal, answer, case.answer,
                     calls, inp, outp, cost, len(case.steps))


def run_suite(
    cases: Sequence[Case],
    env: Env,
    *,
    approaches: Sequence[Approach] = APPROACHES,
    jobs: int = 8,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run every case with every approach: LLMCompiler runs alone, in turn; baselines ``jobs`` at a time.

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

    if "llmcompiler" in approaches:
        for case in cases:
            done(run_case("llmcompiler", case, env))
    baseline_runs = [(a, c) for a in approaches if a != "llmcompiler" for c in cases]
    # Longest first, so the slowest ReAct runs do not start last.
    baseline_runs.sort(key=lambda ac: -len(scripted_turns(ac[1], ac[0])))  # type: ignore[arg-type]
    if jobs <= 1:
        for approach, case in baseline_runs:
            done(run_case(approach, case, env))
    else:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="bench") as pool:
            futures = [pool.submit(run_case, a, c, env) for a, c in baseline_runs]
            for future in as_completed(futures):
                done(future.result())
    return results
