"""Run one case under limits with an agent baseline: ReAct or parallel tool calling.

The agents cannot limit one tool, so their ``search`` tool limits itself: a semaphore
around its body, like an API that serves 2 requests at once. Their lower bound adds up, per
turn, the model call and the turn's tool calls under the same limits.
"""

from __future__ import annotations

import time
from typing import Literal

from langchain_core.messages import AIMessage

from benchmarks.baselines import build_agent, scripted_turns
from benchmarks.harness import bench_model, prefill_for
from benchmarks.ideal import IdealRound, IdealTask, call_seconds
from benchmarks.limits.bound import round_bound
from benchmarks.limits.measured import model_calls, tool_figures
from benchmarks.limits.runner import LimitEnv, LimitRun
from benchmarks.limits.tools import ToolBench
from benchmarks.scripts import extract_answer
from benchmarks.workloads import Case

__all__ = ["run_agent"]


def run_agent(case: Case, env: LimitEnv, approach: Literal["react", "parallel"]) -> LimitRun:
    """Run ``case`` once with an agent baseline; its tools enforce the per-tool limits."""
    bench = ToolBench(case, env.timings, self_limits=env.limits.tool_limits)
    turns = scripted_turns(case, approach)
    model = bench_model(list(turns), env.profile)
    agent = build_agent(model, bench.tools(), approach)
    config = {
        "max_concurrency": env.limits.max_concurrency or 64,
        "recursion_limit": 4 * len(turns) + 10,
    }
    start = time.perf_counter()
    out = agent.invoke({"messages": [("user", case.question)]}, config)
    latency = time.perf_counter() - start
    final = next((m for m in reversed(out["messages"]) if isinstance(m, AIMessage)), None)
    steps = {f"call_{s.index}": s for s in case.steps}
    events = sorted(model.events, key=lambda e: e.index)
    bound = 0.0
    for event, turn in zip(events, turns, strict=False):
        prefill = prefill_for(env.profile) * event.input_tokens
        bound += call_seconds(env.profile, event.output_tokens, prefill)
        tasks = tuple(
            IdealTask(n, 0.0, env.timings.duration(steps[c["id"] or ""], case.seed), (), c["name"])
            for n, c in enumerate(turn.tool_calls, 1)
        )
        if tasks:
            bound += round_bound(IdealRound(0.0, tasks, 0.0), env.limits)[0]
    calls, inp, outp = model_calls(model)
    return LimitRun(
        case.workload,
        case.id,
        approach,
        "",
        "sync",
        latency,
        bound,
        "per turn",
        None,
        extract_answer(str(final.content)) if final is not None else "",
        case.answer,
        calls,
        inp,
        outp,
        **tool_figures(case, bench),
    )
