"""Run one case under limits with LLMCompiler (FIFO, critical path, fused; sync or async).

Every run builds fresh scripted models and tools (:class:`~.tools.ToolBench`), runs the real
graph once and returns a :class:`LimitRun`: wall time, the lower bound under the same limits
(:func:`~.bound.limited_bound`), the zero-overhead replay of the same policy
(:func:`~.replay.list_schedule`), calls, tokens, the peak number of calls at once per tool
(so a run shows that its limit held), dispatch latencies and a timeline (the figures read
from the models' and tools' logs by :mod:`.measured`).

The agents' runs (ReAct, parallel tool calling) are in :mod:`.agents`.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from benchmarks.harness import BenchChatModel, ToolTimings, bench_model, run_coroutine
from benchmarks.limits.bound import Limits, limited_bound
from benchmarks.limits.dispatch import ToolStarts, dispatch_latencies
from benchmarks.limits.measured import model_calls, served_calls, timeline, tool_figures
from benchmarks.limits.replay import list_schedule
from benchmarks.limits.tools import BATCH_EXTRA_S, ToolBench
from benchmarks.measures import ideal_rounds
from benchmarks.scripts import joiner_reply, plan_text
from benchmarks.workloads import Case
from llmcompiler_graph.compiler import create_llm_compiler
from llmcompiler_graph.context import Context
from llmcompiler_graph.sim import LatencyProfile

__all__ = [
    "FUSED",
    "LimitEnv",
    "LimitRun",
    "Path",
    "UnsupportedError",
    "Variant",
    "run_llmcompiler",
    "supported",
]

Variant = Literal["fifo", "critical_path", "fused", "fused_plan", "unlimited"]
"""``fused``: critical path and ``fuse="waiting"``; ``fused_plan``: critical path and
``fuse="plan"``; ``unlimited``: no per-tool limits, default priority (the dispatch runs)."""
FUSED: tuple[Variant, ...] = ("fused", "fused_plan")
Path = Literal["sync", "async"]


class UnsupportedError(RuntimeError):
    """Raised when the installed graph lacks a feature a variant needs."""


@dataclass(frozen=True)
class LimitEnv:
    """What every run of a workload shares: model profile, tool latencies, limits."""

    profile: LatencyProfile
    timings: ToolTimings
    limits: Limits


@dataclass
class LimitRun:
    """The measurements of one run (seconds, tokens; ``variant`` is empty for agents)."""

    workload: str
    case_id: str
    approach: str
    variant: str
    path: str
    latency: float
    bound: float
    binding: str
    replay: float | None
    answer: str
    expected: str
    llm_calls: int
    input_tokens: int
    output_tokens: int
    tool_calls: dict[str, int]
    tasks: int
    tool_tokens: int
    peak: dict[str, int]
    peak_total: int
    dispatch_ms: dict[str, list[float]] = field(default_factory=dict)
    timeline: dict[str, Any] | None = None
    checkpointer: bool = False
    """Whether the graph ran with a checkpointer (its durable journal on)."""

    @property
    def correct(self) -> bool:
        """Tell whether the run produced the scripted answer."""
        return self.answer.strip() == self.expected.strip()


def _settings() -> set[str]:
    """Return what ``create_llm_compiler`` accepts: its parameters and the context's fields."""
    return set(inspect.signature(create_llm_compiler).parameters) | {
        f.name for f in fields(Context)
    }


def supported(variant: Variant, limits: Limits | None = None) -> str | None:
    """Return why ``variant`` cannot run with the installed graph, or ``None`` if it can."""
    accepted = _settings()
    if variant == "unlimited":
        return None
    if (limits is None or limits.tool_limits) and "tool_limits" not in accepted:
        return "create_llm_compiler has no tool_limits yet"
    if "priority" not in accepted:
        return "create_llm_compiler has no priority yet"
    if variant in FUSED and "batch_tools" not in accepted:
        return "create_llm_compiler has no batch_tools yet"
    return None


def _compiler_kwargs(variant: Variant, env: LimitEnv, bench: ToolBench) -> dict[str, Any]:
    why = supported(variant, env.limits)
    if why is not None:
        raise UnsupportedError(why)
    kwargs: dict[str, Any] = {"max_concurrency": env.limits.max_concurrency or 64}
    if variant == "unlimited":
        return kwargs
    kwargs["priority"] = "fifo" if variant == "fifo" else "critical_path"
    if env.limits.tool_limits:
        kwargs["tool_limits"] = dict(env.limits.tool_limits)
    if variant in FUSED:
        kwargs["batch_tools"] = {"search": bench.batch_forms()}
        kwargs["fuse"] = "plan" if variant == "fused_plan" else "waiting"
    return kwargs


def _inputs(model: BenchChatModel) -> list[int]:
    return [e.input_tokens for e in sorted(model.events, key=lambda e: e.index)]


def run_llmcompiler(
    case: Case, env: LimitEnv, variant: Variant, path: Path = "sync", *, checkpointer: bool = False
) -> LimitRun:
    """Run ``case`` once with LLMCompiler under ``env``'s limits, the given way.

    With ``checkpointer``, the graph is compiled with an in-memory checkpointer (as under
    ``langgraph dev`` or LangGraph Platform, which always have one): its rounds journal
    their plans and results (``llmcompiler_graph.nodes.journal``).
    """
    bench = ToolBench(case, env.timings)
    planner = bench_model([plan_text(r) for r in case.rounds], env.profile)
    joiner = bench_model([joiner_reply(case, i) for i in range(len(case.rounds))], env.profile)
    app = create_llm_compiler(
        planner,
        bench.tools(),
        joiner_model=joiner,
        max_replans=len(case.rounds),
        checkpointer=InMemorySaver() if checkpointer else None,
        **_compiler_kwargs(variant, env, bench),
    )
    inputs: Any = {"messages": [HumanMessage(case.question)]}
    # The dispatch runs also note when LangChain's tool call begins (one callback per call).
    handed = ToolStarts() if variant == "unlimited" else None
    config: Any = {"callbacks": [handed]} if handed is not None else {}
    if checkpointer:
        config["configurable"] = {"thread_id": f"{case.workload}-{case.id}-{path}"}
    if path == "async":

        async def go() -> tuple[Any, float, float]:
            began = time.perf_counter()
            result = await app.ainvoke(inputs, config)
            return result, began, time.perf_counter() - began

        out, start, latency = run_coroutine(go)
    else:
        start = time.perf_counter()
        out = app.invoke(inputs, config)
        latency = time.perf_counter() - start
    # Tasks ready at their ``)``, with their tools: the bound holds for both dispatch rules.
    rounds = ideal_rounds(case, env.profile, env.timings, _inputs(planner), _inputs(joiner))
    fused = {"search"} if variant in FUSED else set()
    limits = Limits(env.limits.max_concurrency) if variant == "unlimited" else env.limits
    bound = limited_bound(rounds, limits, fused)
    replay = list_schedule(
        rounds,
        limits,
        priority="fifo" if variant == "fifo" else "critical_path",
        fused=fused,
        batch_extra_s=BATCH_EXTRA_S,
        whole_plan=variant == "fused_plan",
    )
    served = served_calls(case, bench.calls)
    calls, inp, outp = model_calls(planner, joiner)
    return LimitRun(
        case.workload,
        case.id,
        "llmcompiler",
        variant,
        path,
        latency,
        bound.makespan,
        ", ".join(dict.fromkeys(bound.binding)),
        replay.makespan,
        str(out["messages"][-1].content),
        case.answer,
        calls,
        inp,
        outp,
        **tool_figures(case, bench),
        dispatch_ms=dispatch_latencies(
            case,
            planner.chunk_times,
            {i: c.start for i, c in served.items()},
            handed.times if handed is not None else None,
        ),
        timeline=timeline(case, start, planner, joiner, served, replay.tasks, replay.makespan),
        checkpointer=checkpointer,
    )
